# MoneyBot: `make run` starts the bot, `make test` runs the whole suite, `make bench` the benchmarks.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench lint install clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/moneybot run

test: $(STAMP)
	@bash .ci/services.sh > $(VENV)/.services.env; . $(VENV)/.services.env; \
	$(VENV)/bin/ruff check . && $(VENV)/bin/lint-imports && \
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) bench/ingest.py
	$(PY) bench/analyse.py
	$(PY) bench/analysis_pure.py
	$(PY) bench/charts_bench.py
	$(PY) bench/sim_speed.py
	$(PY) -m bench.execution_bench
	$(PY) bench/backtest.py
	$(PY) bench/ai.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) build *.egg-info
