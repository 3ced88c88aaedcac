import os

import pytest
from hypothesis import settings

from {{ cookiecutter.package_name }} import create_app

# The property tests explore 300 cases by default; HYPOTHESIS_PROFILE=quick
# runs 30, for a quick look or where many copies of the suite run.
settings.register_profile("thorough", max_examples=300, deadline=None)
settings.register_profile("quick", max_examples=30, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "thorough"))


@pytest.fixture
def app():
    return create_app({"TESTING": True, "SECRET_KEY": "test-only-secret"})


@pytest.fixture
def client(app):
    return app.test_client()
