# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA ?= data
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean install messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@test -f $(DATA)/kula.toml || $(BIN)/kula init --data $(DATA) --url http://127.0.0.1:8080 --registration open
	$(BIN)/kula serve --data $(DATA)

# Page tests drive Debian's Chromium; Playwright never downloads a browser.
CHROMIUM ?= /usr/bin/chromium

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "install Chromium and set CHROMIUM=/path/to/chromium"; exit 1; }
	$(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium \
	  || { $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -q && $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

test: $(STAMP) $(CHROMIUM)
	$(BIN)/ruff check .
	CHROMIUM_BIN=$(CHROMIUM) $(BIN)/python -m pytest -q -p no:cacheprovider

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

# `make bench` runs every benchmark; `make bench BENCH=search SIZE=quick` one, smaller.
BENCH ?=
SIZE ?= full
bench: $(BENCH_STAMP)
	$(BIN)/python -m bench $(BENCH) --size $(SIZE)

# Refresh the translation template after changing page text.
messages: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg --no-location --sort-output --project=Kula --copyright-holder="Kula contributors" --omit-header -o node/web/locale/kula.pot node/web

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build *.egg-info
