"""Violation reports: where they go, the receiver, and a log that counts every one.

The template owns this file. The apps here are the baked answers plus one
page; where time matters, the receiver's tally runs on a fake clock.
"""

import io
import json
import logging
import runpy
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import EnvironBuilder

from {{ cookiecutter.package_name }} import security
from {{ cookiecutter.package_name }}.security import aggregate, policy, reports
from {{ cookiecutter.package_name }}.security.aggregate import Tally

SECRET = {"TESTING": True, "SECRET_KEY": "test-only-secret"}
HTTPS = "https://localhost"
HTTP = "http://localhost"
RECEIVER = "/_security/csp-report"
GUNICORN_CONF = Path(__file__).parents[1] / "gunicorn.conf.py"


def make_app(**settings) -> Flask:
    """The baked answers and ``settings``, with one plain page."""
    app = Flask(__name__)
    app.config.from_mapping(SECRET, **policy.BAKED_ANSWERS, TRUSTED_PROXY_HOPS=0)
    app.config.update(settings)
    app.add_url_rule("/", "plain", lambda: "<p>no inline code</p>")
    security.init_app(app)
    return app


def csp_of(headers, name: str = "Content-Security-Policy") -> dict[str, list[str]]:
    [value] = headers.getlist(name)
    directives: dict[str, list[str]] = {}
    for part in value.split(";"):
        directive, *sources = part.split()
        directives[directive] = sources
    return directives


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


def logged(caplog) -> list[dict[str, object]]:
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


# A log that counts every violation: duplicates, noise and floods as counts.
class Clock:
    """The tally's clock, moved by hand."""

    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def on_clock(app: Flask, clock: Clock) -> list[tuple[float, dict[str, Any]]]:
    """The app's tally on ``clock``; each line it writes is also kept with its time."""
    old = app.extensions[reports.TALLY]
    written: list[tuple[float, dict[str, Any]]] = []

    def write(line):
        written.append((clock.now, line))
        old.write(line)

    tally = Tally(write, window=old.window, rate=old.rate, clock=clock)
    app.extensions[reports.TALLY] = tally
    reports.TALLIES.add(tally)  # for close_all(), as register_receiver does
    return written


def violation(blocked="inline", document="https://localhost/page", **body):
    return {
        "type": "csp-violation",
        "body": {
            "documentURL": document,
            "effectiveDirective": "script-src-elem",
            "blockedURL": blocked,
            "disposition": "enforce",
            **body,
        },
    }


def post_batch(client, batch) -> int:
    """Violations the receiver accepted from this POST: all of them, or none."""
    response = post(client, batch, "application/reports+json")
    return len(batch) if response.status_code == 204 else 0


def counted(lines) -> int:
    return sum(line["count"] for line in lines)


def test_the_counts_add_up_to_every_violation_accepted_under_a_mix(caplog):
    app = make_app(CSP_REPORT_WINDOW=10, CSP_REPORT_LOG_RATE=3)
    clock = Clock()
    written = on_clock(app, clock)
    client = app.test_client()
    accepted = 0
    for second in range(25):
        clock.now = 1000.0 + second
        batch = [
            violation(),  # the same one, again and again
            violation(f"https://cdn{second}.example.com/x.js"),  # new ones
            violation(f"https://cdn{second}.example.com/y.js"),
            violation("chrome-extension://abcdef/inject.js"),
            violation("inline", sourceFile="moz-extension://1234/content.js"),
        ]
        accepted += post_batch(client, batch)
        accepted += post_batch(client, [violation()] * 7)
        assert post(client, "[{not json", "application/reports+json").status_code == 400
        assert post(client, "[1]", "application/reports+json").status_code == 400
    before_stop = counted(line for _, line in written)
    clock.now += 1  # stopped in a second of its own: its lines within the rate
    app.extensions[reports.TALLY].close()

    lines = [line for _, line in written]
    assert accepted == 25 * 12
    assert counted(lines) == accepted
    assert before_stop < accepted  # the last window was held until the stop
    assert logged(caplog) == lines  # every line went to the log, in order
    events = {line["event"] for line in lines}
    assert events == {
        "csp-violation",
        "csp-violation-repeated",
        "csp-violations-from-extensions",
        "csp-violations-over-rate",
    }
    # Each line keeps the fields it always had, and says how many it stands for.
    for line in lines:
        assert set(line) == {*aggregate.LINE_FIELDS, "count"}
        assert line["count"] >= 1
    # The rate: at most 3 lines a second, and the over-rate line of the one before.
    for second in {int(when) for when, _ in written}:
        in_second = [line for when, line in written if int(when) == second]
        ordinary = [
            line for line in in_second if line["event"] != "csp-violations-over-rate"
        ]
        assert len(ordinary) <= 3, second
        assert len(in_second) - len(ordinary) <= 1, second
    # The first of a kind at once, the repeats as one line when its window ends.
    first, repeated = (
        [
            line
            for when, line in written
            if line["blocked"] == "inline" and line["event"] == event
        ]
        for event in ("csp-violation", "csp-violation-repeated")
    )
    assert first[0]["count"] == 1
    assert [line["count"] for line in repeated] == [79, 79, 39]  # 8 a second


