# The contributor's interface: `make run` starts the app, `make test` runs
# every check. Both work on a fresh clone, as root, with no standard input.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DB := $(or $(CHANGEBOARD_DB),changeboard.duckdb)
PORT ?= 8501
# where `make run` listens: this machine only unless told (HOST=0.0.0.0), and
# the host names browsers may use to reach it, comma-separated (add the
# server's name when serving the network; any other Host is refused)
HOST ?= 127.0.0.1
ALLOWED_HOSTS ?= localhost,127.0.0.1
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: run serve sample test lint bench bench-serve chromium nginx jemalloc \
	clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# one process (laptop mode without sign-in: refuses any HOST but this
# machine's unless sign-in is configured or CHANGEBOARD_OPEN_DEPLOYMENT=1);
# the production options are deploy/streamlit.toml (changeboard/serve.py)
run: $(VENV)/.installed
	CHANGEBOARD_DB="$(DB)" $(PY) -m changeboard.serve run --host $(HOST) \
		--port $(PORT) --allowed-hosts $(ALLOWED_HOSTS)

# a team service: REPLICAS app processes on 127.0.0.1:FIRST_PORT... behind
# nginx on LISTEN (docs/deploy.md; needs sign-in to listen beyond this
# machine), for the host names SERVER_NAME (space-separated; unset: any Host)
REPLICAS ?= $(or $(CHANGEBOARD_REPLICAS),2)
FIRST_PORT ?= 8601
LISTEN ?= 127.0.0.1:8500
SERVER_NAME ?=
serve: $(VENV)/.installed nginx jemalloc
	CHANGEBOARD_DB="$(DB)" $(PY) -m changeboard.serve serve --listen $(LISTEN) \
		--replicas $(REPLICAS) --first-port $(FIRST_PORT) \
		--allowed-hosts $(ALLOWED_HOSTS) \
		--server-name "$(or $(SERVER_NAME),_)"

sample: $(VENV)/.installed
	CHANGEBOARD_DB="$(DB)" $(PY) -m ingest --sample

# Debian's chromium drives the browser tests and renders the CAB pack PDF;
# poppler-utils (pdfinfo, pdftotext, pdftoppm) checks that PDF. Playwright
# downloads no browser of its own. The PDF's fonts: DejaVu (Latin, Greek,
# Cyrillic, ...) and WenQuanYi Micro Hei (Chinese, Japanese, Korean), or a
# title in them prints as boxes
chromium:
	@test -x /usr/bin/chromium -a -x /usr/bin/pdftotext \
		-a -n "$$(fc-list :lang=ja 2>/dev/null)" || { \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium \
			poppler-utils fonts-dejavu-core fonts-wqy-microhei < /dev/null; }

# Debian's nginx: the load balancer of `make serve` and its tests
nginx:
	@test -x /usr/sbin/nginx || { \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
			nginx < /dev/null; }

# Debian's jemalloc: the app processes' memory allocator, preloaded when
# installed (changeboard/serve.py, docs/deploy.md); `make run` uses it when
# there and says so when not
jemalloc:
	@/sbin/ldconfig -p | grep -q 'libjemalloc\.so\.2 ' || { \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
			libjemalloc2 < /dev/null; }

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/sqlfluff lint --processes 2 queries

# the suite runs on every core (at most 4 workers): 8-12 min on 2 cores
# (5 Dec: 487-721 s of pytest time in fresh clones on a quiet machine)
# pytest runs on the app's allocator (tests/conftest.py keeps it from the
# processes the tests start)
test: $(VENV)/.dev-installed chromium nginx jemalloc lint
	LD_PRELOAD=libjemalloc.so.2 $(PY) -m pytest --numprocesses=auto \
		--maxprocesses=4

BENCH_SCALE ?= 125
BENCH_DB := bench/out/scale-$(BENCH_SCALE).duckdb
# the same sample at 80,000 and 240,000 changes: how the queries' time grows
BENCH_GROWTH := bench/out/scale-10.duckdb bench/out/scale-30.duckdb
BENCH_FIGURES := bench/out/figures.jsonl
bench/out/scale-%.duckdb: | $(VENV)/.installed
	rm -rf bench/out/csv-$*
	$(PY) -m sample_data generate --seed 3 --scale $* \
		--out bench/out/csv-$*
	CHANGEBOARD_DB=$@ $(PY) -m ingest csv bench/out/csv-$*/*.csv
	rm -rf bench/out/csv-$*

# about 4 minutes to build the databases once, then about 15 minutes of
# benchmarks; the last step prints every figure beside its target in one
# table (bench/summary.py, from what each script recorded)
bench: $(VENV)/.dev-installed chromium jemalloc $(BENCH_DB) $(BENCH_GROWTH)
	rm -f $(BENCH_FIGURES)
	$(PY) bench/run.py --record $(BENCH_FIGURES)
	$(PY) bench/pages.py --db $(BENCH_DB) --browser --record $(BENCH_FIGURES)
	$(PY) bench/queries.py $(foreach d,$(BENCH_GROWTH) $(BENCH_DB),--db $(d)) \
		--record $(BENCH_FIGURES)
	$(PY) bench/ingest.py --scale $(BENCH_SCALE) --record $(BENCH_FIGURES)
	$(PY) bench/incremental.py --db $(BENCH_DB) --record $(BENCH_FIGURES)
	$(PY) bench/cab.py --db $(BENCH_DB) --record $(BENCH_FIGURES)
	$(PY) bench/summary.py $(BENCH_FIGURES)

# simultaneous sessions through nginx, 1 and 2 replicas (about 20 minutes)
bench-serve: $(VENV)/.dev-installed chromium nginx
	$(PY) bench/serve.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache tests/screenshots
