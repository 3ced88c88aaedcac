"""The baseline, pinned: weakening the policy must break a test here.

The template owns this file. The exact values are pinned on the baseline alone
(the baked answers, none of the team's settings or views); every route of the
service itself is then held to the floor that no setting may lower.
"""

import json
from pathlib import Path

import pytest
from flask import Flask, abort, redirect, request, session
from hypothesis import given
from hypothesis import strategies as st

from {{ cookiecutter.package_name }} import create_app, security

# The policy this service was baked with, written out on purpose.
REPORT_URI = "/_security/csp-report"
CSP = (
    "default-src 'none'; script-src 'self' 'report-sample'; "
    "style-src 'self' 'report-sample'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; manifest-src 'self'; media-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors {{ "'none'" if cookiecutter.frame_policy == "DENY" else "'self'" }}; "
    f"report-uri {REPORT_URI}"
)
# Over HTTPS only: report-to (Chromium ignores report-uri beside it, and sends
# report-to only from secure pages) and the upgrade, which over plain HTTP (a
# local run) would break the page's own loads.
CSP_HTTPS = f"{CSP}; report-to csp; upgrade-insecure-requests"
REPORTING_ENDPOINTS = f'csp="{REPORT_URI}"'  # the group report-to names; HTTPS only
BASELINE = {
    "X-Frame-Options": "{{ cookiecutter.frame_policy }}",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": (
        "accelerometer=(), autoplay=(), camera=(), cross-origin-isolated=(), "
        "display-capture=(), encrypted-media=(), fullscreen=(), geolocation=(), "
        "gyroscope=(), keyboard-map=(), magnetometer=(), microphone=(), midi=(), "
        "payment=(), picture-in-picture=(), publickey-credentials-get=(), "
        "screen-wake-lock=(), sync-xhr=(self), usb=(), xr-spatial-tracking=(), "
        "clipboard-read=(), clipboard-write=(), gamepad=(), hid=(), "
        "idle-detection=(), interest-cohort=(), serial=(), unload=()"
    ),
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "X-Permitted-Cross-Domain-Policies": "none",
    "X-DNS-Prefetch-Control": "off",
}
{%- if cookiecutter.hsts %}
HSTS: str | None = "max-age={{ cookiecutter.hsts_max_age | int }}{{ '; includeSubDomains' if cookiecutter.hsts_include_subdomains }}{{ '; preload' if cookiecutter.hsts_preload }}"
{%- else %}
HSTS: str | None = None  # baked with HSTS off
{%- endif %}
NO_STORE = "no-store, max-age=0"
# Pinned below, with values that depend on the request.
ALSO_PINNED = [
    "Content-Security-Policy",
    "Strict-Transport-Security",
    "Cache-Control",
    "Reporting-Endpoints",
]
# What describes one response rather than the policy.
PER_RESPONSE = {
    "content-type",
    "content-length",
    "content-disposition",
    "accept-ranges",
    "date",
    "etag",
    "last-modified",
    "location",
    "allow",
    "vary",
    "set-cookie",
}
# Deprecated or harmful: the OWASP Secure Headers Project checks they are absent.
NEVER_SENT = ["X-XSS-Protection", "Feature-Policy", "Expect-CT", "Public-Key-Pins"]

# The baked answers, and none of the team's extensions.
BAKED_SETTINGS = {
    "TESTING": True,
    "SECRET_KEY": "test-only-secret",
    "HSTS": {{ cookiecutter.hsts }},
    "HSTS_MAX_AGE": {{ cookiecutter.hsts_max_age | int }},
    "HSTS_INCLUDE_SUBDOMAINS": {{ cookiecutter.hsts_include_subdomains }},
    "HSTS_PRELOAD": {{ cookiecutter.hsts_preload }},
    "FRAME_POLICY": "{{ cookiecutter.frame_policy }}",
    "TRUSTED_PROXY_HOPS": 0,
}
HTTPS = "https://localhost"
OTHER_FRAME_POLICY = "{{ "SAMEORIGIN" if cookiecutter.frame_policy == "DENY" else "DENY" }}"


