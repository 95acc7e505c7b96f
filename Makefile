# Candid — every target sets up what it needs, so each works as the first command on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
SERVE ?= 1
HOST ?= 127.0.0.1
PORT ?= 8000
export DJANGO_SETTINGS_MODULE ?= config.settings.local

.PHONY: help setup demo serve test test-sqlite test-postgres lint bench fuzz load faults browser java lock clean messages pdf

help:
	@echo "make demo     set up, load the shipped study and serve it on http://$(HOST):$(PORT) (SERVE=0: set up only)"
	@echo "make test     the whole test suite on SQLite and on PostgreSQL, browser tests included"
	@echo "make lint     ruff, Django's deployment checks and a dependency audit"
	@echo "make serve    serve the site with the production-style server"
	@echo "make bench    the benchmarks in bench/ (not part of make test)"
	@echo "make fuzz     every fuzz test with 10,000 generated cases each (make test runs 500)"
	@echo "make load     200 participants for 2 minutes on PostgreSQL, then consistency and anonymity checks"
	@echo "make faults   the same with a PostgreSQL restart and a killed web worker halfway"

$(STAMP): requirements.lock pyproject.toml
	@echo "Setting up .venv with Candid's pinned dependencies (the first time takes a few minutes)..."
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Candid needs Python 3.12 or newer; found " + sys.version.split()[0])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --progress-bar on -r requirements.lock
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

