"""Fixtures only: the helpers they use are in the testkit package."""

import os
from pathlib import Path

import pytest

from testkit.bake import bake


@pytest.fixture(autouse=True, scope="session")
def isolated_cookiecutter_config(tmp_path_factory):
    """Keep cookiecutter's replay files and clones out of the home directory."""
    home = tmp_path_factory.mktemp("cookiecutter-home")
    config = home / "config.yaml"
    config.write_text(
        f"replay_dir: {home / 'replay'}\ncookiecutters_dir: {home / 'clones'}\n"
    )
    os.environ["COOKIECUTTER_CONFIG"] = str(config)


@pytest.fixture
def baked_defaults(tmp_path: Path) -> Path:
    return bake(tmp_path)


@pytest.fixture(scope="session")
def fleet(tmp_path_factory):
    """The fleet the fleet tool's tests read: a template with three releases and
    services baked from it in every state the report tells apart (built once)."""
    from testkit.services import build_fleet

    return build_fleet(tmp_path_factory.mktemp("fleet"))