def assert_baseline(response, *, https=False):
    for name, value in BASELINE.items():
        assert response.headers.getlist(name) == [value], name
    policy_headers = {name.lower() for name, _ in response.headers} - PER_RESPONSE
    pinned = {name.lower() for name in [*BASELINE, *ALSO_PINNED]}
    assert policy_headers <= pinned, (
        f"sent but not pinned here: {policy_headers - pinned}"
    )
    csp = CSP_HTTPS if https else CSP
    assert response.headers.getlist("Content-Security-Policy") == [csp]
    expected_hsts = [HSTS] if https and HSTS else []
    assert response.headers.getlist("Strict-Transport-Security") == expected_hsts
    reporting = [REPORTING_ENDPOINTS] if https else []
    assert response.headers.getlist("Reporting-Endpoints") == reporting
    for name in NEVER_SENT:
        assert name not in response.headers


def baseline_app(tmp_path: Path, **changes) -> Flask:
    """The baseline alone, with a page, a view that caches, and a static file."""
    (tmp_path / "style.css").write_text("body { margin: 0; }\n")
    app = Flask(__name__, static_folder=tmp_path, static_url_path="/static")
    app.config.from_mapping(BAKED_SETTINGS, **changes)

    @app.get("/")
    def page():
        return "a page"

    @app.get("/cacheable")
    def cacheable():
        return "for a minute", {"Cache-Control": "public, max-age=60"}

    security.init_app(app)
    return app


@pytest.fixture
def pinned(tmp_path) -> Flask:
    return baseline_app(tmp_path)


@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
@pytest.mark.parametrize("path", ["/", "/static/style.css", "/no-such-page"])
def test_the_baseline_exactly(pinned, path, https):
    base_url = HTTPS if https else "http://localhost"
    with pinned.test_client().get(path, base_url=base_url) as response:
        assert_baseline(response, https=https)


def test_responses_are_not_cached_unless_the_view_says_so(pinned):
    client = pinned.test_client()
    assert client.get("/").headers.getlist("Cache-Control") == [NO_STORE]
    assert client.get("/no-such-page").headers.getlist("Cache-Control") == [NO_STORE]
    cacheable = client.get("/cacheable").headers.getlist("Cache-Control")
    assert cacheable == ["public, max-age=60"]


def test_not_found(pinned):
    response = pinned.test_client().get("/no-such-page")
    assert response.status_code == 404
    assert_baseline(response)


def test_method_not_allowed(pinned):
    response = pinned.test_client().post("/")
    assert response.status_code == 405
    assert_baseline(response)


def test_a_cross_origin_post_is_refused_with_the_baseline(pinned):
    """Before routing: another origin's page learns nothing of the service's URLs."""
    response = pinned.test_client().post("/", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    assert response.mimetype == "text/plain"
    assert response.text == "Forbidden: this request came from another origin.\n"
    assert_baseline(response)


def test_unhandled_exception(pinned):
    pinned.config["PROPAGATE_EXCEPTIONS"] = False  # as in production

    @pinned.get("/boom")
    def boom():
        raise RuntimeError("boom")

    response = pinned.test_client().get("/boom")
    assert response.status_code == 500
    assert_baseline(response)


def test_abort(pinned):
    @pinned.get("/forbidden")
    def forbidden():
        abort(403)

    response = pinned.test_client().get("/forbidden")
    assert response.status_code == 403
    assert_baseline(response)


def test_redirect(pinned):
    @pinned.get("/old")
    def old():
        return redirect("/")

    response = pinned.test_client().get("/old")
    assert response.status_code == 302
    assert_baseline(response)


def test_head(pinned):
    response = pinned.test_client().head("/")
    assert response.status_code == 200
    assert response.data == b""
    assert_baseline(response)


def test_automatic_options(pinned):
    response = pinned.test_client().options("/")
    assert response.status_code == 200
    assert "GET" in response.headers["Allow"]
    assert_baseline(response)


def test_static_file(pinned):
    with pinned.test_client().get("/static/style.css") as response:
        assert response.status_code == 200
        assert response.mimetype == "text/css"
        assert_baseline(response)


def test_no_hsts_over_plain_http(pinned):
    assert "Strict-Transport-Security" not in pinned.test_client().get("/").headers


def test_client_forwarded_proto_is_not_believed_without_a_proxy(pinned):
    response = pinned.test_client().get("/", headers={"X-Forwarded-Proto": "https"})
    assert_baseline(response, https=False)


def test_forwarded_proto_is_believed_from_a_trusted_proxy(tmp_path):
    app = baseline_app(tmp_path, TRUSTED_PROXY_HOPS=1)
    response = app.test_client().get("/", headers={"X-Forwarded-Proto": "https"})
    assert_baseline(response, https=True)


def test_a_views_own_header_wins(pinned):
    @pinned.get("/embeddable")
    def embeddable():
        return "framed", {
            "X-Frame-Options": OTHER_FRAME_POLICY,
            "Content-Security-Policy": "frame-ancestors 'self'",
            "x-content-type-options": "custom",
        }

    response = pinned.test_client().get("/embeddable")
    assert response.headers.getlist("X-Frame-Options") == [OTHER_FRAME_POLICY]
    assert response.headers.getlist("Content-Security-Policy") == [
        "frame-ancestors 'self'"
    ]
    assert response.headers.getlist("X-Content-Type-Options") == ["custom"]
    assert response.headers["Referrer-Policy"] == BASELINE["Referrer-Policy"]


# Whatever a view sends, the hook adds each missing header once and keeps the view's.
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]
NAMES = [*BASELINE, *ALSO_PINNED[:2], "Reporting-Endpoints"]
ANY_CASE = st.sampled_from([*NAMES, "Cache-Control", "X-Team-Header"]).flatmap(
    lambda name: st.sampled_from([name, name.lower(), name.upper()])
)
VALUES = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1)


