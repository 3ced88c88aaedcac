"""The receiver's log counts every violation: duplicates, noise and floods as counts.

The template owns this file. The apps here are the baked answers plus one
page; the receiver's tally runs on a fake clock, moved by hand.
"""

import json
import runpy
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from {{ cookiecutter.package_name }} import security
from {{ cookiecutter.package_name }}.security import aggregate, reports
from {{ cookiecutter.package_name }}.security.aggregate import Tally
from tests.test_security_reports import logged, make_app, post

GUNICORN_CONF = Path(__file__).parents[1] / "gunicorn.conf.py"


@pytest.fixture(autouse=True)
def earlier_apps_closed():
    """close_all() writes what every app of the process holds: let the apps of
    earlier tests (not yet collected) write theirs before this test's log."""
    reports.close_all()


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
        "event": "csp-violation",
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
