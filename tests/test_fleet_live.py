"""`python -m fleet report`'s live view: what each service's URL sends, against
its release's floor and what its repository says.

Real deployments: services baked from the tagged template copy that the fleet
tests share (testkit.services), each served by gunicorn on 127.0.0.1 behind
one Debian nginx that terminates TLS with a scratch CA, given to the report
as ``ca_bundle`` (testkit.deployments). The report runs once over every state;
the exit statuses are those of the report over its rows, as in
test_fleet_report.py.
"""

import contextlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from fleet.fleet_file import load
from fleet.report import Report, Row, summarise
from testkit.browser import chromium
from testkit.commands import clean_env, run
from testkit.deployments import (
    SECRET,
    Front,
    certificates,
    nginx,
    require_nginx,
    served,
    silent_socket,
)
from testkit.servers import free_port
from testkit.services import EXCEPTION, bake_service, commit_and_push

pytestmark = pytest.mark.xdist_group("fleet")

# A CSP a proxy puts in place of the service's: its own, and 'unsafe-inline'.
INLINE_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-eval' 'unsafe-inline'; "
    "style-src 'self'; img-src 'self' https://cdn.example.com; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'; "
    "require-trusted-types-for 'script'; trusted-types 'none'"
)
MARK_LINE = (
    '\n__import__("pathlib").Path({mark!r}).write_text("config.py was imported")\n'
)
# The front's own redirect, to a page on the same origin (nginx makes it absolute).
MOVED = "location = /moved { return 302 /; }"


@pytest.fixture(scope="module", autouse=True)
def nginx_binary():
    require_nginx()


@pytest.fixture(scope="module")
def live(fleet, tmp_path_factory):
    """Every state at once, the report run once over them all."""
    root = tmp_path_factory.mktemp("live")
    _, middle, newest = fleet.releases.tags
    template = fleet.releases.template
    repos, deploys = root / "repos", root / "deploys"
    repos.mkdir()
    deploys.mkdir()
    # At the newest release in its repository, deployed from the previous one.
    stale = bake_service(repos, template, "stale", newest)
    stale_build = bake_service(deploys, template, "stale", middle).work
    # Its config.py leaves a mark when imported; its repository is at the newest release.
    mark = root / "imported"
    marked = bake_service(repos, template, "marked", newest)
    config = marked.work / "src/marked/config.py"
    config.write_text(config.read_text() + MARK_LINE.format(mark=str(mark)))
    commit_and_push(marked, "A config.py that runs code")
    # The settings service deployed as its repository has it.
    settings = fleet.services["settings"]
    settings_build = deploys / "settings"
    run("git", "clone", "-q", str(settings.remote), str(settings_build), cwd=root)

    ours = certificates(root, "ours")
    theirs = certificates(root, "another")
    with contextlib.ExitStack() as stack:
        settings_port = stack.enter_context(served(settings_build))
        stale_port = stack.enter_context(served(stale_build))
        fronts = {
            "settings": Front(settings_port, ours, MOVED),
            "hidden-csp": Front(
                settings_port, ours, "proxy_hide_header Content-Security-Policy;"
            ),
            "inline-csp": Front(
                settings_port,
                ours,
                "proxy_hide_header Content-Security-Policy; "
                f'add_header Content-Security-Policy "{INLINE_CSP}" always;',
            ),
            "another-ca": Front(settings_port, theirs),
            "stale": Front(stale_port, ours),
            "down": Front(free_port(), ours),  # its upstream is down: nginx's 502
        }
        stack.enter_context(nginx(root / "nginx", list(fronts.values())))
        silent = stack.enter_context(silent_socket())
        urls = {name: front.url for name, front in fronts.items()}
        urls["marked"] = fronts["stale"].url  # meets the floor of its release
        urls["moved"] = fronts["settings"].url + "moved"
        urls["not-found"] = fronts["settings"].url + "no-such-page"
        urls["closed"] = f"https://127.0.0.1:{free_port()}/"
        urls["silent"] = silent
        repo_of = {"stale": stale.remote, "marked": marked.remote}
        fleet_file = root / "FLEET.toml"
        lines = [
            f"template = {json.dumps(str(template))}",
            f'minimum = "{middle}"',
            'ca_bundle = "ours-ca.pem"',  # relative to the fleet file
            "live_timeout = 2",
        ]
        for name, url in urls.items():
            repo = repo_of.get(name, settings.remote)
            lines += ["", "[[service]]", f'name = "{name}"']
            lines += [f"repo = {json.dumps(str(repo))}", f'url = "{url}"']
        two_behind = fleet.services["two-behind"].remote
        lines += [
            "",
            "[[service]]",
            'name = "no-url"',
            f"repo = {json.dumps(str(two_behind))}",
        ]
        fleet_file.write_text("\n".join(lines) + "\n")
        # What each service's own `security check` says of the same deployments.
        checked = {
            **security_check(
                settings_build,
                ours.ca,
                urls,
                AS_SETTINGS,
            ),
            **security_check(stale.work, ours.ca, urls, ["stale"]),
        }
        page = root / "fleet.html"
        result = run(
            sys.executable, "-m", "fleet", "report", fleet_file,
            "--json", root / "fleet.json", "--html", page, cwd=root, check=False,
        )  # fmt: skip
    rows = json.loads((root / "fleet.json").read_text())
    return Live(
        {row["name"]: row for row in rows}, result, fleet_file, page, mark, checked
    )


