# DHR case management: one image for the web app, the migration job and the sweep worker.
# Debian 12 (bookworm), as CI: its postgresql-client-15 matches the postgres:15 server of
# docker-compose.yml (`dhr backup` and `dhr restore` need pg_dump/pg_restore/psql no older than the
# server), and LibreOffice Writer makes the PDF copies of documents (app/documents/pdf.py).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    MALLOC_ARENA_MAX=2

# fonts-liberation2: metric-compatible with Arial, the templates' font, so PDFs keep Word's layout.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client-15 libreoffice-writer-nogui fonts-liberation2 \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --create-home --home-dir /home/dhr --uid 10001 --user-group dhr

WORKDIR /app
# The whole source tree (see .dockerignore): the package plus alembic.ini, migrations/, workflows/
# and docx_templates/, which the app reads from here. PYTHONPATH=/app makes `import app` load this
# copy, so paths relative to the package find those folders.
COPY . .
RUN pip install . \
    && mkdir -p /app/var \
    && chown dhr:dhr /app/var

USER dhr
EXPOSE 8000
CMD ["dhr", "serve", "--host", "0.0.0.0", "--port", "8000"]
