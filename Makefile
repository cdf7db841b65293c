# copub: `make run` serves, `make test` checks everything. Both set up what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# The Fedify peer of the interop tests (tests/interop): its npm packages, from the lockfile.
INTEROP := tests/interop
INTEROP_STAMP := $(INTEROP)/node_modules/.installed-$(shell cat $(INTEROP)/package-lock.json | cksum | cut -d' ' -f1)

.PHONY: run test lint typecheck contracts pytest interop-deps bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/copub migrate
	$(BIN)/copub serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

$(INTEROP_STAMP): $(INTEROP)/package-lock.json $(INTEROP)/package.json
	npm ci --prefix $(INTEROP) --no-audit --no-fund --loglevel=error
	touch $(INTEROP_STAMP)

# npm ci when npm exists and the packages are missing or older than the lockfile. Without
# npm the interop tests skip, except under CI=true, where npm is required.
interop-deps:
	@if command -v npm >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory -q $(INTEROP_STAMP) || $(MAKE) --no-print-directory $(INTEROP_STAMP); \
	elif [ "$$CI" = "true" ]; then \
		echo "npm is required in CI for the Fedify interop tests ($(INTEROP))" >&2; exit 1; \
	else \
		echo "npm not found: the Fedify interop tests ($(INTEROP)) will skip"; \
	fi

pytest: $(STAMP) interop-deps
	$(BIN)/pytest -q

test: lint typecheck contracts pytest

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache $(INTEROP)/node_modules
