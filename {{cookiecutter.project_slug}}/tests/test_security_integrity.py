"""Trusted Types and script integrity: on by default, named policies, trials,
the exceptions that turn each off, and ``sri()`` for the pages' scripts.

The template owns this file. The apps here are the baked answers plus one
page; the headers are written out by hand, as in test_security_headers.py.
"""

import base64
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, render_template_string

from {{ cookiecutter.package_name }} import security
from {{ cookiecutter.package_name }}.security import check, integrity, live
from tests.test_security_policy import csp_directives, make_app, sent, unchecked_app
from tests.test_security_reports import logged, post

HTTP = "http://localhost"
INTEGRITY = "blocked-destinations=(script)"
INTEGRITY_HTTPS = "blocked-destinations=(script), endpoints=(csp)"
TT_OFF = {"TRUSTED_TYPES=false": "trialling Trusted Types first, SEC-1"}
INTEGRITY_OFF = {"INTEGRITY_POLICY=false": "CDN scripts without SRI yet, SEC-2"}


def refusal(**settings) -> str:
    with pytest.raises(security.PolicyError) as refused:
        make_app(**settings)
    message = str(refused.value)
    assert "\n" not in message
    return message


# Trusted Types.
def test_trusted_types_by_default_and_no_policy_may_be_created():
    csp = csp_directives(sent(make_app())["Content-Security-Policy"])
    assert csp["require-trusted-types-for"] == ["'script'"]
    assert csp["trusted-types"] == ["'none'"]


def test_csp_extend_names_the_policies_that_may_be_created_and_none_goes():
    app = make_app(CSP_EXTEND={"trusted-types": ["app-sanitizer", "dompurify"]})
    csp = csp_directives(sent(app)["Content-Security-Policy"])
    assert csp["trusted-types"] == ["app-sanitizer", "dompurify"]
    assert csp["require-trusted-types-for"] == ["'script'"]
    shown = json.loads(
        app.test_cli_runner().invoke(args=["security", "show", "--json"]).output
    )
    assert shown["csp_extended"]["trusted-types"] == {
        "starts_from": "trusted-types 'none'",
        "sends": "app-sanitizer dompurify",
    }


def test_one_view_may_name_a_policy_of_its_own():
    app = unchecked_app()
    app.add_url_rule(
        "/editor",
        "editor",
        security.override(csp_extend={"trusted-types": ["editor-html"]})(lambda: "e"),
    )
    security.init_app(app)
    editor, page = sent(app, "/editor"), sent(app, "/")
    assert "trusted-types editor-html" in editor["Content-Security-Policy"]
    assert "trusted-types 'none'" in page["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("name", "key", "why"),
    [
        ("*", "trusted-types *", "any script create a policy"),
        ("'allow-duplicates'", "trusted-types 'allow-duplicates'", "a second policy"),
    ],
)
def test_a_wildcard_or_duplicate_policies_need_an_exception(name, key, why):
    message = refusal(CSP_EXTEND={"trusted-types": ["app", name]})
    assert why in message
    assert f'SECURITY_EXCEPTIONS["{key}"]' in message
    app = make_app(
        CSP_EXTEND={"trusted-types": ["app", name]},
        SECURITY_EXCEPTIONS={key: "a library that needs it, SEC-3"},
    )
    csp = csp_directives(sent(app)["Content-Security-Policy"])
    assert csp["trusted-types"] == ["app", name]


@pytest.mark.parametrize("name", ["'none'", "a b", "a;b", "'script'", ""])
def test_what_is_not_a_policy_name_is_refused_in_one_line(name):
    assert "not a policy name" in refusal(CSP_EXTEND={"trusted-types": [name]})


def test_require_trusted_types_for_is_not_a_setting_to_extend():
    message = refusal(CSP_EXTEND={"require-trusted-types-for": ["'script'"]})
    assert "'require-trusted-types-for' is not one it can extend" in message


@pytest.mark.parametrize("setting", ["TRUSTED_TYPES", "INTEGRITY_POLICY"])
def test_either_off_is_refused_without_its_exception(setting):
    message = refusal(**{setting: False})
    assert f"{setting} = False is refused" in message
    assert f'SECURITY_EXCEPTIONS["{setting}=false"]' in message


def test_trusted_types_off_with_its_exception_sends_neither_directive(caplog):
    with caplog.at_level(logging.WARNING):
        app = make_app(TRUSTED_TYPES=False, SECURITY_EXCEPTIONS=TT_OFF)
    for base_url in (HTTP, "https://localhost"):
        csp = csp_directives(sent(app, base_url=base_url)["Content-Security-Policy"])
        assert "require-trusted-types-for" not in csp
        assert "trusted-types" not in csp
    assert "security exception in use: TRUSTED_TYPES=false" in caplog.text
    shown = json.loads(
        app.test_cli_runner().invoke(args=["security", "show", "--json"]).output
    )
    assert shown["settings"]["TRUSTED_TYPES"] is False
    assert shown["exceptions"] == TT_OFF


