# The README's two commands: `make demo` (load the sample offices, serve API + web page) and
# `make test` (ruff, mypy --strict, pytest). Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install bytecode demo test lint typecheck browser es bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP) bytecode

# Where the environment sets PYTHONDONTWRITEBYTECODE (this project's machines and CI do), Python
# never caches the project's compiled modules, and every `suspects` process compiled about 80 of
# them again: 0.18 s of a 1.1 s `suspects search` (10 runs each), and the test suite starts
# hundreds of them (tests/test_cli.py, SQLite half: 132.8 / 107.1 s → 101.0 / 96.4 s). compileall
# writes them once and skips those already up to date.
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q -j 0 api indexer search tests bench

demo: $(STAMP) bytecode
	$(BIN)/suspects demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The browser tests drive Debian's chromium (with CJK fonts, so Chinese renders in screenshots).
# Installed where apt-get can as root; elsewhere the tests skip and say why.
BROWSER_PKGS := chromium fonts-noto-cjk
browser:
	@missing=$$(for p in $(BROWSER_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
			echo "installing $$missing (for the browser tests)"; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) >/dev/null 2>&1 \
				|| echo "could not install $$missing: the browser tests will be skipped"; \
		else echo "no root apt-get: the browser tests will be skipped unless chromium is installed"; fi; \
	fi

# The suite runs on both backends. Where Java 17+ and Maven are (or the distribution is cached), a
# real single-node Elasticsearch is started for the run (tests/es_harness.py) and SUSPECTS_ES_URL is
# exported to pytest; elsewhere the Elasticsearch half skips with the reason, and fails instead
# when SUSPECTS_REQUIRE_ES=1 (CI).
test: lint typecheck browser bytecode
	@if [ -z "$$SUSPECTS_ES_URL" ] && $(BIN)/python -m tests.es_harness check; then \
		$(BIN)/python -m tests.es_harness run -- $(BIN)/pytest; \
	else $(BIN)/pytest; fi

# A real Elasticsearch for manual use: prints its URL; Ctrl-C stops it and removes its data.
es: $(STAMP)
	$(BIN)/python -m tests.es_harness serve

bench: $(STAMP)
	$(BIN)/python bench/accuracy.py
	$(BIN)/python bench/speed.py

clean:
	rm -rf $(VENV) var test-output .mypy_cache .ruff_cache .pytest_cache .cache