@pytest.fixture(scope="module")
def echo(tmp_path_factory) -> Flask:
    """The baseline with one view that answers the status and headers it is sent."""
    app = baseline_app(tmp_path_factory.mktemp("static"))

    @app.route("/echo", methods=METHODS)
    def answer():
        wanted = json.loads(request.headers["X-Test-Response"])
        return "body", wanted["status"], wanted["headers"]

    return app


@given(
    view_headers=st.lists(st.tuples(ANY_CASE, VALUES), max_size=4),
    status=st.sampled_from([200, 201, 204, 302, 400, 403, 404, 500]),
    method=st.sampled_from(METHODS),
    https=st.booleans(),
)
def test_the_hook_adds_each_missing_header_once_and_keeps_the_views(
    echo, view_headers, status, method, https
):
    wanted = json.dumps({"status": status, "headers": view_headers})
    response = echo.test_client().open(
        "/echo",
        method=method,
        base_url=HTTPS if https else "http://localhost",
        headers={"X-Test-Response": wanted},
    )
    assert response.status_code == status
    csp = CSP_HTTPS if https else CSP
    expected = {**BASELINE, "Content-Security-Policy": csp, "Cache-Control": NO_STORE}
    if https and HSTS:
        expected["Strict-Transport-Security"] = HSTS
    if https:
        expected["Reporting-Endpoints"] = REPORTING_ENDPOINTS
    for name in [*expected, "Strict-Transport-Security", "Reporting-Endpoints"]:
        own = [value for key, value in view_headers if key.lower() == name.lower()]
        if own:
            assert response.headers.getlist(name) == own, name
        else:
            assert response.headers.getlist(name) == (
                [expected[name]] if name in expected else []
            ), name


# The service itself, with the team's settings and views: the floor holds.
FIXED = [
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Cross-Origin-Resource-Policy",
    "X-Permitted-Cross-Domain-Policies",
    "X-DNS-Prefetch-Control",
]
RUNS_CODE = [
    "default-src",
    "frame-src",
    "fenced-frame-src",
    "script-src",
    "script-src-elem",
    "script-src-attr",
    "style-src",
    "style-src-elem",
    "style-src-attr",
    "worker-src",
    "child-src",
    "object-src",
]
UNSAFE = ["'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'wasm-unsafe-eval'"]
LOCAL_SCHEMES = ["data:", "blob:", "mediastream:"]
FRAME_ANCESTORS = {"SAMEORIGIN": "'self'", "DENY": "'none'"}
{%- if cookiecutter.frame_policy == "DENY" %}
AT_LEAST_AS_STRICT = ["DENY"]
{%- else %}
AT_LEAST_AS_STRICT = ["SAMEORIGIN", "DENY"]
{%- endif %}
HSTS_FLAG_EXCEPTIONS = {
    "includeSubDomains": "HSTS_INCLUDE_SUBDOMAINS=false",
    "preload": "HSTS_PRELOAD=false",
}
# Sample arguments for routes with variables, by endpoint. A new route with
# variables fails test_every_route_keeps_the_floor until it is listed here.
ROUTE_ARGUMENTS = {"static": {"filename": "style.css"}}


