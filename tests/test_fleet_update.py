"""`python -m fleet update`: a baseline/vX.Y.Z branch on every service behind, and the
service's own weekly check. On the fleet of tests/test_fleet_report.py."""

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib

import pytest

from fleet.changelog import sections, what_to_do
from fleet.output import UPDATE_COLUMNS
from fleet.releases import version
from testkit import TEMPLATE
from testkit.commands import clean_env, run
from testkit.lock import UV
from testkit.services import (
    CDN_AND_LEGACY_CHARTS,
    EXCEPTION,
    TEAMS_DEPENDENCY,
)

pytestmark = pytest.mark.xdist_group("fleet")
LINKED_AND_PLAIN = [
    "current",
    "settings",
    "two-behind",
    "edited-policy",
    "conflict",
    "plain",
]
BEHIND = ["settings", "two-behind", "edited-policy", "conflict"]
# Its tests are left to its own CI; what its clean merge took is read from its
# branch (test_a_team_edit_to_an_owned_file_is_kept_beside_the_release).
UNTESTED = frozenset({"edited-policy"})


def fleet_update(fleet_file, *args, cwd, **env):
    # The services' property tests explore briefly, as testkit.bake's runs do.
    return run(
        sys.executable, "-m", "fleet", "update", fleet_file, *args,
        cwd=cwd, check=False, env=clean_env(HYPOTHESIS_PROFILE="quick", **env),
    )  # fmt: skip


def remote_branches(fleet) -> dict[str, dict[str, str]]:
    """Every service's remote: branch -> commit."""
    branches = {}
    for name in LINKED_AND_PLAIN:
        listed = run(
            "git",
            "for-each-ref",
            "--format=%(refname:short) %(objectname)",
            "refs/heads",
            cwd=fleet.services[name].remote,
        ).stdout
        branches[name] = dict(line.split() for line in listed.splitlines())
    return branches


def table_rows(stdout: str) -> dict[str, list[str]]:
    return {
        line.split()[0]: line.split()[1:]
        for line in stdout.splitlines()[1:]
        if line and not line[0].isdigit()
    }


@pytest.fixture(scope="module")
def updated(fleet, tmp_path_factory):
    """Once without --push, then with --push --test, then with --push again."""
    work = tmp_path_factory.mktemp("update")
    fleet_file = fleet.fleet_file(LINKED_AND_PLAIN, work / "FLEET.toml", UNTESTED)
    before = remote_branches(fleet)
    local = fleet_update(fleet_file, "--out", work / "local", cwd=work)
    after_local = remote_branches(fleet)
    first = fleet_update(
        fleet_file, "--push", "--test", "--out", work / "first",
        "--json", work / "first.json", cwd=work,
    )  # fmt: skip
    after_first = remote_branches(fleet)
    # Into the local run's --out again, as a second run with the default --out is.
    second = fleet_update(fleet_file, "--push", "--out", work / "local", cwd=work)
    after_second = remote_branches(fleet)
    return {
        "work": work,
        "local": local,
        "first": first,
        "second": second,
        "refs": [before, after_local, after_first, after_second],
    }


def branch_file(fleet, name, path) -> str:
    newest = fleet.releases.tags[2]
    return run(
        "git", "show", f"baseline/{newest}:{path}", cwd=fleet.services[name].remote
    ).stdout


def test_without_push_nothing_leaves_the_machine(updated):
    before, after_local, *_ = updated["refs"]
    assert updated["local"].returncode == 1, (
        updated["local"].stdout + updated["local"].stderr
    )
    assert after_local == before


def test_push_puts_one_branch_on_each_service_behind_and_none_on_a_current_one(
    fleet, updated
):
    before, _, after, _ = updated["refs"]
    branch = f"baseline/{fleet.releases.tags[2]}"
    for name in LINKED_AND_PLAIN:
        added = set(after[name]) - set(before[name])
        assert added == ({branch} if name in BEHIND else set()), name
        assert after[name]["main"] == before[name]["main"], (
            name
        )  # the default branch untouched
        if name in BEHIND:
            parent = run(
                "git", "rev-parse", f"{branch}^", cwd=fleet.services[name].remote
            ).stdout.strip()
            assert parent == before[name]["main"], name


