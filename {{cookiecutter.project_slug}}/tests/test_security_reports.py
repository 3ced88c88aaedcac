"""Violation reports: where they go (under a path prefix too) and the receiver's rules.

The template owns this file. The apps here are the baked answers plus one
page. How the receiver's log counts them is in test_security_report_log.py.
"""

import io
import json
import logging
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import EnvironBuilder

from {{ cookiecutter.package_name }} import security
from {{ cookiecutter.package_name }}.security import policy, reports
from tests.test_security_csp import csp_of

SECRET = {"TESTING": True, "SECRET_KEY": "test-only-secret"}
HTTPS = "https://localhost"
HTTP = "http://localhost"
RECEIVER = "/_security/csp-report"


def make_app(**settings) -> Flask:
    """The baked answers and ``settings``, with one plain page."""
    app = Flask(__name__)
    app.config.from_mapping(SECRET, **policy.BAKED_ANSWERS, TRUSTED_PROXY_HOPS=0)
    app.config.update(settings)
    app.add_url_rule("/", "plain", lambda: "<p>no inline code</p>")
    security.init_app(app)
    return app


# Where reports go: report-uri always; report-to and Reporting-Endpoints over HTTPS.
def test_reports_go_to_the_receiver_by_report_uri_and_over_https_report_to_too():
    client = make_app().test_client()
    http, https = client.get("/", base_url=HTTP), client.get("/", base_url=HTTPS)
    assert csp_of(http.headers)["report-uri"] == [RECEIVER]
    assert "report-to" not in csp_of(http.headers)
    assert "Reporting-Endpoints" not in http.headers
    assert csp_of(https.headers)["report-uri"] == [RECEIVER]
    assert csp_of(https.headers)["report-to"] == ["csp"]
    assert https.headers.getlist("Reporting-Endpoints") == [f'csp="{RECEIVER}"']


def test_reports_can_go_to_the_organisations_collector():
    collector = "https://csp.example.com/report"
    app = make_app(CSP_REPORT_URI=collector)
    https = app.test_client().get("/", base_url=HTTPS)
    assert csp_of(https.headers)["report-uri"] == [collector]
    assert https.headers["Reporting-Endpoints"] == f'csp="{collector}"'
    # No receiver here, since nothing sends to it.
    assert "security.csp_report" not in app.view_functions


def test_a_path_of_its_own_moves_the_receiver():
    app = make_app(CSP_REPORT_URI="/csp/reports")
    response = app.test_client().post(
        "/csp/reports", json=LEGACY_REPORT, content_type="application/csp-report"
    )
    assert response.status_code == 204
    assert csp_of(response.headers)["report-uri"] == ["/csp/reports"]


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("http://csp.example.com/report", "is refused: reports carry page URLs"),
        ("HTTP://csp.example.com/report", "is refused: reports carry page URLs"),
        ("//csp.example.com/report", "must be a path on this service or an https"),
        ("csp-report", "must be a path"),
        ("/report; script-src *", "must be a path"),
        ('/report"', "must be a path"),
        ("https://csp.example.com/a b", "must be a path"),
        (42, "must be a path"),
    ],
)
def test_a_report_uri_that_is_not_a_path_or_https_is_refused_in_one_line(uri, message):
    with pytest.raises(security.PolicyError) as refused:
        make_app(CSP_REPORT_URI=uri)
    assert message in str(refused.value)
    assert "CSP_REPORT_URI" in str(refused.value)
    assert "\n" not in str(refused.value)


# The receiver.
LEGACY_REPORT = {
    "csp-report": {
        "document-uri": "https://localhost/page",
        "referrer": "",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "original-policy": "default-src 'self'",
        "disposition": "enforce",
        "blocked-uri": "inline",
        "line-number": 3,
        "script-sample": 'alert("hi")',
        "status-code": 200,
    }
}
REPORTING_API_BATCH = [
    {
        "type": "csp-violation",
        "age": 10,
        "url": "https://localhost/page",
        "user_agent": "Chromium",
        "body": {
            "documentURL": "https://localhost/page",
            "effectiveDirective": "style-src-elem",
            "blockedURL": "https://evil.example.com/x.css",
            "disposition": "report",
            "sample": "",
            "originalPolicy": "default-src 'self'",
            "statusCode": 200,
        },
    },
    {"type": "deprecation", "url": "https://localhost/page", "body": {"id": "x"}},
    {
        "type": "csp-violation",
        "url": "https://localhost/other",
        "body": {
            "documentURL": "https://localhost/other",
            "effectiveDirective": "img-src",
            "blockedURL": "data",
            "disposition": "enforce",
        },
    },
]
LEGACY_LINE = {
    "event": "csp-violation",
    "document": "https://localhost/page",
    "directive": "script-src-elem",
    "blocked": "inline",
    "disposition": "enforce",
    "sample": 'alert("hi")',
    "user_agent": "TestBrowser/1.0",
    "count": 1,
}
BATCH_LINES = [
    {
        "event": "csp-violation",
        "document": "https://localhost/page",
        "directive": "style-src-elem",
        "blocked": "https://evil.example.com/x.css",
        "disposition": "report",
        "sample": "",
        "user_agent": "TestBrowser/1.0",
        "count": 1,
    },
    {
        "event": "csp-violation",
        "document": "https://localhost/other",
        "directive": "img-src",
        "blocked": "data",
        "disposition": "enforce",
        "sample": None,
        "user_agent": "TestBrowser/1.0",
        "count": 1,
    },
]


