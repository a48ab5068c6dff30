# Two commands on a fresh machine with Python 3.11 and make: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test serve chromium nginx clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# compat editable mode puts the checkout on sys.path, so new packages need no reinstall.
$(VENV)/.app-installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e . --config-settings editable_mode=compat
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[test]' --config-settings editable_mode=compat
	touch $@ $(VENV)/.app-installed

chromium:
	@[ -x $(CHROMIUM) ] || { echo "Installing Debian's chromium for the browser tests"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium; }

# nginx: tests/app/test_proxy.py runs the app behind a real one with TLS (openssl makes the certificate)
nginx:
	@[ -x /usr/sbin/nginx ] || { echo "Installing Debian's nginx for the reverse-proxy test"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q nginx openssl; }

demo: $(VENV)/.app-installed
	$(BIN)/survey demo

test: $(VENV)/.test-installed chromium nginx
	$(BIN)/pytest

clean:
	rm -rf $(VENV) var .pytest_cache