def test_the_first_violation_is_logged_at_once_and_its_repeats_when_the_window_ends(
    caplog,
):
    app = make_app()  # a window of 60 s, 10 lines a second
    clock = Clock()
    on_clock(app, clock)
    client = app.test_client()
    post_batch(client, [violation()] * 5)
    clock.now += 30
    post_batch(client, [violation()] * 5)
    assert [(line["event"], line["count"]) for line in logged(caplog)] == [
        ("csp-violation", 1)
    ]
    clock.now += 31  # the window is over: the next report writes it
    post_batch(client, [violation("https://cdn.example.com/x.js")])
    lines = logged(caplog)
    assert [(line["event"], line["count"]) for line in lines] == [
        ("csp-violation", 1),
        ("csp-violation-repeated", 9),
        ("csp-violation", 1),
    ]
    assert lines[1] == {**lines[0], "event": "csp-violation-repeated", "count": 9}
    post_batch(client, [violation()])  # a new window: logged at once again
    assert logged(caplog)[-1] == lines[0]


def test_identical_means_same_directive_blocked_document_and_disposition(caplog):
    app = make_app()
    on_clock(app, Clock())
    client = app.test_client()
    post_batch(
        client,
        [
            violation(),
            violation(sample="other code", lineNumber=9),  # the same violation
            violation(document="https://localhost/other"),
            violation(effectiveDirective="style-src-elem"),
            violation(disposition="report"),
            violation("eval"),
        ],
    )
    assert [line["count"] for line in logged(caplog)] == [1] * 5


@pytest.mark.parametrize(
    "extension",
    [
        {"blockedURL": "chrome-extension://abc/x.js"},
        {"blockedURL": "moz-extension://abc/x.js"},
        {"blockedURL": "safari-extension://abc/x.js"},
        {"blockedURL": "safari-web-extension://abc/x.js"},
        {"blockedURL": "Chrome-Extension://abc/x.js"},
        {"blockedURL": "inline", "sourceFile": "chrome-extension://abc/x.js"},
    ],
    ids=["chrome", "firefox", "safari", "safari-web", "any-case", "source"],
)
def test_violations_from_extensions_are_counted_not_logged_one_by_one(
    caplog, extension
):
    app = make_app()
    clock = Clock()
    on_clock(app, clock)
    client = app.test_client()
    body = {"documentURL": "https://localhost/page", **extension}
    post_batch(client, [{"type": "csp-violation", "body": body}] * 40)
    assert logged(caplog) == []
    clock.now += 60
    post_batch(client, [violation("https://cdn.example.com/x.js")])
    [noise, real] = logged(caplog)
    assert noise == {
        **dict.fromkeys(aggregate.LINE_FIELDS),
        "event": "csp-violations-from-extensions",
        "count": 40,
    }
    assert real["blocked"] == "https://cdn.example.com/x.js"


def test_a_legacy_report_from_an_extension_is_noise_too(caplog):
    app = make_app()
    on_clock(app, Clock())
    report = {
        "csp-report": {"blocked-uri": "inline", "source-file": "moz-extension://x"}
    }
    post(app.test_client(), report, "application/csp-report")
    assert logged(caplog) == []
    app.extensions[reports.TALLY].close()
    assert [line["event"] for line in logged(caplog)] == [
        "csp-violations-from-extensions"
    ]


