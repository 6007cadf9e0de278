# One command each, on a fresh Debian/Ubuntu machine (or macOS with Homebrew's pango):
#   make sample   set up, then archive the sample encrypted backup in examples/
#   make test     set up, then run ruff, mypy and the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup system-deps sample test lint

setup: system-deps $(STAMP)

system-deps:
	@bash .ci/system-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

# The sample backup is encrypted with the real 10,000,000-round key derivation; its
# password is in examples/sample-password.txt (and in README.md). Git does not keep the
# file's 0600 mode, and coldtexts refuses password files others can read, hence chmod.
sample: setup
	chmod 600 examples/sample-password.txt
	$(BIN)/coldtexts export examples/sample-backup --out sample-archive \
		--password-file examples/sample-password.txt
	@echo "Open sample-archive/index.html in a browser."

lint: setup
	$(BIN)/ruff check src exporters tests benchmarks examples
	$(BIN)/mypy

# The whole suite, slow tests included (the 25-kill crash test): about 2.5 minutes here.
# `.venv/bin/pytest -m "not slow"` skips those while developing.
test: lint
	$(BIN)/pytest -q -n 2