def test_naming_policies_with_trusted_types_off_is_refused():
    message = refusal(
        TRUSTED_TYPES=False,
        SECURITY_EXCEPTIONS=TT_OFF,
        CSP_EXTEND={"trusted-types": ["app"]},
    )
    assert "TRUSTED_TYPES = False" in message


def test_trusted_types_is_trialled_by_the_report_only_policy():
    app = make_app(
        TRUSTED_TYPES=False,
        SECURITY_EXCEPTIONS=TT_OFF,
        CSP_REPORT_ONLY={
            "require-trusted-types-for": ["'script'"],
            "trusted-types": ["app-sanitizer"],
        },
    )
    headers = sent(app)
    assert "trusted-types" not in headers["Content-Security-Policy"]
    assert headers["Content-Security-Policy-Report-Only"] == (
        "require-trusted-types-for 'script'; trusted-types app-sanitizer; "
        "report-uri /_security/csp-report; report-to csp"
    )


@pytest.mark.parametrize("setting", ["TRUSTED_TYPES", "INTEGRITY_POLICY"])
def test_a_switch_that_is_not_true_or_false_is_refused(setting):
    assert f"{setting} must be true or false" in refusal(**{setting: "no"})


# Integrity-Policy.
def test_integrity_policy_by_default_reporting_over_https_only():
    app = make_app()
    assert sent(app).getlist("Integrity-Policy") == [INTEGRITY_HTTPS]
    assert sent(app).getlist("Reporting-Endpoints") == ['csp="/_security/csp-report"']
    # Over plain HTTP it blocks the same, with no endpoint browsers would not use.
    assert sent(app, base_url=HTTP).getlist("Integrity-Policy") == [INTEGRITY]


def test_integrity_policy_off_with_its_exception_is_gone(caplog):
    with caplog.at_level(logging.WARNING):
        app = make_app(INTEGRITY_POLICY=False, SECURITY_EXCEPTIONS=INTEGRITY_OFF)
    assert "Integrity-Policy" not in sent(app)
    assert "Integrity-Policy-Report-Only" not in sent(app)
    assert "security exception in use: INTEGRITY_POLICY=false" in caplog.text


def test_integrity_policy_is_trialled_report_only():
    app = make_app(
        INTEGRITY_POLICY=False,
        INTEGRITY_POLICY_REPORT_ONLY=True,
        SECURITY_EXCEPTIONS=INTEGRITY_OFF,
    )
    assert "Integrity-Policy" not in sent(app)
    assert sent(app).getlist("Integrity-Policy-Report-Only") == [INTEGRITY_HTTPS]
    trial = sent(app, base_url=HTTP).getlist("Integrity-Policy-Report-Only")
    assert trial == [INTEGRITY]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"INTEGRITY_POLICY_REPORT_ONLY": True}, "already enforces"),
        ({"INTEGRITY_POLICY_REPORT_ONLY": "yes"}, "must be true or false"),
    ],
)
def test_a_trial_beside_the_policy_or_not_a_switch_is_refused(settings, message):
    assert message in refusal(**settings)


TT_REQUIRED = "require-trusted-types-for 'script'"
BELOW = "is below the floor and not a registered exception"


def test_security_check_names_a_deployment_that_drops_either():
    """A proxy that strips Integrity-Policy, or sends a CSP without Trusted Types."""
    app = make_app()
    page = "https://example.com/"
    tt = "; require-trusted-types-for 'script'; trusted-types 'none'"
    sent_live = [
        (name, value.replace(tt, ""))
        for name, value in check.app_headers(app, page)
        if name != "Integrity-Policy"
    ]
    problems = live.assess(check.expected_headers(app, page), sent_live, {})
    assert [(p.header, p.kind, p.floor, p.detail) for p in problems] == [
        ("Content-Security-Policy", "weaker", True, f"no {TT_REQUIRED} {BELOW}"),
        ("Content-Security-Policy", "weaker", True, f"no trusted-types {BELOW}"),
        ("Integrity-Policy", "missing", True, ""),
    ]
    excepted = {"TRUSTED_TYPES=false": "trial", "INTEGRITY_POLICY=false": "trial"}
    problems = live.assess(check.expected_headers(app, page), sent_live, excepted)
    assert [(p.header, p.kind, p.floor) for p in problems] == [
        ("Content-Security-Policy", "different", False),
        ("Integrity-Policy", "missing", False),
    ]


# sri() for the pages' scripts.
SCRIPT = b'document.body.dataset.ran = "yes";\n'
SRI = "{% raw %}{{ sri('app.js') }}{% endraw %}"
URL = "{% raw %}{{ url_for('static', filename='app.js') }}{% endraw %}"


