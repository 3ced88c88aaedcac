"""Helpers for this template's own tests and benchmarks; never baked, never published.

On .venv's path by `make` (see the Makefile), so tests, benchmarks and the
subprocesses they start all `import testkit` the same way.
"""

from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
"""The template repository: cookiecutter's input, and what the copies copy."""