def directives(value: str) -> dict[str, list[str]]:
    """A CSP value as directive -> sources (a directive named twice keeps the last)."""
    parsed = {}
    for part in value.split(";"):
        name, *sources = part.split()
        parsed[name.lower()] = sources
    return parsed


def assert_floor(response, *, https: bool, exceptions) -> None:
    """What every response keeps, whatever settings and overrides add; anything
    below it only where SECURITY_EXCEPTIONS names it."""
    headers = response.headers
    for name in FIXED:
        assert headers.getlist(name) == [BASELINE[name]], name
    for name in NEVER_SENT:
        assert name not in headers
    [csp_value] = headers.getlist("Content-Security-Policy")
    csp = directives(csp_value)
    frame_options = headers.getlist("X-Frame-Options")
    if frame_options:  # absent only on a view that names who may frame it
        [policy] = frame_options
        assert policy in AT_LEAST_AS_STRICT or f"FRAME_POLICY={policy}" in exceptions
        assert csp["frame-ancestors"] == [FRAME_ANCESTORS[policy]]
    for directive, sources in directives(CSP).items():
        if directive not in ("frame-ancestors", "report-uri"):
            # 'none' gives way to what a setting adds (object-src's is kept below).
            assert set(sources) - {"'none'"} <= set(csp[directive]), directive
    assert_reporting(headers, csp, https=https)
    for directive, sources in csp.items():
        for source in sources:
            weak = (
                source == "*"
                or "*." in source  # a wildcard host
                or source.lower().startswith(("http:", "ws:"))
                or (source.endswith(":") and source.lower() not in LOCAL_SCHEMES)
                or (directive == "object-src" and source != "'none'")
                or (
                    directive in RUNS_CODE
                    and (source.lower() in UNSAFE or source.endswith(":"))
                )
            )
            assert not weak or f"{directive} {source}" in exceptions, source
    assert ("upgrade-insecure-requests" in csp) is https
    features = dict(f.split("=", 1) for f in headers["Permissions-Policy"].split(", "))
    baseline = dict(f.split("=", 1) for f in BASELINE["Permissions-Policy"].split(", "))
    assert features.keys() == baseline.keys()
    coep = headers["Cross-Origin-Embedder-Policy"]
    assert coep in ("require-corp", "credentialless") or f"COEP={coep}" in exceptions
    hsts = headers.getlist("Strict-Transport-Security")
    if not https:
        assert hsts == []
    elif HSTS and "HSTS=false" not in exceptions:
        [value] = hsts
        parts = [part.strip() for part in value.split(";")]
        baked = [part.strip() for part in HSTS.split(";")]
        max_age = int(parts[0].removeprefix("max-age="))
        assert max_age >= int(baked[0].removeprefix("max-age=")) or (
            f"HSTS_MAX_AGE={max_age}" in exceptions
        )
        for flag in baked[1:]:
            assert flag in parts or HSTS_FLAG_EXCEPTIONS[flag] in exceptions


def assert_reporting(headers, csp: dict[str, list[str]], *, https: bool) -> None:
    """Violations go somewhere: report-uri always (this service or the org's
    collector); over HTTPS also report-to, naming a group Reporting-Endpoints
    defines; over HTTP no report-to, which would silence report-uri."""
    [uri] = csp["report-uri"]
    assert uri.startswith(("/", "https://")), uri
    if https:
        [group] = csp["report-to"]
        [endpoints] = headers.getlist("Reporting-Endpoints")
        assert f'{group}="' in endpoints
    else:
        assert "report-to" not in csp
        assert headers.getlist("Reporting-Endpoints") == []
    for trial in headers.getlist("Content-Security-Policy-Report-Only"):
        assert "upgrade-insecure-requests" not in trial
        assert directives(trial)["report-uri"] == [uri]


