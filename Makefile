# DHR case management: `make run` and `make test` each do their own set-up on a fresh machine
# (Debian: needs only python3 and make; `make test` also uses PostgreSQL when it is installed).
#
#   make run                                   migrate, load demo data if the database is new, serve on :8000
#   make test                                  whole suite on SQLite and PostgreSQL
#   make test PYTEST_ARGS="-k deadlines -x"    pass arguments to pytest
#   make bench                                 the national benchmark in PostgreSQL (about 8 min; ARGS=--quick: 2 min)
#   make bench-documents                       time the largest Overview Report (a benchmark, not a test)
#   make templates                             rebuild docx_templates/ from scripts/build_docx_templates.py
#   make clean                                 remove var/ and test leftovers (keeps .venv)

SHELL = /bin/sh
PYTHON = python3
VENV = .venv
PY = $(VENV)/bin/python
DHR = $(VENV)/bin/dhr
STAMP = $(VENV)/.installed
# PYTEST_ARGS: extra pytest arguments, from the command line or the environment (empty by default).

.PHONY: venv run test clean bench bench-documents templates

venv: $(STAMP)

# Re-installs when pyproject.toml changes. An existing .venv is reused, never recreated.
$(STAMP): pyproject.toml
	@if [ ! -d $(VENV) ]; then \
	    echo "make: creating virtual environment $(VENV) ($(PYTHON) -m venv $(VENV))"; \
	    if ! $(PYTHON) -m venv $(VENV); then \
	        rm -rf $(VENV); \
	        echo ""; \
	        echo "make: ERROR: '$(PYTHON) -m venv' failed. On Debian/Ubuntu install the venv module first:"; \
	        echo "make:     sudo apt-get install python3-venv"; \
	        echo "make: then run make again."; \
	        exit 1; \
	    fi; \
	elif [ ! -x $(PY) ]; then \
	    echo "make: ERROR: $(VENV) exists but has no bin/python (half-made, or still being made by another process)."; \
	    echo "make: if nothing else is creating it: rm -rf $(VENV) && make venv"; \
	    exit 1; \
	else \
	    echo "make: reusing virtual environment $(VENV)"; \
	fi
	@if ! $(PY) -m pip --version >/dev/null 2>&1; then \
	    echo "make: ERROR: $(VENV) has no pip (created without the venv module's ensurepip?)."; \
	    echo "make:     sudo apt-get install python3-venv && rm -rf $(VENV) && make venv"; \
	    exit 1; \
	fi
	@echo "make: upgrading pip"
	$(PY) -m pip install --quiet --upgrade pip
	@echo "make: installing the dhr package and its dev extras (pip install -e '.[dev]')"
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)
	@echo "make: $(VENV) is ready"

run: $(STAMP)
	@mkdir -p var
	@echo "make: applying database migrations (dhr migrate)"
	$(DHR) migrate
	@echo "make: loading demo data if the database is new (dhr demo --if-new)"
	$(DHR) demo --if-new
	@echo "make: serving on http://127.0.0.1:8000 (Ctrl-C to stop)"
	$(DHR) serve --host 127.0.0.1 --port 8000

# Runs the whole suite once; tests that need PostgreSQL read DHR_TEST_POSTGRES_URL.
# The throwaway cluster is stopped even when pytest fails or is interrupted, and
# make's exit status is pytest's.
test: $(STAMP)
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	    echo "make: starting a throwaway PostgreSQL cluster (scripts/test-postgres start)"; \
	    pg_env=`scripts/test-postgres start` || { echo "make: ERROR: could not start PostgreSQL for the tests (see messages above)"; exit 1; }; \
	    pg_url=`printf '%s\n' "$$pg_env" | sed -n 's/^DHR_TEST_POSTGRES_URL=//p'`; \
	    pg_dir=`printf '%s\n' "$$pg_env" | sed -n 's/^DHR_TEST_POSTGRES_DIR=//p'`; \
	    trap 'echo "make: stopping the test PostgreSQL cluster"; scripts/test-postgres stop "$$pg_dir"' EXIT; \
	    trap 'exit 130' INT; trap 'exit 143' TERM; \
	    echo "make: running pytest on SQLite and PostgreSQL ($$pg_url)"; \
	    DHR_TEST_POSTGRES_URL="$$pg_url"; export DHR_TEST_POSTGRES_URL; \
	    rc=0; $(PY) -m pytest $(PYTEST_ARGS) || rc=$$?; \
	    echo "make: pytest exited with status $$rc"; \
	    exit $$rc; \
	elif [ "$${CI:-}" = true ]; then \
	    echo "make: ERROR: CI=true but PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)."; \
	    echo "make: CI must test on PostgreSQL too: apt-get install postgresql"; \
	    exit 1; \
	else \
	    echo "make: PostgreSQL is not installed: running on SQLite only; PostgreSQL tests are SKIPPED."; \
	    echo "make: to test on PostgreSQL as well: sudo apt-get install postgresql"; \
	    unset DHR_TEST_POSTGRES_URL; \
	    rc=0; $(PY) -m pytest $(PYTEST_ARGS) || rc=$$?; \
	    echo "make: pytest exited with status $$rc (SQLite only; PostgreSQL tests skipped)"; \
	    exit $$rc; \
	fi

# The load tool (Locust) is an extra of its own: only the benchmark needs it.
BENCH_STAMP = $(VENV)/.installed-bench
$(BENCH_STAMP): $(STAMP)
	@echo "make: installing the benchmark's extras (pip install -e '.[dev,bench]')"
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(PY) benchmarks/run.py $(ARGS)

bench-documents: $(STAMP)
	$(PY) benchmarks/documents.py

templates: $(STAMP)
	$(PY) scripts/build_docx_templates.py

clean:
	@echo "make: removing var/, .pytest_cache/, .hypothesis/ and __pycache__/ (keeping $(VENV))"
	rm -rf var .pytest_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
