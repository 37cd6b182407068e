# `make run`: set up and serve the API and the back office on the embedded SQLite database (nothing else
#   needed), filled with demo data the first time.
# `make test`: mypy, then the whole suite on SQLite, then on PostgreSQL when one answers (required when CI=true);
#   the back office's browser tests run in both, in Debian's headless Chromium (installed when missing).
# `make simulate`: a synthetic population played through the built-in scenarios, their KPIs printed.
# `make bench`: the till load benchmark against gunicorn + PostgreSQL (bench/README.md).
# `make bench-scenarios`: the scenario scans over a million members and the SMTP send path.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TEST_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
LOYALTY_TEST_DATABASE_URL ?=
HOST ?= 127.0.0.1
PORT ?= 5000
SIMULATE_ARGS ?= --members 1000 --days 60 --seed 1
DEMO_ARGS ?= --members 150 --days 30 --seed 1

.PHONY: install browser run simulate test typecheck test-sqlite test-postgres bench bench-scenarios clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

# Debug mode; the development signing key of instance/ is generated once unless LOYALTY_JWT_SECRET_KEY
# is set (README, "Configuration"): the commands below and those of the README in another shell share it.
run: export FLASK_DEBUG = 1
run: install
	$(BIN)/flask --app wsgi loyalty init
	@echo "Demo admin client (a new secret each run):"
	@$(BIN)/flask --app wsgi loyalty create-client demo-admin --role admin --replace
	@# Demo members, purchases and messages, only in the embedded database (once: it has members after);
	@# it prints a member to search for.
	@if [ -z "$$LOYALTY_DATABASE_URL" ]; then $(BIN)/flask --app wsgi loyalty demo-data $(DEMO_ARGS); fi
	@echo "Back office: http://$(HOST):$(PORT)/admin/ - demo admin login (a new password each run):"
	@$(BIN)/flask --app wsgi loyalty create-staff admin@example.com --role admin --name "Demo admin" --reset
	@# The scheduler (scenarios, messages, expiry) runs inside the development server.
	LOYALTY_RUN_SCHEDULER=1 $(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

# On a temporary SQLite database; debug mode, as for `make run`.
simulate: export FLASK_DEBUG = 1
simulate: install
	$(BIN)/flask --app wsgi loyalty simulate $(SIMULATE_ARGS)

# The browser tests drive Debian's headless Chromium through Playwright (tests/browser).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium) \
		|| { echo "chromium is needed for the browser tests: apt-get install chromium" >&2; exit 1; }

test: install browser
	$(MAKE) --no-print-directory typecheck
	$(MAKE) --no-print-directory test-sqlite
	@url="$(LOYALTY_TEST_DATABASE_URL)"; \
	if [ -z "$$url" ] && $(BIN)/python -c "import psycopg; psycopg.connect('$(TEST_PG_URL)'.replace('+psycopg', ''), connect_timeout=3).close()" 2>/dev/null; then \
		url="$(TEST_PG_URL)"; \
	fi; \
	if [ -n "$$url" ]; then \
		$(MAKE) --no-print-directory test-postgres LOYALTY_TEST_DATABASE_URL="$$url"; \
	elif [ "$$CI" = "true" ]; then \
		echo "CI=true but PostgreSQL does not answer at $(TEST_PG_URL): the concurrency tests cannot run" >&2; exit 1; \
	else \
		echo "PostgreSQL not reachable: ran on SQLite only (set LOYALTY_TEST_DATABASE_URL to add it)"; \
	fi

# The packages and settings are in pyproject.toml ([tool.mypy]).
typecheck: install
	@echo "== type check"
	$(BIN)/mypy

test-sqlite: install browser
	@echo "== test suite on SQLite"
	LOYALTY_TEST_DATABASE_URL= $(BIN)/python -m pytest -q -p no:cacheprovider

test-postgres: install browser
	@echo "== test suite on PostgreSQL"
	LOYALTY_TEST_DATABASE_URL="$(LOYALTY_TEST_DATABASE_URL)" $(BIN)/python -m pytest -q -p no:cacheprovider

# `make bench BENCH_ARGS="--duration 60"`: see bench/README.md. wrk and tcpdump are Debian packages.
bench: install
	@(command -v wrk && command -v tcpdump) >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk tcpdump) \
		|| { echo "wrk and tcpdump are needed: apt-get install wrk tcpdump" >&2; exit 1; }
	$(BIN)/python -m bench.till_load $(BENCH_ARGS)

# The scans over 1,000,000 members and the SMTP send path (bench/README.md, "Scenarios").
bench-scenarios: install
	$(BIN)/python -m bench.scenario_scan
	$(BIN)/python -m bench.send_path

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache
