"""Fixtures only: the helpers they use are in the testkit package."""

import json
import os
import sys
from pathlib import Path

import pytest

from testkit.bake import bake
from testkit.commands import run


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


@pytest.fixture(scope="session")
def full(fleet, tmp_path_factory):
    """``fleet report`` over that whole fleet: its result, its JSON rows and its page
    (tests/test_fleet_report.py reads them; tests/test_fleet_shards.py compares)."""
    out = tmp_path_factory.mktemp("report")
    result = run(
        sys.executable, "-m", "fleet", "report", fleet.file,
        "--json", out / "fleet.json", "--html", out / "fleet.html", cwd=out, check=False,
    )  # fmt: skip
    return result, json.loads((out / "fleet.json").read_text()), out / "fleet.html"
