"""Proof in Chromium: nonce'd inline code runs, other inline code is blocked and
reported, the report reaches the service's receiver and its log, over plain
HTTP (report-uri) and over HTTPS (report-to), and a report-only trial reports
without blocking. Trusted Types refuse a plain string at a DOM sink and any
policy the settings do not name; Integrity-Policy refuses a script without
integrity or with the wrong bytes, and its report reaches the log.

Every server is a bake under its own gunicorn.conf.py on 127.0.0.1, stopped by
its fixture; the browsers too. Waits for reports are bounded.
"""

import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from testkit.bake import bake, bake_pythonpath
from testkit.browser import chromium
from testkit.servers import gunicorn
from tests.browser_pages import (
    ROGUE_SCRIPT,
    SCRIPTS_RAN,
    TRUSTED_TYPES_OUTCOMES,
    add_pages,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PACKAGE = "example_service"
RECEIVER = "/_security/csp-report"
# In front of the bake's app: one stderr line per report POST naming its
# Content-Type, which tells report-uri (application/csp-report) from report-to
# (application/reports+json).
REPORTS_SEEN = f'''"""The baked app, saying how each report was delivered."""

import sys

from {PACKAGE}.wsgi import app as service


def app(environ, start_response):
    if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"] == "{RECEIVER}":
        print("report delivered as", environ.get("CONTENT_TYPE"), file=sys.stderr, flush=True)
    return service(environ, start_response)
'''
# The trial: images from nowhere. The page's image is reported, still shown.
TRIAL = {"img-src": ["'none'"]}
NAMED_POLICY = json.dumps({"trusted-types": ["app-sanitizer"]})
REPORT_WAIT_SECONDS = 20  # report-to with --short-reporting-delay: a few seconds


@dataclass
class Service:
    url: str
    log: Path

    def violations(self) -> list[dict]:
        """The receiver's log lines: one JSON object per violation."""
        found = []
        for line in self.log.read_text().splitlines():
            if "WARNING in reports: " in line:
                found.append(json.loads(line.split("WARNING in reports: ", 1)[1]))
        return found

    def deliveries(self) -> list[str]:
        prefix = "report delivered as "
        return [
            line.removeprefix(prefix)
            for line in self.log.read_text().splitlines()
            if line.startswith(prefix)
        ]

    def wait_for(self, **fields: str) -> dict:
        """The first violation with these fields, within REPORT_WAIT_SECONDS."""
        deadline = time.monotonic() + REPORT_WAIT_SECONDS
        while True:
            for violation in self.violations():
                if all(violation.get(k) == v for k, v in fields.items()):
                    return violation
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no violation with {fields} in {REPORT_WAIT_SECONDS} s: {self.violations()}"
                )
            time.sleep(0.1)


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> tuple[Path, Path, Path]:
    directory = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    files = (directory / "ca.pem", directory / "chain.pem", directory / "key.pem")
    ca.cert_pem.write_to_path(str(files[0]))
    files[1].write_bytes(b"".join(pem.bytes() for pem in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(files[2]))
    return files


def serve(
    tmp_path_factory, app: str = "reports_seen:app", tls=None, **env: str
) -> Iterator[Service]:
    project = bake(tmp_path_factory.mktemp("csp"))
    package = project / "src" / PACKAGE
    add_pages(package)
    (project / "reports_seen.py").write_text(REPORTS_SEEN)
    with gunicorn(
        Path(sys.executable),
        project,
        app,
        workers=1,
        tls=tls,
        **bake_pythonpath(project),
        **env,
    ) as (_, port):
        scheme = "https" if tls else "http"
        yield Service(f"{scheme}://127.0.0.1:{port}", project / "gunicorn.log")


@pytest.fixture(scope="module")
def over_http(tmp_path_factory):
    """The bake over plain HTTP, trialling TRIAL as its report-only policy."""
    yield from serve(tmp_path_factory, FLASK_CSP_REPORT_ONLY=json.dumps(TRIAL))


@pytest.fixture(scope="module")
def over_https(tmp_path_factory, tls):
    """The bake over HTTPS, naming one Trusted Types policy, as a team would."""
    yield from serve(tmp_path_factory, tls=tls, FLASK_CSP_EXTEND=NAMED_POLICY)


@pytest.fixture(scope="module")
def headers_off(tmp_path_factory):
    """The control: the same page from bare Flask, no policy at all."""
    yield from serve(tmp_path_factory, app='testkit.contenders:make("bare")')


@pytest.fixture(scope="module")
def browser():
    # Reports by report-to come within seconds, not a minute; the test CA is
    # not in Chromium's store (the reporting service obeys only this flag).
    with chromium("--short-reporting-delay", "--ignore-certificate-errors") as launched:
        yield launched


class Awaited:
    """The first report ``server`` logs with ``fields``, as a page's ``then``:
    awaited before the browser's context closes, which would drop the reports
    Chromium has queued."""

    def __init__(self, server, **fields):
        self.server, self.fields = server, fields
        self.found = None

    def __call__(self):
        self.found = self.server.wait_for(**self.fields)


@dataclass
class Visit:
    nonced: str
    rogue: str
    picture_width: int
    console: list[str]


def visit(browser, url: str, then=lambda: None) -> Visit:
    """What the page did; ``then`` runs before its browser context closes, which
    would drop the reports Chromium has queued but not yet sent."""
    context = browser.new_context(ignore_https_errors=True)
    console: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda message: console.append(message.text))
        page.goto(url, wait_until="load", timeout=15000)
        seen = Visit(
            page.inner_text("#nonced"),
            page.inner_text("#rogue"),
            page.evaluate("document.getElementById('picture').naturalWidth"),
            console,
        )
        then()
        return seen
    finally:
        context.close()


