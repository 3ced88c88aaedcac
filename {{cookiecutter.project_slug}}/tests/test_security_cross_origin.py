"""Cross-origin requests that could change state are refused, from the request's own headers.

The template owns this file. The apps here are the baked answers plus a view
that records each time it runs; the rule is checked as a table, on one app.
"""

import json
import logging
from typing import Any

import pytest
from flask import Flask, request

from {{ cookiecutter.package_name }} import security
from {{ cookiecutter.package_name }}.security import cross_origin, reports
from tests.test_security_policy import unchecked_app as policy_app

SERVICE = "https://service.example.com"
PARTNER = "https://partner.example.com"
EVIL = "https://evil.example.net"
REFUSAL = "Forbidden: this request came from another origin.\n"
METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]


def unchecked_app(**settings) -> tuple[Flask, list[str]]:
    """test_security_policy's app with /change, which takes every method and
    records each run; the policy not checked yet."""
    app = policy_app(**settings)
    ran: list[str] = []

    @app.route("/change", methods=METHODS)
    def change():
        ran.append(request.method)
        return "changed"

    return app, ran


def make_app(**settings) -> tuple[Flask, list[str]]:
    app, ran = unchecked_app(**settings)
    security.init_app(app)
    return app, ran


@pytest.fixture(scope="module")
def table_app() -> tuple[Flask, list[str]]:
    return make_app(CSRF_TRUSTED_ORIGINS=[PARTNER])


def headers(site: str | None, origin: str | None) -> dict[str, str]:
    sent = {"Sec-Fetch-Site": site, "Origin": origin}
    return {name: value for name, value in sent.items() if value is not None}


# method, Sec-Fetch-Site, Origin -> passes (the app trusts PARTNER).
UNSAFE = ["POST", "PUT", "PATCH", "DELETE"]
RULE = [
    *[(m, "cross-site", EVIL, True) for m in ["GET", "HEAD", "OPTIONS"]],
    *[(m, "same-origin", SERVICE, True) for m in UNSAFE],
    *[(m, "cross-site", EVIL, False) for m in UNSAFE],
    ("post", "cross-site", EVIL, False),  # a method is a method in any case
    ("POST", "none", None, True),  # typed, bookmarked: no page sent it
    ("POST", "same-site", "https://other.example.com", False),  # a sibling is not us
    ("POST", "cross-site", None, False),
    ("POST", "bogus", None, False),
    ("POST", "Same-Origin", SERVICE, False),  # browsers send it in lowercase
    ("POST", "same-origin", EVIL, True),  # Sec-Fetch-Site decides, when sent
    ("POST", "cross-site", PARTNER, True),  # trusted
    ("POST", "same-site", PARTNER, True),
    ("POST", "cross-site", PARTNER + ":8443", False),  # another port, another origin
    ("POST", "cross-site", "http://partner.example.com", False),  # and scheme
    # Without Sec-Fetch-Site (browsers before 2023): Origin against the host.
    ("POST", None, SERVICE, True),
    ("POST", None, SERVICE + ":443", True),
    ("POST", None, "https://SERVICE.example.com", True),
    ("POST", None, SERVICE + ":8443", False),
    ("POST", None, "http://service.example.com", False),  # port 80, not 443
    ("POST", None, "https://service.example.com.evil.example.net", False),
    ("POST", None, EVIL, False),
    ("POST", None, "null", False),  # sandboxed frames, file: pages
    ("POST", None, "https://service.example.com:x", False),
    ("POST", None, "https://service.example.com/", False),
    ("DELETE", None, PARTNER, True),
    # Neither header: a server, curl, a webhook.
    *[(m, None, None, True) for m in UNSAFE],
]


@pytest.mark.parametrize(("method", "site", "origin", "passes"), RULE)
def test_the_rule(table_app, method, site, origin, passes):
    app, ran = table_app
    before = len(ran)
    response = app.test_client().open(
        "/change", method=method, base_url=SERVICE, headers=headers(site, origin)
    )
    if passes:
        assert response.status_code == 200
        assert len(ran) == before + 1
    else:
        assert response.status_code == 403
        assert response.get_data(as_text=True) == REFUSAL
        assert response.mimetype == "text/plain"
        assert len(ran) == before  # the view never ran


def test_a_port_the_client_named_is_compared_too():
    app, ran = make_app()
    client = app.test_client()
    local = "http://127.0.0.1:8080"
    assert (
        client.post("/change", base_url=local, headers={"Origin": local}).status_code
        == 200
    )
    refused = client.post(
        "/change", base_url=local, headers={"Origin": "http://127.0.0.1:8081"}
    )
    assert refused.status_code == 403
    assert ran == ["POST"]


# Behind a trusted proxy, the host is the one the client used.
INTERNAL = "http://app-1:8000"
FORWARDED = {"X-Forwarded-Host": "service.example.com", "X-Forwarded-Proto": "https"}


@pytest.mark.parametrize(
    ("hops", "origin", "passes"),
    [
        (1, SERVICE, True),
        (1, INTERNAL, False),  # the replica's own name is not what browsers see
        (1, "http://service.example.com", False),
        (0, SERVICE, False),  # a client's own X-Forwarded-Host is not believed
        (0, INTERNAL, True),
    ],
)
def test_the_clients_host_behind_a_trusted_proxy(hops, origin, passes):
    app, ran = make_app(TRUSTED_PROXY_HOPS=hops)
    response = app.test_client().post(
        "/change", base_url=INTERNAL, headers={**FORWARDED, "Origin": origin}
    )
    assert response.status_code == (200 if passes else 403)
    assert ran == (["POST"] if passes else [])


