"""The template's tests: a package, so that they import their data as ``tests.expected``."""
