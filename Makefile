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

# The venv is (re)built when the requirements change. Its bytecode is compiled at install (pip
# does it by default, uv with --compile-bytecode): where PYTHONDONTWRITEBYTECODE is set, every
# Python process — the tests' workers, gunicorn, flask commands — would otherwise compile
# Flask, SQLAlchemy, ReportLab and pyHanko from source again (about a second each).
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

# A catalogue is compiled when its .po is newer than its .mo (two `make test` at once, as in
# .ci/run, then never rewrite a .mo that the other is reading).
CATALOGS := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))
translations: $(CATALOGS)
translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po | $(STAMP)
	@$(BIN)/pybabel -q compile -d translations -l $*

run: $(STAMP) system-deps translations
	PORT=$(PORT) $(BIN)/python run.py

# The app's own bytecode first, for the same reason as the venv's (-q: silent; only changed files).
test: $(STAMP) system-deps translations
	@$(BIN)/python -m compileall -q -j 0 app.py config.py run.py workflow pdf notify forms web
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