def every_route():
    app = create_app({"TESTING": True, "SECRET_KEY": "test-only-secret"})
    for rule in app.url_map.iter_rules():
        methods = rule.methods or {"GET"}
        method = "GET" if "GET" in methods else sorted(methods)[0]
        yield pytest.param(rule.endpoint, method, id=rule.rule)


@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
@pytest.mark.parametrize(("endpoint", "method"), list(every_route()))
def test_every_route_keeps_the_floor(app, client, endpoint, method, https):
    with app.test_request_context():
        url = app.url_for(endpoint, **ROUTE_ARGUMENTS.get(endpoint, {}))
    base_url = HTTPS if https else "http://localhost"
    with client.open(url, method=method, base_url=base_url) as response:
        assert_floor(
            response, https=https, exceptions=app.config["SECURITY_EXCEPTIONS"]
        )


def test_not_found_keeps_the_floor(app, client):
    response = client.get("/no-such-page", base_url=HTTPS)
    assert response.status_code == 404
    assert_floor(response, https=True, exceptions=app.config["SECURITY_EXCEPTIONS"])


# The report receiver's own answers, to good input and bad, carry the headers.
REPORT = {
    "csp-report": {
        "document-uri": "https://localhost/",
        "effective-directive": "script-src-elem",
        "blocked-uri": "inline",
        "disposition": "enforce",
    }
}
RECEIVER_ANSWERS = {
    "accepted": ("application/csp-report", json.dumps(REPORT), 204),
    "wrong-type": ("text/plain", "a report", 415),
    "not-json": ("application/json", "{", 400),
    "not-a-report": ("application/json", "[1]", 400),
    "too-large": ("application/json", " " * (64 * 1024 + 1), 413),
}


@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    RECEIVER_ANSWERS.values(),
    ids=list(RECEIVER_ANSWERS),
)
def test_the_report_receivers_answers_carry_the_baseline(
    pinned, content_type, body, status, https
):
    response = pinned.test_client().post(
        REPORT_URI,
        data=body,
        content_type=content_type,
        base_url=HTTPS if https else "http://localhost",
    )
    assert response.status_code == status
    assert_baseline(response, https=https)


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    RECEIVER_ANSWERS.values(),
    ids=list(RECEIVER_ANSWERS),
)
def test_the_report_receivers_answers_keep_the_floor(
    app, client, content_type, body, status
):
    """The service's own receiver; none when its reports go to a collector."""
    uri = app.config.get("CSP_REPORT_URI", REPORT_URI)
    receives = uri.startswith("/")
    response = client.post(
        uri if receives else REPORT_URI,
        data=body,
        content_type=content_type,
        base_url=HTTPS,
    )
    assert response.status_code == (status if receives else 404)
    assert_floor(response, https=True, exceptions=app.config["SECURITY_EXCEPTIONS"])


def test_session_cookie_is_secure_httponly_and_lax(app, client):
    @app.get("/login")
    def login():
        session["user"] = "someone"
        return "ok"

    cookie = client.get("/login").headers["Set-Cookie"]
    assert "; Secure" in cookie
    assert "; HttpOnly" in cookie
    assert "; SameSite=Lax" in cookie


def test_debug_is_off_by_default():
    assert create_app({"SECRET_KEY": "test-only-secret"}).debug is False


def test_secret_key_is_required_outside_tests(monkeypatch):
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    with pytest.raises(security.PolicyError, match="FLASK_SECRET_KEY"):
        create_app()


def test_secret_key_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("FLASK_SECRET_KEY", "from-the-environment")
    assert create_app().secret_key == "from-the-environment"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"FRAME_POLICY": "ALLOW-FROM https://example.com"}, "FRAME_POLICY"),
        ({"HSTS": True, "HSTS_MAX_AGE": -1}, "HSTS_MAX_AGE"),
        ({"HSTS": True, "HSTS_MAX_AGE": "a year"}, "HSTS_MAX_AGE"),
        ({"TRUSTED_PROXY_HOPS": "1"}, "TRUSTED_PROXY_HOPS"),
        ({"TRUSTED_PROXY_HOPS": -1}, "TRUSTED_PROXY_HOPS"),
    ],
)
def test_a_bad_policy_fails_at_start_up(setting, message):
    with pytest.raises(ValueError, match=message):
        create_app({"SECRET_KEY": "test-only-secret", **setting})