# Translations: every .po under locale/ compiled to its .mo (gettext's msgfmt, installed when missing).
PO_FILES := $(wildcard locale/*/LC_MESSAGES/django.po)
MO_FILES := $(PO_FILES:.po=.mo)

%.mo: %.po
	@if ! command -v msgfmt >/dev/null 2>&1; then \
		echo "Installing gettext (msgfmt compiles the translations)..."; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq gettext >/dev/null; \
	fi
	msgfmt --check-format -o $@ $<

# PDF reports: WeasyPrint draws them with Pango (its only system libraries, per its Debian install
# notes) and needs fonts with Latin and Chinese glyphs; installed when missing.
PDF_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-wqy-microhei

pdf:
	@if ! ldconfig -p 2>/dev/null | grep -q "libpangoft2-1.0.so.0" \
		|| ! fc-list 2>/dev/null | grep -qi "wenquanyi\|noto.*cjk" || ! fc-list 2>/dev/null | grep -qi "dejavu sans"; then \
		echo "Installing Pango and fonts for the PDF reports ($(PDF_PACKAGES))..."; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(PDF_PACKAGES) >/dev/null; \
	fi

READY := $(STAMP) $(MO_FILES) pdf

setup: $(READY)

# After changing words in code or templates: refresh locale/*/django.po, then fill in the new msgstr.
messages: $(STAMP)
	$(PY) manage.py makemessages -l zh_Hans --no-location --no-obsolete \
		--ignore=.venv --ignore=tests --ignore=bench --ignore=var --ignore=demo-output --ignore=test-output

# Playwright cannot download its own browser here: use Debian's Chromium.
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|noto.*cjk"; then \
		echo "Installing Debian's chromium (and a CJK font for legible screenshots) for the browser tests..."; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
	fi

# ODK Validate (shipped with pyxform) is a Java program: the XLSForm interoperability tests run it.
java:
	@if ! command -v java >/dev/null 2>&1; then \
		echo "Installing Debian's default-jre-headless for ODK Validate (the XLSForm interoperability tests)..."; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq default-jre-headless >/dev/null; \
	fi

DEMO_N ?= 1000
DEMO_OUT ?= demo-output

demo: $(READY)
	@start=$$(date +%s); set -e; \
	echo "[1/5] Preparing the database..."; \
	$(PY) manage.py migrate --noinput -v0; \
	echo "[2/5] Demo staff accounts (demo only; new passwords every run):"; \
	accounts=$$($(PY) manage.py demo_accounts); echo "$$accounts"; \
	echo "[3/5] Loading the shipped study..."; \
	$(PY) manage.py load_study --owner demo-admin --member demo-researcher:researcher --member demo-analyst:analyst; \
	echo "[4/5] Sending $(DEMO_N) synthetic respondents per sample through the participant pages..."; \
	$(PY) manage.py simulate_respondents trust-and-rating-systems -n $(DEMO_N) --seed 2017 --top-up --progress; \
	echo "[5/5] Writing the claims report (SYNTHETIC data) to $(DEMO_OUT)/..."; \
	$(PY) manage.py claims_report trust-and-rating-systems -o $(DEMO_OUT) --weights analysis/claims/margins_china_2020.csv --pdf; \
	echo "Demo set-up took $$(( $$(date +%s) - start )) s (after dependencies were installed)."; \
	echo; \
	echo "  Participant link (mainland sample, Chinese):  http://$(HOST):$(PORT)/s/trust-and-rating-systems/"; \
	echo "  Participant link (Western sample, English):   http://$(HOST):$(PORT)/s/trust-and-rating-systems/west/"; \
	echo "  Monitoring, report and exports:               http://$(HOST):$(PORT)/studies/trust-and-rating-systems/"; \
	echo "  Claims report as files (SYNTHETIC data):      $(abspath $(DEMO_OUT))/claims.html, claims.json and claims.pdf"; \
	echo "  Admin (superusers only):                      http://$(HOST):$(PORT)/admin/"; \
	echo; \
	echo "  The researcher's workbench:  http://$(HOST):$(PORT)/studio/"; \
	echo "$$accounts" | awk '$$1 == "demo-researcher" {print "  Sign in as " $$1 " with password " $$3}' 
	@if [ "$(SERVE)" = "1" ]; then $(MAKE) --no-print-directory serve; fi

# Served without Django's debug pages (a visitor at an unknown address would see every URL pattern);
# DJANGO_DEBUG=1 make serve brings them back for development.
serve: $(READY)
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py collectstatic --noinput -v0
	@# The background worker for long exports runs beside the web server and stops with it.
	@$(PY) manage.py db_worker --no-startup-delay > var/worker.log 2>&1 & worker=$$!; \
	trap "kill $$worker 2>/dev/null" EXIT INT TERM; \
	DJANGO_DEBUG=$${DJANGO_DEBUG:-0} $(VENV)/bin/gunicorn config.wsgi -c config/gunicorn.py --bind $(HOST):$(PORT)

# Each pass takes 12 to 15 minutes on 2 cores (each prints its 25 slowest tests); a pass that runs
# past TEST_LIMIT seconds is stopped, so a hang fails the run with the stacks printed by
# pytest-timeout and faulthandler instead of holding it.
TEST_LIMIT ?= 1800
LIMIT = timeout --kill-after=30 $(TEST_LIMIT)

# The two passes share nothing (a temporary SQLite file; PostgreSQL's test database), so they run side
# by side, one per core; each prints its report when it finishes.
test: $(READY) browser java
	@echo "=== Running the SQLite and PostgreSQL passes side by side (each prints when it finishes) ==="
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres SPLIT=1

# With SPLIT=1 (as make test runs them) the tests that touch no database (the analysis package,
# expressions, XLSForm parsing: about 70 % of the tests) are shared out by a hash of their names,
# half to each pass, instead of running twice (tests/conftest.py, CANDID_DB_FREE_SHARE). Every
# test that touches a database runs in both passes, except the long attacks marked one_database
# (one pass only: PostgreSQL's, or SQLite's for one_database(share=0)); without SPLIT a pass runs everything.
SHARE = $(if $(SPLIT),CANDID_DB_FREE_SHARE=$(1)/2)

test-sqlite: $(READY) java
	@echo "=== Test suite on SQLite ==="
	$(LIMIT) env -u DATABASE_URL -u DJANGO_SETTINGS_MODULE $(call SHARE,0) $(PY) -m pytest -p no:cacheprovider --durations=25

test-postgres: $(READY) java
	@echo "=== Test suite on PostgreSQL ($(PG_URL)) ==="
	@if ! $(PY) bin/pg_ready.py "$(PG_URL)"; then \
		if [ -n "$$CI" ]; then echo "PostgreSQL is not answering and CI must not skip it." >&2; exit 1; fi; \
		echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
		echo "!!! SKIPPING the PostgreSQL run: no server answers at $(PG_URL)"; \
		echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
		if [ -n "$(SPLIT)" ]; then \
			echo "=== This pass's share of the tests that touch no database ==="; \
			$(LIMIT) env -u DATABASE_URL -u DJANGO_SETTINGS_MODULE $(call SHARE,1) CANDID_DB_TESTS=0 \
				$(PY) -m pytest -p no:cacheprovider --durations=25 -m "not browser"; \
		fi; \
	else \
		$(LIMIT) env -u DJANGO_SETTINGS_MODULE DATABASE_URL="$(PG_URL)" $(call SHARE,1) \
			$(PY) -m pytest -p no:cacheprovider --durations=25 -m "not browser"; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_SECRET_KEY="lint-$$(head -c 48 /dev/urandom | base64 | tr -d '/+=')" \
		CANDID_RECEIPT_KEY=lint-receipt-key $(PY) manage.py check --deploy --fail-level WARNING
	$(VENV)/bin/pip-audit --progress-spinner off -r requirements.lock --disable-pip --no-deps

bench: $(READY)
	@for script in bench/bench_*.py; do echo "=== $$script"; $(PY) $$script || exit 1; done

fuzz: $(READY)
	$(PY) bench/fuzz.py --examples 10000

# By hand, not in make test: 200 participants for 2 minutes against gunicorn on PostgreSQL, then checks.
load: $(READY)
	$(PY) bench/load.py --participants 200 --seconds 120

# The same, restarting PostgreSQL and killing a gunicorn worker halfway through.
faults: $(READY)
	$(PY) bench/load.py --participants 200 --seconds 120 --faults

lock: $(STAMP)
	@(echo "# Pinned versions of every dependency (runtime and development), generated with pip freeze from"; \
	  echo "# the ranges in pyproject.toml. Regenerate: make lock"; \
	  $(PY) -m pip freeze | grep -v '^-e') > requirements.lock

clean:
	rm -rf $(VENV) var test-output demo-output .pytest_cache .ruff_cache .hypothesis
