"""`python -m fleet update` on a service whose uv.lock must be made again and
cannot be: the team's to make (a branch that asks for it) or the fleet's
failure (no branch). On the fleet of tests/test_fleet_report.py."""

import json
import os
import shutil
import tomllib

import pytest

from testkit.commands import run
from testkit.services import TEAMS_DEPENDENCY, edit, fleet_toml, publish
from tests.test_fleet_update import fleet_update, table_rows

pytestmark = pytest.mark.xdist_group("fleet")

URL_DEPENDENCY = '"lib @ https://pkgs.example.com/lib-1.0-py3-none-any.whl"'


def two_behind_as(fleet, tmp_path, name, dependencies):
    """two-behind (its team added a dependency: its lock is made again), as
    ``name`` on a remote of its own, with these dependencies added; its fleet file."""
    work = tmp_path / name
    shutil.copytree(
        fleet.services["two-behind"].work, work, ignore=shutil.ignore_patterns(".git")
    )
    edit(work / "pyproject.toml", TEAMS_DEPENDENCY, f"{TEAMS_DEPENDENCY}{dependencies}")
    service = publish(work, tmp_path / f"{name}.git")
    fleet_file = tmp_path / "FLEET.toml"
    fleet_file.write_text(fleet_toml(fleet.releases, [service]))
    return fleet_file, service


def test_a_lock_not_made_here_still_gets_its_branch_and_asks_the_team(fleet, tmp_path):
    """two-behind, with a package from a URL too: locking it would fetch from
    there, so uv never runs; the branch is made with the release's uv.lock, its
    PR.md says first that the team runs ``uv lock``, and a person is needed (1)."""
    fleet_file, _ = two_behind_as(
        fleet, tmp_path, "url-dependency", f", {URL_DEPENDENCY}"
    )
    result = fleet_update(
        fleet_file, "--out", tmp_path / "out", "--json", tmp_path / "out.json",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    old, _, newest = fleet.releases.tags
    branch = f"baseline/{newest}"
    assert table_rows(result.stdout) == {
        "url-dependency": [old, newest, branch, "clean", "needs-uv-lock"]
    }
    (row,) = json.loads((tmp_path / "out.json").read_text())
    reason = row["lock_reason"]
    assert reason.startswith("pyproject.toml takes a package from a URL"), reason
    assert URL_DEPENDENCY[1:-1] in reason
    clone = tmp_path / "out/url-dependency/repo"
    pyproject = run("git", "show", f"{branch}:pyproject.toml", cwd=clone).stdout
    assert URL_DEPENDENCY in pyproject
    lock = tomllib.loads(run("git", "show", f"{branch}:uv.lock", cwd=clone).stdout)
    (own,) = [p for p in lock["package"] if p["name"] == "two-behind"]
    assert [r["name"] for r in own["metadata"]["requires-dist"]] == [
        "flask",
        "gunicorn",
    ]  # the release's, as it locks it: not locked for this pyproject.toml
    title, first, *_ = (tmp_path / "out/url-dependency/PR.md").read_text().split("\n\n")
    assert title == f"# Baseline {newest} for url-dependency"
    assert first.startswith("**Run `uv lock` on this branch"), first
    assert f"The lock could not be made here: {reason}." in first


PYPI_UNREACHABLE = """#!/bin/sh
echo 'error: Failed to fetch: https://pypi.org/simple/blinker/' >&2
echo '  cause: error sending request for url (https://pypi.org/simple/blinker/)' >&2
exit 2
"""  # as uv 0.13.8 fails when it cannot reach PyPI


def test_a_lock_failing_on_the_fleets_side_makes_no_branch(fleet, tmp_path):
    """PyPI unreachable while locking two-behind: no branch telling its team to
    lock, nothing pushed, no PR.md, one line in the error column, exit 2."""
    fleet_file, service = two_behind_as(fleet, tmp_path, "pypi-unreachable", "")
    uv = tmp_path / "bin/uv"
    uv.parent.mkdir()
    uv.write_text(PYPI_UNREACHABLE)
    uv.chmod(0o755)
    result = fleet_update(
        fleet_file, "--push", "--out", tmp_path / "out", "--json", tmp_path / "out.json",
        cwd=tmp_path, PATH=f"{uv.parent}:{os.environ['PATH']}",
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    (row,) = json.loads((tmp_path / "out.json").read_text())
    assert [row[key] for key in ("branch", "merge", "lock", "pushed")] == [None] * 4
    assert row["error"] == (
        "no branch: uv.lock not made, on the fleet's side: uv lock failed: Failed to "
        "fetch: https://pypi.org/simple/blinker/: error sending request for url "
        "(https://pypi.org/simple/blinker/)"
    )
    heads = run(
        "git", "for-each-ref", "--format=%(refname)", "refs/heads", cwd=service.remote
    ).stdout
    assert heads == "refs/heads/main\n"  # nothing pushed
    assert not (tmp_path / "out/pypi-unreachable/PR.md").exists()