@pytest.fixture
def receiver():
    app = make_app()
    yield app.test_client()
    app.extensions[reports.TALLY].close()  # nothing left for the end of the run


def post(client, body, content_type, **kwargs):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(
        RECEIVER,
        data=data,
        content_type=content_type,
        headers={"User-Agent": "TestBrowser/1.0"},
        **kwargs,
    )


def logged(caplog) -> list[dict[str, Any]]:
    """The receiver's log lines, each parsed as the one JSON object it must be."""
    lines = []
    for record in caplog.records:
        if record.name.endswith(".csp"):
            assert record.levelno == logging.WARNING  # shown by gunicorn's defaults
            message = record.getMessage()
            assert "\n" not in message
            lines.append(json.loads(message))
    return lines


@pytest.mark.parametrize(
    ("body", "content_type", "lines"),
    [
        (LEGACY_REPORT, "application/csp-report", [LEGACY_LINE]),
        (LEGACY_REPORT, "application/json", [LEGACY_LINE]),
        (REPORTING_API_BATCH, "application/reports+json", BATCH_LINES),
        (REPORTING_API_BATCH, "application/json; charset=utf-8", BATCH_LINES),
        (REPORTING_API_BATCH[0], "application/reports+json", BATCH_LINES[:1]),
    ],
    ids=["csp-report", "csp-report-as-json", "reports-json", "reports-as-json", "one"],
)
def test_each_violation_is_one_json_log_line_and_the_answer_is_204(
    receiver, caplog, body, content_type, lines
):
    response = post(receiver, body, content_type)
    assert response.status_code == 204
    assert response.data == b""
    assert logged(caplog) == lines


def test_a_batch_of_other_reports_is_accepted_and_logs_nothing(receiver, caplog):
    response = post(receiver, [REPORTING_API_BATCH[1]], "application/reports+json")
    assert response.status_code == 204
    assert logged(caplog) == []


def test_long_values_are_cut(receiver, caplog):
    long_report = {"csp-report": {"document-uri": "https://localhost/" + "a" * 5000}}
    post(receiver, long_report, "application/csp-report")
    [line] = logged(caplog)
    assert line["document"] == "https://localhost/" + "a" * 282 + "…"  # 300 and a mark


def test_a_report_cannot_forge_a_log_line(receiver, caplog):
    forged = '"}\n[2026-01-01] WARNING in app: user admin logged in\n{"x": "'
    report = {"csp-report": {"document-uri": forged, "script-sample": forged}}
    post(receiver, report, "application/csp-report")
    [line] = logged(caplog)  # one record, one line
    assert line["document"] == forged  # kept as sent, escaped in the log
    assert "\n" not in caplog.text.strip()


def test_values_that_are_not_text_are_dropped(receiver, caplog):
    deep = {"csp-report": {"document-uri": json.loads("[" * 500 + "]" * 500)}}
    assert post(receiver, deep, "application/csp-report").status_code == 204
    assert logged(caplog)[0]["document"] is None


BAD = {
    "text-plain": ("a report", "text/plain", 415),
    "form": ("a=b", "application/x-www-form-urlencoded", 415),
    "no-type": ("{}", "", 415),
    "not-json": ("{not json", "application/json", 400),
    "not-utf8": (b"\xff\xfe\xfa", "application/json", 400),
    "empty": ("", "application/csp-report", 400),
    "a-number": ("1", "application/json", 400),
    "a-string": ('"csp-report"', "application/json", 400),
    "empty-batch": ("[]", "application/reports+json", 400),
    "batch-of-numbers": ("[1, 2]", "application/reports+json", 400),
    "report-not-an-object": ('{"csp-report": "x"}', "application/csp-report", 400),
    "no-body": ('[{"type": "csp-violation"}]', "application/reports+json", 400),
    "deep-arrays": ("[" * 30000, "application/json", 400),
    "deep-objects": ('{"a":' * 10000, "application/json", 400),
    "deep-closed-arrays": ("[" * 20000 + "]" * 20000, "application/reports+json", 400),
    "huge-number": ("1" * 5000, "application/json", 400),
    "too-large": (" " * (64 * 1024 + 1), "application/csp-report", 413),
}


