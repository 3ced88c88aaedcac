# Two commands: `make bake` (bake the defaults into build/) and `make test`.
# Both create .venv from PyPI on first use; nothing is installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready

.PHONY: bake test bench chromium clean

bake: $(READY)
	rm -rf build
	$(BIN)/cookiecutter --no-input --output-dir build .
	@echo "Baked build/example-service"

test: $(READY) chromium
	$(BIN)/python -m pytest -v

# The browser tests drive Debian's Chromium (never a browser Playwright
# downloads). Without root or apt they skip, except under CI=true, where they fail.
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq chromium) >/dev/null 2>&1 \
		|| echo "Chromium could not be installed: the browser tests will skip"

# Figures, not tests: see benchmarks/bench.py. wrk (Debian) drives the
# end-to-end part; without it (not root, no apt) that part is skipped.
bench: $(READY)
	@command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null 2>&1 \
		|| (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null 2>&1 \
		|| echo "wrk could not be installed: end-to-end figures will be skipped"
	$(BIN)/python benchmarks/bench.py

# testkit, the tests' and benchmarks' helpers, goes in editable: tests,
# benchmarks and the servers they start all `import testkit` with no path set.
$(READY): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --editable .
	touch $@

clean:
	rm -rf build $(VENV)
