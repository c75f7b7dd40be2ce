# Chengbao — two commands for a fresh machine: `make run` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PORT    ?= 5000

.PHONY: run test lint bench system-deps translations clean

# uv (from PyPI, pinned in requirements-dev.txt) installs the requirements several times faster
# than pip; plain pip when uv cannot be installed, or with `make UV=no …`. Both compile the
# bytecode at install (pip does by default, uv with --compile-bytecode): otherwise every process
# of `make run` compiles what it imports, at every start where PYTHONDONTWRITEBYTECODE is set.
UV      ?= yes

# The venv is (re)built when the requirements change.
$(STAMP): requirements.txt requirements-dev.txt
	$(PY) -m venv $(VENV)
	@if [ "$(UV)" != no ] && $(BIN)/pip install --quiet "$$(grep -o '^uv==[^ ]*' requirements-dev.txt)"; then \
		echo "installing the requirements with uv"; \
		$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements-dev.txt; \
	else \
		echo "installing the requirements with pip"; \
		$(BIN)/pip install --quiet --upgrade pip && $(BIN)/pip install --quiet -r requirements-dev.txt; \
	fi
	touch $(STAMP)

# Fonts for the PDFs and poppler for checking them (Debian packages). Installed when
# missing and we are root; otherwise a clear message names them.
system-deps:
	@bash scripts/system-deps.sh

translations: $(STAMP)
	@$(BIN)/pybabel -q compile -d translations

run: $(STAMP) system-deps translations
	PORT=$(PORT) $(BIN)/python run.py

test: $(STAMP) system-deps translations
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# ruff (ruff.toml) and mypy (mypy.ini: workflow/, pdf/, notify/).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP) translations
	@WITH_WRK=1 bash scripts/system-deps.sh
	@$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance/*.sqlite3*
