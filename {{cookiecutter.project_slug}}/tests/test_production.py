"""The production entry points: gunicorn's settings and the WSGI app."""

import importlib
import runpy
from pathlib import Path

GUNICORN_CONF = Path(__file__).parents[1] / "gunicorn.conf.py"


def gunicorn_settings():
    return runpy.run_path(str(GUNICORN_CONF))


def test_gunicorn_believes_no_forwarded_headers_without_a_proxy(monkeypatch):
    monkeypatch.delenv("FLASK_TRUSTED_PROXY_HOPS", raising=False)
    assert gunicorn_settings()["forwarded_allow_ips"] == ""


def test_gunicorn_trusts_the_proxy_the_app_trusts(monkeypatch):
    monkeypatch.setenv("FLASK_TRUSTED_PROXY_HOPS", "1")
    assert gunicorn_settings()["forwarded_allow_ips"] == "*"


def test_gunicorn_binds_loopback_unless_told(monkeypatch):
    monkeypatch.delenv("BIND", raising=False)
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    settings = gunicorn_settings()
    assert settings["bind"] == "127.0.0.1:8000"
    assert settings["workers"] == 3
    assert settings["wsgi_app"] == "{{ cookiecutter.package_name }}.wsgi:app"


def test_wsgi_app_serves_with_the_baseline(monkeypatch):
    monkeypatch.setenv("FLASK_SECRET_KEY", "test-only-secret")
    app = importlib.import_module("{{ cookiecutter.package_name }}.wsgi").app
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