def test_a_refusal_carries_the_baseline_headers(table_app):
    app, _ = table_app
    client = app.test_client()
    page = client.get("/change", base_url=SERVICE)
    refused = client.post(
        "/change", base_url=SERVICE, headers=headers("cross-site", EVIL)
    )
    assert refused.status_code == 403
    per_response = {"Content-Type", "Content-Length"}
    sent = {(n, v) for n, v in refused.headers if n not in per_response}
    assert sent == {(n, v) for n, v in page.headers if n not in per_response}
    assert "Content-Security-Policy" in refused.headers


# The log: one line per refusal, counted and rate-bound as violation reports are.
class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def on_clock(app: Flask, clock: Clock):
    tally = app.extensions[cross_origin.KEY].tally
    tally.clock = clock
    tally.window_start, tally.second = clock(), int(clock())
    return tally


def refusals(caplog) -> list[dict[str, Any]]:
    return [
        json.loads(record.getMessage())
        for record in caplog.records
        if record.name.endswith(".cross_origin")
    ]


def test_each_refusal_is_logged_in_one_line(caplog):
    caplog.set_level(logging.WARNING)
    reports.close_all()  # earlier apps' lines are not this test's
    caplog.clear()
    app, _ = make_app()
    on_clock(app, Clock())
    client = app.test_client()
    client.post("/change", base_url=SERVICE, headers=headers("cross-site", EVIL))
    client.put("/change", base_url=SERVICE, headers=headers(None, "null"))
    client.post("/change", base_url=SERVICE, headers=headers("same-origin", SERVICE))
    assert refusals(caplog) == [
        {
            "event": "cross-origin-refusal",
            "method": "POST",
            "path": "/change",
            "origin": EVIL,
            "sec_fetch_site": "cross-site",
            "count": 1,
        },
        {
            "event": "cross-origin-refusal",
            "method": "PUT",
            "path": "/change",
            "origin": "null",
            "sec_fetch_site": None,
            "count": 1,
        },
    ]


def test_a_flood_of_refusals_gives_bounded_lines_whose_counts_add_up(caplog):
    caplog.set_level(logging.WARNING)
    reports.close_all()
    caplog.clear()
    app, ran = make_app(CSP_REPORT_LOG_RATE=5)
    clock = Clock()
    tally = on_clock(app, clock)
    client = app.test_client()
    for n in range(200):
        clock.now = 1000.0 + n / 100  # two seconds of it
        origin = f"https://evil{n % 20}.example.net"
        client.post(f"/change?n={n}", base_url=SERVICE, headers=headers(None, origin))
    clock.now += 1
    tally.close()  # as the worker stops
    lines = refusals(caplog)
    assert ran == []
    assert sum(line["count"] for line in lines) == 200
    assert len(lines) <= 3 * (
        5 + 1
    )  # three seconds, each at most its rate and one over
    assert {line["event"] for line in lines} == {
        "cross-origin-refusal",
        "cross-origin-refusal-repeated",
        "cross-origin-refusals-over-rate",
    }
    for line in lines:
        assert set(line) == {*cross_origin.LINE_FIELDS, "count"}


def test_what_a_client_sends_is_cut_and_cannot_forge_a_line(caplog):
    caplog.set_level(logging.WARNING)
    reports.close_all()
    caplog.clear()
    app, _ = make_app()
    forged = 'x", "event": "forged' + "o" * 1000
    app.test_client().post(
        "/change", base_url=SERVICE, headers={"Sec-Fetch-Site": forged}
    )
    [line] = refusals(caplog)
    assert line["event"] == "cross-origin-refusal"
    assert line["sec_fetch_site"].startswith('x", "event": "forged')
    assert len(line["sec_fetch_site"]) == reports.MAX_VALUE_CHARS + 1  # and "…"


# Past the rule: the report receiver, and a view's override.
def test_the_report_receiver_takes_the_browsers_reports():
    app, _ = make_app()
    report = {"csp-report": {"document-uri": SERVICE, "blocked-uri": "inline"}}
    response = app.test_client().post(
        "/_security/csp-report",
        base_url=SERVICE,
        data=json.dumps(report),
        content_type="application/csp-report",
        headers=headers("cross-site", "null"),
    )
    assert response.status_code == 204


def test_an_override_lets_one_view_take_cross_site_posts_and_no_other():
    app, ran = unchecked_app()

    @app.post("/identity-provider-callback")
    @security.override(cross_origin_protection=False)
    def callback():
        ran.append("callback")
        return "signed in"

    security.init_app(app)

    @app.post("/late")
    @security.override(cross_origin_protection=False)
    def late():  # registered after init_app, as tests do
        ran.append("late")
        return "late"

    client = app.test_client()
    cross_site = headers("cross-site", EVIL)
    for path in ("/identity-provider-callback", "/late"):
        response = client.post(path, base_url=SERVICE, headers=cross_site)
        assert response.status_code == 200
        assert "Content-Security-Policy" in response.headers
    assert (
        client.post("/change", base_url=SERVICE, headers=cross_site).status_code == 403
    )
    assert ran == ["callback", "late"]


def test_trusted_origins_are_written_as_browsers_send_them():
    app, _ = make_app(CSRF_TRUSTED_ORIGINS=["HTTPS://Partner.Example.com:443"])
    client = app.test_client()
    response = client.post(
        "/change", base_url=SERVICE, headers=headers("cross-site", PARTNER)
    )
    assert response.status_code == 200
    assert app.extensions[cross_origin.KEY].trusted == (PARTNER,)
