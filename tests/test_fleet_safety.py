"""A service's clone is data: the fleet tool never follows its links out of it."""

import json
import subprocess
import sys

import pytest
from slugify import slugify

from fleet.fleet_file import FleetFileError
from fleet.render import SYMLINK, read_tree, replay_answers
from fleet.report import Unreadable
from fleet.service_tests import run_service_tests
from fleet.update import emptied, push_branch, write_changes
from testkit.commands import git, run
from testkit.services import bake_as_typed, commit_and_push, fleet_toml


@pytest.fixture
def outside(tmp_path):
    secret = tmp_path / "outside"
    secret.mkdir()
    (secret / "key").write_text("secret")
    return secret


def test_a_link_is_read_as_where_it_points_never_followed(tmp_path, outside):
    work = tmp_path / "work"
    (work / "src").mkdir(parents=True)
    (work / "src/key").symlink_to(outside / "key")
    (work / "linked").symlink_to(outside)
    (work / "plain.txt").write_text("ours")
    files = read_tree(work)
    assert files == {
        "linked": SYMLINK + str(outside).encode(),
        "plain.txt": b"ours",
        "src/key": SYMLINK + str(outside / "key").encode(),
    }


def test_writing_a_change_replaces_a_link_and_never_writes_through_one(
    tmp_path, outside
):
    work = tmp_path / "work"
    work.mkdir()
    (work / "policy.py").symlink_to(outside / "key")
    (work / "security").symlink_to(outside)
    before = read_tree(work)
    write_changes(work, before, before | {"policy.py": b"the release's"})
    assert (work / "policy.py").read_bytes() == b"the release's"
    assert not (work / "policy.py").is_symlink()
    with pytest.raises(Unreadable, match="leads out of the repository"):
        write_changes(work, before, before | {"security/new.py": b"x"})
    assert (outside / "key").read_text() == "secret"
    assert sorted(p.name for p in outside.iterdir()) == ["key"]


PAYLOAD = "{{ cycler.__init__.__globals__.os.system('touch MARKER') }}"


def report_rows(fleet_file, cwd) -> tuple[subprocess.CompletedProcess, list[dict]]:
    result = run(
        sys.executable, "-m", "fleet", "report", fleet_file, "--json", cwd / "rows.json",
        cwd=cwd, check=False,
    )  # fmt: skip
    rows = json.loads((cwd / "rows.json").read_text()) if result.returncode < 2 else []
    return result, rows


@pytest.mark.xdist_group("fleet")  # the fleet is built once, on one worker
def test_answers_are_rendered_as_typed_never_run_as_jinja(fleet, tmp_path):
    marker = tmp_path / "ran"
    typed = bake_as_typed(
        tmp_path,
        fleet.releases.template,
        project_name=PAYLOAD.replace("MARKER", str(marker)),
        project_slug="typed",
        package_name="typed",
        description="Braces as text: {{ 6 * 7 }}, {% raw %} and {#",
    )
    assert not marker.exists()  # the bake took them as typed too
    fleet_file = tmp_path / "FLEET.toml"
    fleet_file.write_text(fleet_toml(fleet.releases, [typed]))
    result, rows = report_rows(fleet_file, tmp_path)
    assert not marker.exists()
    assert result.returncode == 0, result.stdout + result.stderr
    (row,) = rows
    assert (row["error"], row["owned_changed"], row["update"]) == (None, [], "current")


@pytest.mark.xdist_group("fleet")  # the fleet is built once, on one worker
def test_an_answer_that_would_leave_the_output_folder_is_that_rows_error(
    fleet, tmp_path
):
    """cookiecutter joins answers into paths as they are, and the fleet runs
    no hook to check them: a crafted .cruft.json must not write outside."""
    service = bake_as_typed(
        tmp_path,
        fleet.releases.template,
        project_slug="crafted",
        package_name="crafted",
    )
    escaped = tmp_path / "escaped"
    cruft = service.work / ".cruft.json"
    state = json.loads(cruft.read_text())
    crafted = "../" * 16 + str(escaped).lstrip("/")
    state["context"]["cookiecutter"]["package_name"] = crafted
    cruft.write_text(json.dumps(state))
    commit_and_push(service, "A crafted answer")
    fleet_file = tmp_path / "FLEET.toml"
    fleet_file.write_text(fleet_toml(fleet.releases, [service]))
    result, _ = report_rows(fleet_file, tmp_path)
    assert result.returncode == 2
    (row,) = json.loads((tmp_path / "rows.json").read_text())
    assert f"its answer package_name={crafted!r} cannot name a file" in row["error"]
    assert not escaped.exists()


@pytest.mark.parametrize("name", ["/srv/x", "../..", "..", ".hidden", "a/b", "a b", ""])
@pytest.mark.parametrize("command", ["report", "update"])
def test_a_service_name_that_is_not_a_plain_name_is_refused(tmp_path, name, command):
    victim = tmp_path / "out" / "keep"
    victim.mkdir(parents=True)
    fleet_file = tmp_path / "FLEET.toml"
    fleet_file.write_text(
        f'template = "t"\nminimum = "v1.0.0"\n[[service]]\nname = {json.dumps(name)}\nrepo = "r"\n'
    )
    result = run(
        sys.executable, "-m", "fleet", command, fleet_file,
        *(["--out", tmp_path / "out" / "x"] if command == "update" else []),
        cwd=tmp_path, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("error: ")
    # The name is what is refused (the template "t" is never read).
    assert ("has no name" if not name else "is not allowed") in result.stderr
    assert victim.is_dir()


@pytest.mark.parametrize("place", ["../keep", ".", "link"])
def test_update_never_removes_a_folder_outside_its_out(tmp_path, outside, place):
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "keep").mkdir()
    (out / "link").symlink_to(outside)
    with pytest.raises(FleetFileError, match="is not a folder inside"):
        emptied(out / place, out)
    assert (tmp_path / "keep").is_dir()
    assert (outside / "key").read_text() == "secret"
    emptied(out / "service", out)
    assert (out / "service").is_dir()