# The deployments of the settings service's repository, which its own
# `security check` is run against.
AS_SETTINGS = [
    "settings",
    "hidden-csp",
    "inline-csp",
    "another-ca",
    "closed",
    "moved",
    "not-found",
    "down",
]


@dataclass
class Live:
    rows: dict[str, dict]  # the JSON's rows, by name
    result: subprocess.CompletedProcess  # of python -m fleet report
    fleet_file: Path
    page: Path
    mark: Path  # written if the marked service's config.py is ever imported
    checked: dict[str, str]  # `security check`'s line for the same deployment


def security_check(
    project, cafile, urls: dict[str, str], names: list[str]
) -> dict[str, str]:
    """``flask security check`` in the deployment's settings: its line per name."""
    package = project.name.replace("-", "_")
    result = run(
        sys.executable, "-m", "flask", "--app", package, "security", "check",
        "--cafile", cafile, *(urls[n] for n in names),
        cwd=project, check=False,
        env=clean_env(
            PYTHONPATH=str(project / "src"),
            FLASK_SECRET_KEY=SECRET,
            FLASK_TRUSTED_PROXY_HOPS="1",
        ),
    )  # fmt: skip
    lines = result.stdout.splitlines()
    assert len(lines) == len(names), result.stdout + result.stderr
    return dict(zip(names, lines, strict=True))


def test_a_deployment_as_its_repository_says_with_its_exception_is_ok(live):
    rows = live.rows
    assert rows["settings"]["exceptions"] == EXCEPTION  # 'unsafe-eval', registered
    assert (rows["settings"]["live"], rows["settings"]["live_findings"]) == ("ok", [])


def test_a_deployment_of_the_previous_release_differs_naming_the_header(fleet, live):
    newest = fleet.releases.tags[2]
    assert live.rows["stale"]["baseline"] == newest
    assert (live.rows["stale"]["live"], live.rows["stale"]["live_findings"]) == (
        "differs",
        [
            "Referrer-Policy is 'strict-origin-when-cross-origin', "
            f"its repository at {newest} says 'same-origin'"
        ],
    )


def test_a_proxy_that_hides_the_csp_is_below_the_floor(live):
    row = live.rows["hidden-csp"]
    assert (row["live"], row["live_findings"]) == (
        "below-floor",
        ["Content-Security-Policy missing"],
    )


def test_a_proxys_csp_with_unsafe_inline_is_below_the_floor(live):
    row = live.rows["inline-csp"]
    assert (row["live"], row["live_findings"]) == (
        "below-floor",
        [
            "Content-Security-Policy: script-src 'unsafe-inline' is below the floor "
            "and not a registered exception"
        ],
    )


