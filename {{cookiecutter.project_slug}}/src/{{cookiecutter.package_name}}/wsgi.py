"""The production entry point: ``gunicorn {{ cookiecutter.package_name }}.wsgi:app``."""

from . import create_app

app = create_app()
