# Monev KIM. `make run` and `make test` work from a fresh clone with Python 3.11+ alone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app monev
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test lint format install install-dev translations compile-translations bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## run: install, migrate, load the demo into an empty database, serve on http://127.0.0.1:5000
## with one background-job worker beside the server (stopped with it)
run: install compile-translations
	$(FLASK) db upgrade
	$(FLASK) demo --if-empty
	@echo
	@$(FLASK) demo-logins
	@echo
	$(FLASK) worker & worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(FLASK) serve --host $(HOST) --port $(PORT)

## test: lint and the whole test suite, one worker per core (browser tests need Chromium;
## CI=true requires them)
PYTEST_PARALLEL ?= -n auto --dist worksteal
test: install-dev compile-translations
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest $(PYTEST_PARALLEL)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## translations: extract msgids and update the catalogs (then translate translations/id)
translations: install-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 -o translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching

compile-translations: install
	$(BIN)/pybabel compile -d translations --statistics 2>&1 | grep -v '^$$' || true

## bench: every script in bench/ (each exits 1 on a missed target), with short runs where a
## script's defaults are the full figures of bench/RESULTS.md (BENCH_ARGS_<name> below)
BENCH_ARGS_load        ?= --mix judging --mix results --seconds 20 --url-seconds 4
BENCH_ARGS_results_day ?= --seconds 4
BENCH_ARGS_judging     ?= --seconds 10 --trivial-seconds 4
BENCH_ARGS_visit_sync  ?= --photos 3 --mb 0.5 --kbps 2000
bench: install-dev
	@$(foreach script,$(sort $(wildcard bench/*.py)),echo "== $(script) $(BENCH_ARGS_$(basename $(notdir $(script))))" && $(BIN)/python $(script) $(BENCH_ARGS_$(basename $(notdir $(script)))) && ) true

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
