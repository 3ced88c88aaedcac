"""`python -m fleet report`: every service's release, drift, exceptions and update preview.

The fleet (tests/conftest.py, testkit.services) is built once: a copy of the
template tagged as the changelog's newest release, then two real policy
changes (Origin-Agent-Cluster; Referrer-Policy same-origin), and a service in
every state the report tells apart. The minimum is the middle release.
"""

import json
import sys

import pytest

from fleet.fleet_file import load
from fleet.output import table
from fleet.report import Report, Row, summarise
from testkit import TEMPLATE
from testkit.browser import chromium
from testkit.commands import clean_env, run
from testkit.services import EXCEPTION

pytestmark = pytest.mark.xdist_group("fleet")
SECRET = {"FLASK_SECRET_KEY": "test-only-secret"}


def fleet_report(fleet_file, *args, cwd):
    return run(
        sys.executable, "-m", "fleet", "report", fleet_file, *args, cwd=cwd, check=False
    )


def expected_rows(fleet) -> list[dict]:
    old, middle, newest = fleet.releases.tags
    remote = fleet.services["missing"].remote

    def row(name, baseline, behind, update, **fields):
        return {
            "name": name,
            "baseline": baseline,
            "latest": newest,
            "behind": behind,
            "owned_changed": [],
            "exceptions": {},
            "update": update,
            "conflicts": [],
            "error": None,
            "live": None,  # no url: tests/test_fleet_live.py
            "live_findings": [],
        } | fields

    def unreadable(name, error):
        return row(name, None, None, None, exceptions=None, error=error)

    return [  # worst first: unreadable, below the minimum, conflicting, drifted, behind
        unreadable(
            "missing",
            f"cannot clone {remote}: repository '{remote}' does not exist",
        ),
        unreadable(
            "no-service",
            "not a baked service: no .cruft.json and no src/<package>/security/",
        ),
        unreadable(
            "stranger",
            "template commit 0123456789abcdef0123456789abcdef01234567 in .cruft.json "
            f"is not in {fleet.releases.template}: baked from another template?",
        ),
        row("two-behind", old, 2, "clean"),  # its own test is not drift
        row("plain", None, None, "not-linked"),
        row(
            "conflict",
            middle,
            1,
            "conflict",
            owned_changed=["src/conflict/security/policy.py"],
            conflicts=["src/conflict/security/policy.py"],
        ),
        row(
            "edited-policy",
            middle,
            1,
            "clean",
            owned_changed=["src/edited_policy/security/policy.py"],
        ),
        # Settings, an exception and an overridden view: none of it is drift.
        row("settings", middle, 1, "clean", exceptions=EXCEPTION),
        # SECURITY_EXCEPTIONS given through a name, not a literal: unreadable.
        row("current", newest, 0, "current", exceptions=None),
    ]


def test_every_field_of_every_row_worst_first(fleet, full):
    _, rows, _ = full
    assert rows == expected_rows(fleet)


def test_the_table_has_one_line_per_service_worst_first_and_the_counts(fleet, full):
    result, rows, _ = full
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["name", "baseline", "latest", "behind"]
    assert [line.split()[0] for line in lines[1:10]] == [row["name"] for row in rows]
    conflict = next(line for line in lines if line.startswith("conflict "))
    assert conflict.split()[1:5] == [
        fleet.releases.tags[1],
        fleet.releases.tags[2],
        "1",
        "src/conflict/security/policy.py",
    ]
    assert "unreadable" in next(line for line in lines if line.startswith("current "))
    assert lines[-1] == (
        f"minimum {fleet.releases.tags[1]}: 9 services, 1 current, 4 behind, "
        "2 drifted, 2 below minimum, 1 not linked, 3 unreadable, "
        "0 live ok, 0 live differs, 0 live below floor, 0 live unreachable"
    )