@pytest.mark.parametrize(
    ("name", "finding"),
    [
        (
            "another-ca",
            "TLS certificate not accepted: unable to get local issuer certificate",
        ),
        ("closed", "connection refused"),
        ("silent", "no answer within 2 s"),
        ("down", "answered 502"),  # not below the floor: not the service's answer
    ],
)
def test_what_gives_no_answer_is_unreachable_saying_why(live, name, finding):
    row = live.rows[name]
    assert (row["live"], row["live_findings"]) == ("unreachable", [finding])
    assert row["error"] is None  # its repository was read


def test_a_config_py_that_runs_code_is_never_imported_and_only_the_floor_counts(live):
    rows, mark = live.rows, live.mark
    assert not mark.exists()
    assert rows["marked"]["live"] == "ok"
    (note,) = rows["marked"]["live_findings"]
    assert note.startswith("only the floor is compared: config.py line ")
    assert note.endswith(" runs code, so what its repository sends is not known")


def test_a_redirect_on_the_same_origin_is_followed(live):
    assert (live.rows["moved"]["live"], live.rows["moved"]["live_findings"]) == (
        "ok",
        [],
    )


def test_a_status_that_is_not_a_page_is_named_besides_the_headers(live):
    """The app's 404 carries every header: the status alone differs."""
    row = live.rows["not-found"]
    assert (row["live"], row["live_findings"]) == ("differs", ["answered 404"])


@pytest.mark.parametrize("name", [*AS_SETTINGS, "stale"])
def test_the_services_own_security_check_says_the_same(fleet, live, name):
    """Run where the repository is (its settings): the same verdict, the same
    findings, in the check's words for whose the expected side is; a
    redirect on the same origin followed by both."""
    row, line = live.rows[name], live.checked[name]
    word, _, rest = line.partition(" ")
    assert word == {"ok": "OK", "unreachable": "ERROR"}.get(row["live"], "MISMATCH")
    if word == "OK":
        assert row["live_findings"] == []
        return
    found = rest.split(": ", 1)[1].split("; ")
    ours = [
        finding.replace(
            f"its repository at {row['baseline']} says", "the service sends"
        )
        for finding in row["live_findings"]
    ]
    assert found == ours


def test_a_service_without_url_has_no_live_view(live):
    row = live.rows["no-url"]
    assert (row["live"], row["live_findings"]) == (None, [])
    assert row["error"] is None


def test_exit_status_and_the_table(live):
    rows, result, fleet_file = live.rows, live.result, live.fleet_file
    assert result.returncode == 2, result.stderr  # some are unreachable
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].split()[-2:] == ["live", "findings"]
    assert lines[-1].endswith(
        "3 live ok, 2 live differs, 2 live below floor, 4 live unreachable"
    )

    def status(*names):
        report = Report(load(fleet_file), [Row(**rows[n]) for n in names])
        return report.exit_status

    assert status("settings", "marked") == 0
    assert status("settings", "stale") == 1  # differs
    assert status("settings", "hidden-csp") == 1  # below the floor
    assert status("settings", "closed") == 2  # unreachable: not read


@pytest.mark.browser
def test_the_page_shows_the_live_column_and_counts(fleet, live):
    rows, page_file = live.rows, live.page
    with chromium() as browser:
        page = browser.new_page()
        console = []
        page.on("console", lambda message: console.append(message.text))
        page.on("pageerror", lambda error: console.append(str(error)))
        page.goto(page_file.as_uri())
        counts = {
            cell.get_attribute("data-count"): int(cell.inner_text())
            for cell in page.locator("dd[data-count]").all()
        }
        headings = page.locator("thead th").all_inner_texts()
        cells = {
            tr.locator("td").first.inner_text(): tr.locator("td").all_inner_texts()
            for tr in page.locator("tbody tr").all()
        }
        classes = {
            tr.locator("td").first.inner_text(): tr.get_attribute("class")
            for tr in page.locator("tbody tr").all()
        }
        page.close()
    assert console == []
    assert counts == summarise(list(rows.values()), fleet.releases.tags[1])
    assert counts["live unreachable"] == 4
    live_column = headings.index("live")
    assert headings[live_column + 1] == "live findings"
    assert cells["inline-csp"][live_column] == "below-floor"
    assert "'unsafe-inline' is below the floor" in cells["inline-csp"][live_column + 1]
    assert cells["no-url"][live_column] == ""
    assert classes["closed"] == "error"
    assert classes["stale"] == "attention"