def test_a_services_tests_cannot_reach_what_the_push_runs_with(fleet, updated):
    """The settings service's own test writes a pre-push hook, config-borne
    commands and a commit of its own where it runs, and notes its HOME."""
    newest = fleet.releases.tags[2]
    assert updated["first"].returncode == 1, updated["first"].stderr
    assert (fleet.probe / "home").exists(), "the tampering test did not run"
    assert not (fleet.probe / "ran").exists()
    home = (fleet.probe / "home").read_text()
    assert home != os.environ["HOME"]
    made = run(
        "git", "rev-parse", f"baseline/{newest}",
        cwd=updated["work"] / "first/settings/repo",
    ).stdout  # fmt: skip
    pushed = run(
        "git", "log", "-1", "--format=%H %s", f"baseline/{newest}",
        cwd=fleet.services["settings"].remote,
    ).stdout.split(maxsplit=1)  # fmt: skip
    assert pushed[0] == made.strip()
    assert "not the fleet's" not in pushed[1]


def test_the_table_and_the_exit_status(fleet, updated):
    first = updated["first"]
    assert first.returncode == 1, (
        first.stdout + first.stderr
    )  # a conflict, and failed tests
    _, middle, newest = fleet.releases.tags
    branch = f"baseline/{newest}"
    assert table_rows(first.stdout) == {
        "current": [newest, newest, "current"],
        "settings": [middle, newest, branch, "clean", "passed", "pushed"],
        "two-behind": [
            fleet.releases.tags[0],
            newest,
            branch,
            "clean",
            "locked",
            "failed",
            "pushed",
        ],
        "edited-policy": [middle, newest, branch, "clean", "off", "pushed"],
        "conflict": [
            middle,
            newest,
            branch,
            "conflict",
            "pushed",
            "src/conflict/security/policy.py",
        ],
        "plain": [newest, "not-linked"],
    }


def test_the_json_has_the_tables_rows_and_which_branches_are_on_the_remote(
    fleet, updated
):
    rows = json.loads((updated["work"] / "first.json").read_text())
    assert [row["name"] for row in rows] == LINKED_AND_PLAIN
    branch = f"baseline/{fleet.releases.tags[2]}"
    assert {row["name"]: (row["branch"], row["pushed"]) for row in rows} == {
        name: (branch, "pushed") if name in BEHIND else (None, None)
        for name in LINKED_AND_PLAIN
    }
    shown = table_rows(updated["first"].stdout)
    for row in rows:
        values = [row[column] for column in UPDATE_COLUMNS[1:]]
        cells = [", ".join(v) if isinstance(v, list) else v for v in values if v]
        assert cells == shown[row["name"]]


def test_each_commit_carries_every_changelog_section_in_between(fleet):
    old, middle, newest = fleet.releases.tags
    changelog = sections((fleet.releases.template / "CHANGELOG.md").read_text())
    for name, baseline in (("settings", middle), ("two-behind", old)):
        message = run(
            "git",
            "log",
            "-1",
            "--format=%B",
            f"baseline/{newest}",
            cwd=fleet.services[name].remote,
        ).stdout
        assert message.startswith(f"Baseline {newest} (from {baseline})\n"), message
        wanted = [tag for tag in fleet.releases.tags if tag > baseline]
        for tag, text in changelog.items():
            assert (text in message) == (tag in wanted), (name, tag)


def test_the_clean_one_keeps_the_teams_settings_exception_and_override(fleet, updated):
    config = branch_file(fleet, "settings", "src/settings/config.py")
    assert repr(EXCEPTION) in config
    assert repr(CDN_AND_LEGACY_CHARTS) in config
    assert '@bp.get("/partner")' in branch_file(
        fleet, "settings", "src/settings/routes.py"
    )
    policy = branch_file(fleet, "settings", "src/settings/security/policy.py")
    assert '("Origin-Agent-Cluster", "?1")' in policy
    assert '("Referrer-Policy", "same-origin")' in policy
    state = json.loads(branch_file(fleet, "settings", ".cruft.json"))
    newest = fleet.releases.tags[2]
    assert state["checkout"] == newest
    assert (
        state["commit"]
        == run(
            "git", "rev-parse", f"{newest}^{{commit}}", cwd=fleet.releases.template
        ).stdout.strip()
    )
    assert "passed" in (updated["work"] / "first/settings/PR.md").read_text()