def test_the_nonced_script_runs_and_the_other_is_blocked(browser, over_http):
    seen = visit(browser, f"{over_http.url}/inline")
    assert seen.nonced == "ran"
    assert seen.rogue == "waiting"
    assert any(
        "Executing inline script violates" in m and "The action has been blocked" in m
        for m in seen.console
    ), seen.console


def test_control_without_a_policy_both_scripts_run(browser, headers_off):
    seen = visit(browser, f"{headers_off.url}/inline")
    assert (seen.nonced, seen.rogue) == ("ran", "ran")


def test_over_http_the_block_is_reported_by_report_uri_and_logged(browser, over_http):
    page = f"{over_http.url}/inline"
    report = Awaited(
        over_http, document=page, directive="script-src-elem", disposition="enforce"
    )
    visit(
        browser,
        page,
        then=report,
    )
    violation = report.found
    assert violation["blocked"] == "inline"
    assert violation["sample"] == ROGUE_SCRIPT[:40]  # 'report-sample': the code's start
    assert "HeadlessChrome" in violation["user_agent"]
    assert "application/csp-report" in over_http.deliveries()
    assert "application/reports+json" not in over_http.deliveries()


def test_over_https_the_block_is_reported_by_report_to_and_logged(browser, over_https):
    page = f"{over_https.url}/inline"
    report = Awaited(
        over_https, document=page, directive="script-src-elem", disposition="enforce"
    )
    seen = visit(
        browser,
        page,
        then=report,
    )
    assert (seen.nonced, seen.rogue) == ("ran", "waiting")
    violation = report.found
    assert violation["sample"] == ROGUE_SCRIPT[:40]
    # Chromium took report-to and left report-uri alone, as REFERENCES measured.
    assert set(over_https.deliveries()) == {"application/reports+json"}


def test_a_trial_policy_reports_without_blocking(browser, over_http):
    page = f"{over_http.url}/inline"
    report = Awaited(
        over_http, document=page, directive="img-src", disposition="report"
    )
    seen = visit(
        browser,
        page,
        then=report,
    )
    assert seen.picture_width > 0  # the trial blocks nothing
    assert any("The policy is report-only" in m for m in seen.console), seen.console
    violation = report.found
    assert violation["blocked"] == f"{over_http.url}/static/favicon.svg"


