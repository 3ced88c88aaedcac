# Two commands: `make bake` (bake the defaults into build/) and `make test`.
# Both create .venv from PyPI on first use; nothing is installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready

.PHONY: bake test bench clean

bake: $(READY)
	rm -rf build
	$(BIN)/cookiecutter --no-input --output-dir build .
	@echo "Baked build/example-service"

test: $(READY)
	$(BIN)/python -m pytest -v

# Figures, not tests: see benchmarks/bench.py. wrk (Debian) drives the
# end-to-end part; without it (not root, no apt) that part is skipped.
bench: $(READY)
	@command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null 2>&1 \
		|| (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null 2>&1 \
		|| echo "wrk could not be installed: end-to-end figures will be skipped"
	$(BIN)/python benchmarks/bench.py

$(READY): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

clean:
	rm -rf build $(VENV)