@pytest.fixture
def static_app(tmp_path) -> Flask:
    (tmp_path / "js").mkdir()
    (tmp_path / "app.js").write_bytes(SCRIPT)
    app = Flask(__name__, static_folder=tmp_path, static_url_path="/static")
    app.config.from_mapping(unchecked_app().config)
    security.init_app(app)
    return app


def sha384(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def render(app: Flask, source: str) -> str:
    with app.test_request_context():
        return render_template_string(source)


def test_sri_gives_a_script_tag_its_integrity(static_app):
    tag = render(
        static_app,
        f'<script src="{URL}" integrity="{SRI}" crossorigin="anonymous"></script>',
    )
    assert tag == (
        f'<script src="/static/app.js" integrity="{sha384(SCRIPT)}" '
        'crossorigin="anonymous"></script>'
    )


def test_sri_hashes_each_file_once(static_app):
    first = render(static_app, SRI)
    (Path(static_app.static_folder) / "app.js").unlink()  # never read again
    assert render(static_app, SRI) == first


def test_in_debug_mode_sri_follows_the_file(static_app):
    static_app.debug = True
    assert render(static_app, SRI) == sha384(SCRIPT)
    changed = b"/* edited */\n" + SCRIPT
    (Path(static_app.static_folder) / "app.js").write_bytes(changed)
    assert render(static_app, SRI) == sha384(changed)


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        ("missing.js", "there is no file"),
        ("js", "there is no file"),  # a directory
        ("../secret.txt", "give a file name under static/"),
        ("/etc/passwd", "give a file name under static/"),
    ],
)
def test_a_file_that_is_not_there_is_a_clear_error_at_render(
    static_app, filename, message
):
    (Path(static_app.static_folder).parent / "secret.txt").write_text("secret")
    with pytest.raises(FileNotFoundError) as missing:
        render(static_app, SRI.replace("'app.js'", repr(filename)))
    assert str(missing.value).startswith(f"sri({filename!r}): {message}")
    assert "\n" not in str(missing.value)


def test_python_views_can_import_sri():
    assert security.sri is integrity.sri


# Integrity reports reach the receiver's log like CSP ones.
def integrity_report(blocked: str, report_only: bool = False) -> dict[str, Any]:
    return {
        "type": "integrity-violation",
        "url": "https://localhost/page",
        "body": {
            "documentURL": "https://localhost/page",
            "blockedURL": blocked,
            "destination": "script",
            "reportOnly": report_only,
        },
    }


def test_an_integrity_violation_is_one_log_line_with_what_was_blocked_where(caplog):
    app = make_app()
    batch = [
        integrity_report("https://localhost/static/app.js"),
        integrity_report("https://cdn.example.com/lib.js", report_only=True),
    ]
    response = post(app.test_client(), batch, "application/reports+json")
    assert response.status_code == 204
    assert logged(caplog) == [
        {
            "event": "integrity-violation",
            "document": "https://localhost/page",
            "directive": "script",
            "blocked": "https://localhost/static/app.js",
            "disposition": "enforce",
            "sample": None,
            "user_agent": "TestBrowser/1.0",
            "count": 1,
        },
        {
            "event": "integrity-violation",
            "document": "https://localhost/page",
            "directive": "script",
            "blocked": "https://cdn.example.com/lib.js",
            "disposition": "report",
            "sample": None,
            "user_agent": "TestBrowser/1.0",
            "count": 1,
        },
    ]


def test_repeated_integrity_violations_are_counted_apart_from_csp_ones(caplog):
    app = make_app()
    client = app.test_client()
    same_url = "https://localhost/static/app.js"
    csp = {
        "type": "csp-violation",
        "body": {
            "documentURL": "https://localhost/page",
            "effectiveDirective": "script-src-elem",
            "blockedURL": same_url,
            "disposition": "enforce",
        },
    }
    for _ in range(3):
        post(client, [integrity_report(same_url), csp], "application/reports+json")
    app.extensions["security.reports"].close()
    lines = logged(caplog)
    assert [(line["event"], line["count"]) for line in lines] == [
        ("integrity-violation", 1),
        ("csp-violation", 1),
        ("integrity-violation-repeated", 2),
        ("csp-violation-repeated", 2),
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"documentURL": 42, "blockedURL": ["x"], "reportOnly": "no"},
        {},
    ],
    ids=["not-text", "empty"],
)
def test_an_integrity_report_with_odd_values_logs_what_it_can(caplog, body):
    app = make_app()
    report = [{"type": "integrity-violation", "body": body}]
    response = post(app.test_client(), report, "application/reports+json")
    assert response.status_code == 204
    [line] = logged(caplog)
    assert line["event"] == "integrity-violation"
    assert [line["document"], line["blocked"], line["disposition"]] == [None] * 3