def test_a_team_edit_to_an_owned_file_is_kept_beside_the_release(fleet, updated):
    """A clean merge into a policy.py the team edited (baked at the middle
    release): their note, and the newest release's change there and in the pin."""
    policy = branch_file(fleet, "edited-policy", "src/edited_policy/security/policy.py")
    assert "# Ours: a note in the template's file.\n" in policy
    assert '("Referrer-Policy", "same-origin")' in policy
    assert '("Referrer-Policy", "strict-origin-when-cross-origin")' not in policy
    pinned = branch_file(fleet, "edited-policy", "tests/test_security_headers.py")
    assert '"Referrer-Policy": "same-origin"' in pinned


def test_a_service_with_test_false_is_not_tested_and_its_pr_says_why(updated):
    """With --test (the first run) and without (the local run, run again)."""
    for run_out in ("first", "local"):
        place = updated["work"] / run_out / "edited-policy"
        assert not (place / "tests.log").exists()
        pr = (place / "PR.md").read_text()
        assert "Not run here: the fleet file sets `test = false` for this service" in pr
    assert table_rows(updated["second"].stdout)["edited-policy"][4] == "off"


def test_a_release_that_breaks_a_services_own_test_is_recorded_failed(updated):
    log = (updated["work"] / "first/two-behind/tests.log").read_text()
    assert "FAILED tests/test_our_referrer.py::test_other_sites_see_our_origin" in log
    pr = (updated["work"] / "first/two-behind/PR.md").read_text()
    assert "The service's own tests failed on this branch" in pr


def test_a_branch_from_before_uv_locks_again_and_installs_with_uv_sync_locked(
    fleet, updated, tmp_path
):
    """two-behind was baked before uv.lock, and its team added a dependency:
    its branch has the release's pyproject.toml with that dependency, and a
    uv.lock locked for it, which ``uv sync --locked`` installed before its tests
    ran (as it did the settings service's lock, which the release left as it was)."""
    remote = fleet.services["two-behind"].remote
    run("git", "cat-file", "-e", "main:requirements.txt", cwd=remote)
    branch = f"baseline/{fleet.releases.tags[2]}"
    gone = run(
        "git", "cat-file", "-e", f"{branch}:requirements.txt", cwd=remote, check=False
    )
    assert gone.returncode != 0  # one lock: the pip-tools one went with the release
    pyproject = branch_file(fleet, "two-behind", "pyproject.toml")
    assert TEAMS_DEPENDENCY in pyproject
    assert "[dependency-groups]\ndev = [" in pyproject
    lock = branch_file(fleet, "two-behind", "uv.lock")
    (own,) = [p for p in tomllib.loads(lock)["package"] if p["name"] == "two-behind"]
    assert {"name": "blinker", "specifier": ">=1.9"} in own["metadata"]["requires-dist"]
    for name in ("pyproject.toml", "uv.lock", "README.md"):
        (tmp_path / name).write_text(branch_file(fleet, "two-behind", name))
    run(UV, "lock", "--check", "--offline", "--python", sys.executable, cwd=tmp_path)
    settings = fleet.services["settings"].work / "uv.lock"
    assert branch_file(fleet, "settings", "uv.lock") == settings.read_text()
    for name in ("two-behind", "settings"):
        log = (updated["work"] / f"first/{name}/tests.log").read_text()
        assert log.splitlines()[0].endswith(
            f" sync --quiet --locked --python {sys.executable}"
        ), log
        assert re.search(r"^\$ \S+ -m pytest ", log, re.M), log
        assert re.search(r"\d+ passed", log), log


