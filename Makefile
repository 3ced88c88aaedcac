# Two commands: `make bake` (bake the defaults into build/) and `make test`;
# `make check` is the quick loop while editing.
# Each creates .venv from PyPI on first use; nothing is installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready

.PHONY: bake test check bench fleet lock chromium nginx clean

bake: $(READY)
	rm -rf build/example-service  # build/ also holds fleet.json and fleet-update/
	$(BIN)/cookiecutter --no-input --output-dir build .

# Bytecode, pytest's rewritten modules included, is kept between runs in one
# cache outside the clone. This machine sets PYTHONDONTWRITEBYTECODE, and pytest
# rewrites the asserts of every module of a plugin's package (all of
# Hypothesis), so each of the many pytest runs in the tests (a bake's own suite,
# ~1.3 s of its ~6 s) would compile them again. In the cache, bakes and the
# checkout get no __pycache__; what earlier runs' temporary bakes left is
# dropped first.
CACHE := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/cookiecutter-flask-baseline
PYCACHE := $(CACHE)/pycache
WITH_PYCACHE := PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=$(PYCACHE)

test: $(READY) chromium nginx
	rm -rf $(PYCACHE)/tmp
	$(WITH_PYCACHE) $(BIN)/python -m pytest -v

# The loop while editing, in about 10 s: lint, the hook's rules, the default
# bake with its own suite, and every copy of the policy against what is sent
# (the tests marked `check`). `make test` runs everything before a commit.
check: $(READY)
	$(BIN)/ruff check --quiet .
	$(BIN)/ruff format --check --quiet .
	rm -rf $(PYCACHE)/tmp
	$(WITH_PYCACHE) $(BIN)/python -m pytest -q -m check

# The browser tests drive Debian's Chromium (never a browser Playwright
# downloads). Without root or apt they skip, except under CI=true, where they fail.
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq chromium) >/dev/null 2>&1 \
		|| echo "Chromium could not be installed: the browser tests will skip"

# The proxy tests run Debian's nginx (in the foreground, on 127.0.0.1 only).
# Debian starts an nginx on port 80 when it installs one, unless policy-rc.d
# forbids it (exit 101): one is put there for the install when none exists.
# Without root or apt the tests skip, except under CI=true, where they fail.
NO_SERVICE_START ?= /usr/sbin/policy-rc.d
nginx:
	@test -x /usr/sbin/nginx || (set -e; apt-get update -qq; \
		if [ ! -e $(NO_SERVICE_START) ]; then trap 'rm -f $(NO_SERVICE_START)' EXIT; \
			printf '#!/bin/sh\nexit 101\n' >$(NO_SERVICE_START); chmod +x $(NO_SERVICE_START); fi; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx) >/dev/null 2>&1 \
		|| echo "nginx could not be installed: the proxy tests will skip"

# Figures, not tests: see benchmarks/bench.py (the baseline's cost) and
# benchmarks/bench_reports.py (the report receiver under a flood). wrk (Debian) drives the
# end-to-end part; without it (not root, no apt) that part is skipped.
bench: $(READY)
	@command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null 2>&1 \
		|| (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null 2>&1 \
		|| echo "wrk could not be installed: end-to-end figures will be skipped"
	$(BIN)/python benchmarks/bench.py
	$(BIN)/python benchmarks/bench_reports.py

# The platform team's report over every service in a fleet file (see README,
# "Fleet"): the table on the terminal, the same as build/fleet.json and
# build/fleet.html. Exit status 0, 1 or 2 as the report's.
FLEET ?= FLEET.toml
fleet: $(READY)
	$(BIN)/python -m fleet report $(FLEET) --json build/fleet.json --html build/fleet.html

# testkit, the tests' and benchmarks' helpers, and fleet, the platform team's
# tool, are found through checkout.pth, which names .venv/checkout: links to
# exactly those two packages. So tests, benchmarks and the servers they start
# all `import testkit` (and `python -m fleet` runs) with no path set, edits
# count at once, and nothing else of the checkout (tests/, hooks/,
# local_extensions.py) can be imported. An editable install's import hook
# (editables) would cost every Python process ~45 ms at start-up; a bake
# starts three.
# uv (from PyPI, into the venv by pip) installs the rest several times faster
# than pip does. Unlike pip, uv leaves the bytecode to be compiled on first
# import, which never happens where PYTHONDONTWRITEBYTECODE is set or the venv
# is read-only: every bake and every tool then compiles its imports again
# (a bake 1.2 s instead of 0.5 s), so it is compiled here, once.
UV_VERSION := 0.13.8
# The venv starts without pip (ensurepip alone takes ~5 s): the machine's pip puts
# uv in (--python, pip 22.3 and later); a Python without a pip of its own gets one
# from ensurepip after all. pip itself is in requirements.txt, for the tests.
$(READY): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "error: $(PYTHON) is Python %d.%d; 3.11 or later is needed, e.g. make PYTHON=python3.12" % sys.version_info[:2])'
	$(PYTHON) -m venv --clear --without-pip $(VENV)
	$(PYTHON) -m pip --python $(BIN)/python install --quiet uv==$(UV_VERSION) 2>/dev/null \
		|| ($(BIN)/python -m ensurepip --default-pip >/dev/null \
			&& $(BIN)/python -m pip install --quiet uv==$(UV_VERSION))
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.txt
	mkdir -p $(VENV)/checkout
	ln -sfn ../../testkit $(VENV)/checkout/testkit
	ln -sfn ../../fleet $(VENV)/checkout/fleet
	$(BIN)/python -c 'import pathlib, sys, sysconfig; pathlib.Path(sysconfig.get_path("purelib"), "checkout.pth").write_text(sys.argv[1] + "\n")' \
		"$(abspath $(VENV)/checkout)"
	touch $@

# The baked service's uv.lock, locked again from PyPI for the baked
# pyproject.toml (after changing its dependencies; LOCK_ARGS=--upgrade moves
# every pin to the newest that fits); see testkit/lock.py.
lock: $(READY)
	$(BIN)/python -m testkit.lock $(LOCK_ARGS)

clean:
	rm -rf build $(VENV)