@dataclass
class Looked:
    found: object  # what the page's ``look`` returned
    console: list[str]


def look(browser, url: str, script: str, then=lambda: None) -> Looked:
    """Open ``url``, evaluate ``script`` there; ``then`` runs before the context
    closes (which would drop the reports Chromium has queued)."""
    context = browser.new_context(ignore_https_errors=True)
    console: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda message: console.append(message.text))
        page.on("pageerror", lambda error: console.append(str(error)))
        page.goto(url, wait_until="load", timeout=15000)
        found = page.evaluate(script)
        then()
        return Looked(found, console)
    finally:
        context.close()


def test_the_home_page_says_nothing_in_the_console_over_https(browser, over_https):
    seen = look(browser, f"{over_https.url}/", "() => document.title")
    assert seen.found == "Example Service"
    assert seen.console == []


def test_a_plain_string_at_a_dom_sink_is_refused_and_reported(browser, over_http):
    """No policy named: the sink refuses the string, no policy may be made."""
    page = f"{over_http.url}/trusted-types"
    report = Awaited(over_http, document=page, directive="require-trusted-types-for")
    seen = look(
        browser,
        page,
        TRUSTED_TYPES_OUTCOMES,
        then=report,
    )
    assert seen.found == {
        "sink": "TypeError",
        "named": "TypeError",
        "unnamed": "TypeError",
    }
    assert any("requires 'TrustedHTML' assignment" in m for m in seen.console), seen
    violation = report.found
    assert violation["blocked"] == "trusted-types-sink"
    assert violation["sample"].startswith("Element innerHTML|<b>a plain string")
    assert violation["disposition"] == "enforce"


def test_only_the_policy_the_settings_name_can_be_created(browser, over_https):
    page = f"{over_https.url}/trusted-types"
    report = Awaited(over_https, document=page, directive="trusted-types")
    seen = look(
        browser,
        page,
        TRUSTED_TYPES_OUTCOMES,
        then=report,
    )
    assert seen.found == {
        "sink": "TypeError",
        "named": "allowed",
        "unnamed": "TypeError",
    }
    violation = report.found
    assert violation["blocked"] == "trusted-types-policy"
    assert violation["sample"].startswith("rogue-policy")


def test_a_script_without_integrity_or_with_other_bytes_is_blocked(browser, over_https):
    page = f"{over_https.url}/scripts"
    report = Awaited(
        over_https,
        event="integrity-violation",
        document=page,
        blocked=f"{over_https.url}/static/app.js?no-integrity",
    )
    seen = look(
        browser,
        page,
        SCRIPTS_RAN,
        then=report,
    )
    assert seen.found == {"whole": "ran"}  # only integrity="{{ sri('app.js') }}"
    assert any(
        "tampered.js" in m and "Failed to find a valid digest" in m
        for m in seen.console
    ), seen.console
    violation = report.found
    assert violation["directive"] == "script"
    assert violation["disposition"] == "enforce"


def test_over_plain_http_scripts_without_integrity_are_blocked_too(browser, over_http):
    seen = look(browser, f"{over_http.url}/scripts", SCRIPTS_RAN)
    assert seen.found == {"whole": "ran"}


def test_control_without_a_policy_strings_reach_sinks_and_scripts_run(
    browser, headers_off
):
    sinks = look(browser, f"{headers_off.url}/trusted-types", TRUSTED_TYPES_OUTCOMES)
    assert sinks.found == {"sink": "allowed", "named": "allowed", "unnamed": "allowed"}
    scripts = look(browser, f"{headers_off.url}/scripts", SCRIPTS_RAN)
    # Subresource Integrity alone still refuses the wrong bytes.
    assert scripts.found == {"plain": "ran", "whole": "ran"}
