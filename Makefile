# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install browser postgres demo test bench faults clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install -q -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

# The demo needs autotrack and scikit-learn only (its own venv, a minute to install), not the
# test extra (torch, MLflow, a browser driver: gigabytes).
DEMO_VENV ?= .venv-demo
DEMO_PY := $(DEMO_VENV)/bin/python
demo:
	test -x $(DEMO_PY) || $(PYTHON) -m venv $(DEMO_VENV)
	test $(DEMO_VENV)/.installed -nt pyproject.toml || { \
	  $(DEMO_PY) -m pip install -q --upgrade pip && \
	  $(DEMO_PY) -m pip install -q -e ".[sklearn,cli]" pandas && touch $(DEMO_VENV)/.installed; }
	rm -rf examples/.autotrack
	cd examples && AUTOTRACK=1 ../$(DEMO_PY) quickstart.py
	cd examples && ../$(DEMO_VENV)/bin/autotrack runs

# The dashboard's browser tests drive Debian's Chromium (Playwright cannot download a browser here).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

# The team-server tests start a private PostgreSQL server from Debian's binaries.
postgres:
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql; }

test: install browser postgres
	$(PY) -m pytest -q

# The benchmark has its own venv, so that MLflow (its comparison) never lands in the test venv.
BENCH_VENV ?= .venv-bench
bench: browser
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	test $(BENCH_VENV)/.installed -nt pyproject.toml || { \
	  $(BENCH_VENV)/bin/python -m pip install -q --upgrade pip && \
	  $(BENCH_VENV)/bin/python -m pip install -q -e ".[test]" mlflow fakeredis && \
	  touch $(BENCH_VENV)/.installed; }
	$(BENCH_VENV)/bin/python benchmarks/run.py
	$(BENCH_VENV)/bin/python benchmarks/frameworks.py
	$(BENCH_VENV)/bin/python benchmarks/backends.py
	$(BENCH_VENV)/bin/python benchmarks/ui.py
	$(BENCH_VENV)/bin/python benchmarks/openmp.py
	$(BENCH_VENV)/bin/python benchmarks/suites.py
	$(BENCH_VENV)/bin/python benchmarks/faults.py
	$(BENCH_VENV)/bin/python benchmarks/serving.py
	$(BENCH_VENV)/bin/python benchmarks/registry.py
	$(BENCH_VENV)/bin/python benchmarks/scale.py
	$(BENCH_VENV)/bin/python benchmarks/engines.py

# The fault campaign alone (kill -9, forks, a locked store, a full disk): ~10 minutes.
faults: install
	$(PY) benchmarks/faults.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) $(DEMO_VENV) build *.egg-info examples/.autotrack