def test_exit_status_2_when_any_service_cannot_be_read(full):
    result, _, _ = full
    assert result.returncode == 2, result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("names", "status"),
    [
        (["current", "settings"], 0),  # at or above the minimum, nothing drifted
        (["current", "edited-policy"], 1),  # an owned file changed
        (["current", "two-behind"], 1),  # below the minimum
        (["settings", "plain"], 1),  # not linked: no release at all
    ],
    ids=["all-good", "drifted", "below-minimum", "not-linked"],
)
def test_exit_status(fleet, full, names, status):
    """Over those rows of the full report: each service's row is read on its own,
    so a fleet of only these services gets these rows. The command returns the
    report's status: 2 above, 0 in test_make_fleet_writes_the_json_and_the_page."""
    _, rows, _ = full
    report = Report(
        load(fleet.file), [Row(**row) for row in rows if row["name"] in names]
    )
    assert report.exit_status == status
    assert len(table(report).splitlines()) == 1 + len(names) + 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("template = [", "is not TOML: "),
        (
            'template = "{template}"\nminimum = "{minimum}"\n[[service]]\nname = "a"\n',
            "service 'a' has no repo; add repo = \"<git URL or path>\"",
        ),
        (
            'template = "{template}"\nminimum = "2.0"\n[[service]]\nname = "a"\nrepo = "a"\n',
            "minimum = '2.0' is not a release; give a tag such as minimum = \"v2.0.0\"",
        ),
        (
            'template = "{template}"\nminimum = "v9.9.9"\n[[service]]\nname = "a"\nrepo = "a"\n',
            "minimum = 'v9.9.9' is not a release of {template} (its releases: {releases})",
        ),
        (
            'template = "{template}"\nminimum = "{minimum}"\n[[service]]\nname = "a"\nrepo = "a"\ntest = "no"\n',
            "service 'a' has test = 'no'; give test = false (fleet update --test leaves "
            "its tests to its own CI) or leave it out",
        ),
    ],
    ids=[
        "not-toml",
        "no-repo",
        "minimum-not-a-tag",
        "minimum-not-a-release",
        "test-not-a-boolean",
    ],
)
def test_a_bad_fleet_file_gets_one_line_and_status_2(fleet, tmp_path, text, message):
    names = {
        "template": fleet.releases.template,
        "minimum": fleet.releases.tags[0],
        "releases": ", ".join(fleet.releases.tags),
    }
    fleet_file = tmp_path / "FLEET.toml"
    fleet_file.write_text(text.format(**names))
    result = fleet_report(fleet_file, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("error: ")
    assert message.format(**names) in result.stderr


def test_make_fleet_writes_the_json_and_the_page(fleet, tmp_path):
    fleet_file = fleet.fleet_file(["current", "settings"], tmp_path / "FLEET.toml")
    # -o: never rebuild the .venv these tests run in, whatever its age.
    result = run(
        "make", "-s", "-o", ".venv/.ready", "fleet", f"FLEET={fleet_file}", cwd=TEMPLATE
    )
    rows = json.loads((TEMPLATE / "build/fleet.json").read_text())
    assert [row["name"] for row in rows] == ["settings", "current"]
    assert "settings" in (TEMPLATE / "build/fleet.html").read_text()
    assert "settings " in result.stdout


@pytest.mark.browser
def test_the_page_renders_alone_with_no_console_error_and_the_jsons_counts(fleet, full):
    _, rows, page_file = full
    html = page_file.read_text()
    assert "<script" not in html
    assert "http://" not in html
    assert "https://" not in html
    with chromium() as browser:
        page = browser.new_page()
        console, requests = [], []
        page.on("console", lambda message: console.append(message.text))
        page.on("pageerror", lambda error: console.append(str(error)))
        page.on("request", lambda request: requests.append(request.url))
        page.goto(page_file.as_uri())
        counts = {
            cell.get_attribute("data-count"): int(cell.inner_text())
            for cell in page.locator("dd[data-count]").all()
        }
        table_names = page.locator("tbody tr td:first-child").all_inner_texts()
        page.close()
    assert console == []
    assert requests == [page_file.as_uri()]  # nothing else was loaded
    assert counts == summarise(rows, fleet.releases.tags[1])
    assert counts["unreadable"] == 3
    assert counts["behind"] == 4
    assert table_names == [row["name"] for row in rows]
    (reason,) = EXCEPTION.values()
    assert f"script-src 'unsafe-eval': {reason}" in html  # the register, with reasons


def test_security_show_names_the_baseline_release(fleet):
    newest = fleet.releases.tags[2]
    commit = fleet.releases.template
    service = fleet.services["current"].work
    shown = run(
        sys.executable, "-m", "flask", "--app", "current", "security", "show",
        cwd=service, env=clean_env(PYTHONPATH=str(service / "src"), **SECRET),
    )  # fmt: skip
    tagged = run("git", "rev-parse", f"{newest}^{{commit}}", cwd=commit).stdout.strip()
    assert f"Baseline release: {newest} (template commit {tagged[:12]})" in shown.stdout
    plain = fleet.services["plain"].work
    shown = run(
        sys.executable, "-m", "flask", "--app", "plain", "security", "show", "--json",
        cwd=plain, env=clean_env(PYTHONPATH=str(plain / "src"), **SECRET),
    )  # fmt: skip
    assert json.loads(shown.stdout)["baseline"] is None


def test_a_folder_for_the_fleet_file_gets_one_line_and_status_2(tmp_path):
    result = fleet_report(tmp_path, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: {tmp_path} is a folder; give the fleet file in it, e.g. {tmp_path / 'FLEET.toml'}\n"
    )


@pytest.mark.parametrize("option", ["--json", "--html"])
def test_an_output_that_cannot_be_written_gets_one_line_and_status_2(
    fleet, tmp_path, option
):
    fleet_file = fleet.fleet_file(["current"], tmp_path / "FLEET.toml")
    folder = tmp_path / "a-folder"
    folder.mkdir()
    result = fleet_report(fleet_file, option, folder, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout.startswith("name ")  # the table came first
    assert result.stderr == f"error: cannot write {folder}: Is a directory\n"


def test_a_service_whose_clone_cannot_be_read_gets_an_error_row(
    fleet, tmp_path, monkeypatch
):
    """An OSError reading one service's files is that service's error, not the run's."""
    from fleet import report

    def unreadable_second(root):
        if root.name == "1":
            raise PermissionError(13, "Permission denied", str(root / "src/x.py"))
        return read_clone(root)

    read_clone = report.read_clone
    monkeypatch.setattr(report, "read_clone", unreadable_second)
    fleet_file = fleet.fleet_file(["current", "settings"], tmp_path / "FLEET.toml")
    result = report.build_report(load(fleet_file))
    rows = {row.name: row for row in result.rows}
    assert rows["current"].error is None
    error = rows["settings"].error
    assert error.startswith(
        f"cannot read the clone of {fleet.services['settings'].remote}: "
    )
    assert error.endswith("/src/x.py: Permission denied")
    assert result.exit_status == 2