def test_distinct_violations_past_the_bound_are_counted_not_kept(caplog):
    app = make_app(CSP_REPORT_LOG_RATE=100_000)
    clock = Clock()
    on_clock(app, clock)
    client = app.test_client()
    tally = app.extensions[reports.TALLY]
    distinct = aggregate.MAX_TRACKED + 500
    for start in range(0, distinct, 100):
        post_batch(
            client,
            [
                violation(f"https://cdn.example.com/{n}.js")
                for n in range(start, start + 100)
            ],
        )
        assert len(tally.first) <= aggregate.MAX_TRACKED
    post_batch(client, [violation(f"https://cdn.example.com/{distinct - 1}.js")])
    clock.now += 60
    post_batch(client, [violation()])
    lines = logged(caplog)
    assert len(lines) == aggregate.MAX_TRACKED + 2
    assert lines[-2] == {
        **dict.fromkeys(aggregate.LINE_FIELDS),
        "event": "csp-violations-untracked",
        "count": 501,  # the 500 past the bound, and a repeat of one of them
    }
    assert counted(lines) == distinct + 2
    assert len(tally.first) == 1  # the window before is gone


def test_a_flood_gets_its_rate_and_one_line_for_the_rest(caplog):
    app = make_app(CSP_REPORT_LOG_RATE=5)
    clock = Clock()
    on_clock(app, clock)
    client = app.test_client()
    distinct = [violation(f"https://cdn.example.com/{n}.js") for n in range(30)]
    post_batch(client, distinct)  # one POST: bounded work, every one counted
    assert len(logged(caplog)) == 5
    clock.now += 0.5
    post_batch(client, [violation("eval")])  # the same second: over the rate
    assert len(logged(caplog)) == 5
    clock.now += 0.5
    post_batch(client, [violation("data")])
    lines = logged(caplog)
    assert lines[5] == {
        **dict.fromkeys(aggregate.LINE_FIELDS),
        "event": "csp-violations-over-rate",
        "count": 26,
    }
    assert lines[6]["blocked"] == "data"
    assert counted(lines) == 32


def test_nothing_is_lost_when_the_process_stops(caplog):
    app = make_app(CSP_REPORT_LOG_RATE=1)
    on_clock(app, Clock())
    client = app.test_client()
    accepted = post_batch(client, [violation()] * 10)
    accepted += post_batch(client, [violation("eval")] * 3)
    accepted += post_batch(client, [violation("chrome-extension://x/y.js")] * 4)
    assert counted(logged(caplog)) == 1
    reports.close_all()  # what gunicorn's worker_exit and atexit call
    lines = logged(caplog)
    assert counted(lines) == accepted == 17
    assert lines[-1]["event"] == "csp-violations-over-rate"
    reports.close_all()  # twice (worker_exit, then atexit) writes nothing more
    assert logged(caplog) == lines


def test_gunicorns_worker_exit_writes_what_the_worker_holds(caplog):
    app = make_app()
    on_clock(app, Clock())
    post_batch(app.test_client(), [violation()] * 3)
    runpy.run_path(str(GUNICORN_CONF))["worker_exit"](None, None)
    assert [(line["event"], line["count"]) for line in logged(caplog)] == [
        ("csp-violation", 1),
        ("csp-violation-repeated", 2),
    ]


def test_the_counts_add_up_under_threads():
    written: list[dict[str, Any]] = []
    tally = Tally(written.append, window=0.01, rate=50)
    one = {
        "document": "https://localhost/",
        "directive": "img-src",
        "disposition": "enforce",
        "sample": None,
        "source": None,
    }

    def send(thread: int) -> None:
        for n in range(2000):
            tally.add([{**one, "blocked": f"https://{n % 50}.example/{thread}"}], None)

    threads = [threading.Thread(target=send, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tally.close()
    assert counted(written) == 8 * 2000


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        (
            "CSP_REPORT_WINDOW",
            0,
            "CSP_REPORT_WINDOW must be a number of seconds above 0",
        ),
        ("CSP_REPORT_WINDOW", "60", "CSP_REPORT_WINDOW must be a number of seconds"),
        ("CSP_REPORT_WINDOW", True, "CSP_REPORT_WINDOW must be a number of seconds"),
        ("CSP_REPORT_LOG_RATE", 0, "CSP_REPORT_LOG_RATE must be a whole number"),
        ("CSP_REPORT_LOG_RATE", 2.5, "CSP_REPORT_LOG_RATE must be a whole number"),
    ],
)
def test_report_settings_that_make_no_sense_are_refused_in_one_line(
    setting, value, message
):
    with pytest.raises(security.PolicyError) as refused:
        make_app(**{setting: value})
    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)


def test_security_show_names_report_settings_that_differ():
    app = make_app(CSP_REPORT_WINDOW=300, CSP_REPORT_LOG_RATE=10)
    shown = json.loads(
        app.test_cli_runner().invoke(args=["security", "show", "--json"]).output
    )
    assert shown["settings"] == {"CSP_REPORT_WINDOW": 300}


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