@pytest.mark.parametrize(("body", "content_type", "status"), BAD.values(), ids=BAD)
def test_bad_input_gets_a_4xx_and_nothing_else(
    receiver, caplog, body, content_type, status
):
    with caplog.at_level(logging.DEBUG):
        response = post(receiver, body, content_type)
    assert response.status_code == status
    assert logged(caplog) == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_receiver_takes_post_only(receiver):
    assert receiver.get(RECEIVER).status_code == 405
    assert receiver.put(RECEIVER, json=LEGACY_REPORT).status_code == 405


class Untouchable(io.BytesIO):
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    def readline(self, *args):
        raise AssertionError("the body was read")


def test_a_body_over_64_kib_is_refused_before_it_is_read():
    app = make_app()
    environ = EnvironBuilder(
        path=RECEIVER,
        method="POST",
        input_stream=Untouchable(),
        content_type="application/csp-report",
    ).get_environ()
    environ["CONTENT_LENGTH"] = str(64 * 1024 + 1)
    with app.request_context(environ):
        response = app.full_dispatch_request()
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("size", "status"), [(64 * 1024 + 1, 413), (64 * 1024, 400), (70000, 413)]
)
def test_a_chunked_body_over_64_kib_is_refused(size, status):
    """No Content-Length: the server marks the stream terminated, the limit still holds."""
    app = make_app()
    body = b" " * size  # JSON would take the blanks: 400 when they are let in
    builder = EnvironBuilder(
        path=RECEIVER,
        method="POST",
        data=body,
        content_type="application/csp-report",
    )
    environ = builder.get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    with app.request_context(environ):
        response = app.full_dispatch_request()
    assert response.status_code == status


def test_the_receiver_is_the_security_blueprints():
    assert make_app().url_map.bind("localhost").match(RECEIVER, "POST") == (
        "security.csp_report",
        {},
    )
    assert reports.MAX_REPORT_BYTES == 64 * 1024


# An app mounted under a prefix (SCRIPT_NAME): its reports go there too.
PREFIXED = "https://localhost/svc"


def test_under_a_prefix_reports_go_to_the_receiver_under_it(caplog):
    client = make_app().test_client()
    https = client.get("/", base_url=PREFIXED)
    assert csp_of(https.headers)["report-uri"] == ["/svc" + RECEIVER]
    assert https.headers.getlist("Reporting-Endpoints") == [f'csp="/svc{RECEIVER}"']
    http = client.get("/", base_url="http://localhost/svc")
    assert csp_of(http.headers)["report-uri"] == ["/svc" + RECEIVER]
    answer = client.post(
        RECEIVER,
        base_url=PREFIXED,
        json=LEGACY_REPORT,
        content_type="application/csp-report",
        headers={"User-Agent": "TestBrowser/1.0"},
    )
    assert answer.status_code == 204
    assert csp_of(answer.headers)["report-uri"] == ["/svc" + RECEIVER]
    assert logged(caplog) == [LEGACY_LINE]
    # The same app without the prefix is as before.
    assert csp_of(client.get("/", base_url=HTTPS).headers)["report-uri"] == [RECEIVER]


def test_the_lists_for_a_prefix_are_built_once(monkeypatch):
    client = make_app().test_client()
    calls = []

    def build(*args):
        calls.append(args)
        return policy.build(*args)

    monkeypatch.setattr(security, "build", build)
    for _ in range(5):
        client.get("/", base_url=PREFIXED)
        client.get("/", base_url=HTTPS)
    assert len(calls) == 1
    client.get("/", base_url="https://localhost/other")
    assert len(calls) == 2


def test_every_view_under_a_prefix_sends_it_however_many_there_are():
    app = make_app()
    for n in range(300):
        app.add_url_rule(f"/page/{n}", f"page{n}", lambda: "page")
    client = app.test_client()
    for n in range(300):
        response = client.get(f"/page/{n}", base_url=PREFIXED)
        assert csp_of(response.headers)["report-uri"] == ["/svc" + RECEIVER], n


def test_past_the_kept_prefixes_the_plain_lists_and_one_error(caplog):
    client = make_app().test_client()
    for n in range(security.MAX_PREFIXES + 5):
        response = client.get("/", base_url=f"https://localhost/svc{n}")
        expected = f"/svc{n}" if n < security.MAX_PREFIXES else ""
        assert csp_of(response.headers)["report-uri"] == [expected + RECEIVER], n
    assert caplog.text.count("lists are kept for") == 1


def test_a_prefix_that_cannot_be_a_report_path_keeps_the_plain_one(caplog):
    client = make_app().test_client()
    environ = {"SCRIPT_NAME": '/a"b'}
    response = client.get("/", base_url=HTTPS, environ_overrides=environ)
    assert response.status_code == 200
    assert csp_of(response.headers)["report-uri"] == [RECEIVER]
    assert "reports under SCRIPT_NAME" in caplog.text


def test_an_https_collector_is_not_prefixed():
    collector = "https://csp.example.com/report"
    response = (
        make_app(CSP_REPORT_URI=collector).test_client().get("/", base_url=PREFIXED)
    )
    assert csp_of(response.headers)["report-uri"] == [collector]
