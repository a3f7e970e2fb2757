# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: run test migrate demo migrations system-deps system-deps-run js-deps bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

## make run: install, migrate the embedded SQLite database under var/, serve on http://127.0.0.1:8000
run: $(VENV)/.installed system-deps-run
	$(BIN)/groupipt serve --host $(HOST) --port $(PORT)

## make test: install (Python packages, Debian chromium, ical.js), then run the whole suite
test: $(VENV)/.installed system-deps js-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

migrate: $(VENV)/.installed
	$(BIN)/groupipt migrate

demo: $(VENV)/.installed
	$(BIN)/groupipt demo

## make migrations: add the next migrations/000N_*.py for what the models changed (never deletes one:
## 0002 onward move data that a regenerated 0001 would not)
migrations: $(VENV)/.installed
	GROUPIPT_VAR_DIR=$$(mktemp -d) $(BIN)/tortoise makemigrations

system-deps:
	@bash scripts/install-system-deps

system-deps-run:
	@bash scripts/install-system-deps --runtime

js-deps: tests/js/node_modules/.installed

tests/js/node_modules/.installed: $(wildcard tests/js/package.json tests/js/package-lock.json)
	@if [ -f tests/js/package.json ]; then npm ci --silent --prefix tests/js --no-audit --no-fund && touch $@; fi

bench: $(VENV)/.installed
	$(BIN)/python bench/feeds.py
	$(BIN)/python bench/board.py

clean:
	rm -rf $(VENV) build *.egg-info tests/js/node_modules
