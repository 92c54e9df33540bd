# DHR case management: one image for the web app, the migration job and the sweep worker.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

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
