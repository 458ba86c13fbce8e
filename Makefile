# Two commands on a fresh machine (Python 3.11 and make): `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test test-postgres test-kill test-browser test-clients bench install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

run: $(STAMP)
	$(BIN)/vigil migrate
	$(BIN)/vigil demo --first-run
	$(BIN)/vigil serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	$(BIN)/pytest -q

# The same suite on PostgreSQL (pytest-django creates test_<db> on that server), less the tests
# that run a `vigil serve` on its own SQLite file: they would only run again what `make test` ran.
test-postgres: $(STAMP)
	VIGIL_TEST_DATABASE_URL=$${VIGIL_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} \
		$(BIN)/pytest -q -m 'not browser and not clients and not kill and not serve'

# Two `vigil worker`s page 300 incidents through 3 levels while one is SIGKILLed again and again.
test-kill: $(STAMP)
	VIGIL_TEST_DATABASE_URL=$${VIGIL_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} $(BIN)/pytest -q -s -m kill tests/kill

# Playwright drives Debian's Chromium (/usr/bin/chromium) against a real `vigil serve`.
test-browser: $(STAMP)
	$(BIN)/pytest -q -m browser

# Real clients (Debian's Alertmanager, PyPI pdpyras and pagerduty) against a real `vigil serve`.
test-clients: $(STAMP)
	$(BIN)/pytest -q -m clients tests/clients

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var
