# Two commands: `make bake` (bake the defaults into build/) and `make test`.
# Both create .venv from PyPI on first use; nothing is installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready

.PHONY: bake test clean

bake: $(READY)
	rm -rf build
	$(BIN)/cookiecutter --no-input --output-dir build .
	@echo "Baked build/example-service"

test: $(READY)
	$(BIN)/python -m pytest -v

$(READY): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

clean:
	rm -rf build $(VENV)
