import pytest

from {{ cookiecutter.package_name }} import create_app


@pytest.fixture
def app():
    return create_app({"TESTING": True, "SECRET_KEY": "test-only-secret"})


@pytest.fixture
def client(app):
    return app.test_client()