def test_the_conflict_shows_as_git_markers_and_in_pr_md(fleet, updated):
    path = "src/conflict/security/policy.py"
    text = branch_file(fleet, "conflict", path)
    assert (
        f"<<<<<<< {path} (this service)\n"
        '            ("Referrer-Policy", "no-referrer"),\n'
        "=======\n"
        '            ("Referrer-Policy", "same-origin"),\n'
        f">>>>>>> {path} (the new release)\n"
    ) in text
    pr = (updated["work"] / "first/conflict/PR.md").read_text()
    assert f"- `{path}`" in pr
    assert "Not run: resolve the conflicts below first" in pr  # markers are no code
    assert "## What you may have to do" in pr


def test_a_second_run_changes_nothing(updated):
    *_, after_first, after_second = updated["refs"]
    assert after_second == after_first
    second = updated["second"]
    assert [
        row[-1] if row[3] != "conflict" else row[-2]
        for name, row in table_rows(second.stdout).items()
        if name in BEHIND
    ] == ["unchanged"] * 4


@pytest.mark.parametrize(
    ("names", "status"),
    [(["current", "plain"], 0), (["current", "missing"], 2)],
    ids=["nothing-to-do", "unreadable"],
)
def test_exit_status(fleet, tmp_path, names, status):
    result = fleet_update(
        fleet.fleet_file(names, tmp_path / "FLEET.toml"),
        "--out",
        tmp_path / "out",
        cwd=tmp_path,
    )
    assert result.returncode == status, result.stdout + result.stderr


def weekly_check(service) -> subprocess.CompletedProcess:
    """The baked weekly check, as the service's workflow runs it."""
    return run(sys.executable, ".github/baseline_check.py", cwd=service, check=False)


def test_the_weekly_check_names_the_newest_release_when_behind(fleet, updated):
    newest = fleet.releases.tags[2]
    behind = weekly_check(fleet.services["settings"].work)
    assert behind.returncode == 1
    assert behind.stdout.splitlines() == [
        f"error: behind the template's newest release {newest} (this service has {fleet.releases.tags[1]}): "
        f"run cruft update --checkout {newest}, or merge the platform team's baseline/{newest} branch"
    ]
    for current in (
        fleet.services["current"].work,
        updated["work"] / "first/settings/repo",
    ):
        result = weekly_check(current)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout == f"on the template's newest release, {newest}\n"


def test_the_weekly_check_says_in_one_line_how_to_link_a_plain_bake(fleet):
    result = weekly_check(fleet.services["plain"].work)
    assert result.returncode == 2
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "error: this service is not linked to its template (no .cruft.json): link it with "
        "cruft link <the template's URL> --checkout <the release it was baked from>"
    ]


def test_the_weekly_check_gives_gits_complaint_when_the_template_cannot_be_read(
    fleet, tmp_path
):
    work = tmp_path / "settings"
    shutil.copytree(fleet.services["settings"].work, work)
    state = json.loads((work / ".cruft.json").read_text())
    gone = tmp_path / "moved-away.git"
    state["template"] = str(gone)
    (work / ".cruft.json").write_text(json.dumps(state))
    result = weekly_check(work)
    assert result.returncode == 2
    assert result.stderr == ""
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"error: cannot read the template {gone}: ")
    assert line.endswith("does not appear to be a git repository"), line
    assert "fatal" not in line


def test_every_major_release_since_2_says_what_a_service_may_have_to_change():
    """PR.md's "What you may have to do" reads it from each CHANGELOG section."""
    changelog = sections((TEMPLATE / "CHANGELOG.md").read_text())
    since_2 = [tag for tag in changelog if version(tag) >= (2, 0, 0)]
    assert {"v2.0.0", "v2.1.0", "v3.0.0", "v3.1.0"} <= set(since_2)
    for tag in since_2:
        said = what_to_do(changelog[tag])
        assert said != "the section does not say.", tag
        assert len(said) > 20, (tag, said)
    assert what_to_do(changelog["v3.0.0"]).startswith(
        "what may break, and the one setting that opens each"
    )
    assert what_to_do(changelog["v2.0.0"]).startswith("- Cross-origin images")