PROBE_PROJECT = """[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "probe"
version = "0"

[project.optional-dependencies]
dev = ["pytest"]

[tool.hatch.build.targets.wheel]
bypass-selection = true
"""
PROBE_TEST = """import os


def test_what_the_service_sees():
    assert "GH_TOKEN" not in os.environ
    assert "AWS_SECRET_ACCESS_KEY" not in os.environ
    assert os.environ["HYPOTHESIS_PROFILE"] == "quick"
    assert os.environ["LC_ALL"] == "C.UTF-8"
    assert os.environ["PATH"]
"""


def probe_clone(tmp_path, tests: dict[str, str]) -> tuple:
    """A clone of a probe service with ``tests`` committed: (clone, remote, commit)."""
    remote = tmp_path / "remote.git"
    run("git", "init", "--quiet", "--bare", remote, cwd=tmp_path)
    clone = tmp_path / "probe"
    run("git", "clone", "--quiet", remote, clone, cwd=tmp_path)
    (clone / "tests").mkdir()
    (clone / "pyproject.toml").write_text(PROBE_PROJECT)
    for name, text in tests.items():
        (clone / "tests" / name).write_text(text)
    git("add", "--all", cwd=clone)
    git("commit", "--quiet", "-m", "probe", cwd=clone)
    commit = run("git", "rev-parse", "HEAD", cwd=clone).stdout.strip()
    return clone, remote, commit


def test_a_services_tests_see_no_token_or_cloud_key(tmp_path, monkeypatch):
    clone, _, _ = probe_clone(tmp_path, {"test_env.py": PROBE_TEST})
    monkeypatch.setenv("GH_TOKEN", "ghp_secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "quick")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    log = tmp_path / "tests.log"
    passed = run_service_tests(clone, tmp_path / "scratch", log)
    assert passed, log.read_text()
    assert "1 passed" in log.read_text()


TAMPERING_TEST = """import os
import pathlib
import stat
import subprocess

CLONE = pathlib.Path({clone!r})
MARKER = {marker!r}


def test_tamper_with_the_clone():
    pathlib.Path({seen!r}).write_text(
        os.environ["HOME"] + "\\n" + repr(sorted(os.listdir(os.environ["HOME"])))
        + "\\n" + repr(pathlib.Path(".git").exists())
    )
    subprocess.run(
        ["git", "-c", "user.name=x", "-c", "user.email=x@localhost", "commit",
         "--quiet", "--allow-empty", "-m", "not the fleet's"],
        cwd=CLONE, check=True,
    )
    for git_dir in (pathlib.Path(".git"), CLONE / ".git"):
        hook = git_dir / "hooks" / "pre-push"
        hook.parent.mkdir(parents=True, exist_ok=True)
        hook.write_text("#!/bin/sh\\ntouch " + MARKER + "\\n")
        hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
        with (git_dir / "config").open("a") as config:
            config.write(
                "[core]\\n\\tfsmonitor = touch " + MARKER + "\\n"
                "\\tsshCommand = touch " + MARKER + "\\n"
                "[credential]\\n\\thelper = !touch " + MARKER + "\\n"
                "[remote \\"origin\\"]\\n\\treceivepack = touch " + MARKER + "\\n"
            )
"""


def test_a_services_tests_cannot_reach_the_clone_the_fleet_pushes_from(
    tmp_path, monkeypatch
):
    """The tests run in an export with an empty home; the push runs none of their hooks or config."""
    marker = tmp_path / "ran"
    seen = tmp_path / "seen"
    clone = tmp_path / "probe"
    test = TAMPERING_TEST.format(clone=str(clone), marker=str(marker), seen=str(seen))
    clone, remote, commit = probe_clone(tmp_path, {"test_tamper.py": test})
    real_home = tmp_path / "real-home"
    (real_home / ".config" / "gh").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(real_home))
    log = tmp_path / "tests.log"
    assert run_service_tests(clone, tmp_path / "scratch", log), log.read_text()
    assert run("git", "rev-parse", "HEAD", cwd=clone).stdout.strip() != commit, (
        "the probe should have moved the clone's HEAD"
    )
    assert push_branch(clone, "baseline/v9.9.9", commit) == "pushed"
    assert not marker.exists()
    home, listing, had_git = seen.read_text().splitlines()
    assert home != str(real_home)
    assert listing == "[]"
    assert had_git == "False"
    pushed = run("git", "rev-parse", "refs/heads/baseline/v9.9.9", cwd=remote).stdout
    assert pushed.strip() == commit


def test_a_question_the_service_was_never_asked_takes_its_default_from_the_answers(
    tmp_path,
):
    questions = {
        "project_name": "Example",
        "project_slug": "{{ cookiecutter.project_name | slugify }}",
        "frame_policy": ["SAMEORIGIN", "DENY"],
        "_copy_without_render": ["*.html"],
    }
    (tmp_path / "cookiecutter.json").write_text(json.dumps(questions))
    typed = PAYLOAD.replace("MARKER", str(tmp_path / "ran"))
    replayed = replay_answers(tmp_path, {"project_name": typed, "kept": "{{ 7 * 7 }}"})
    assert replayed == {
        "project_name": typed,
        "project_slug": slugify(typed),
        "frame_policy": "SAMEORIGIN",
        "_copy_without_render": ["*.html"],
        "kept": "{{ 7 * 7 }}",
    }
    assert not (tmp_path / "ran").exists()
