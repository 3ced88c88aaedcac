"""The baseline, pinned: weakening the policy must break a test here."""

import pytest
from flask import abort, redirect, session

from {{ cookiecutter.package_name }} import create_app

# The policy this service was baked with, written out on purpose.
CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors {{ "'none'" if cookiecutter.frame_policy == "DENY" else "'self'" }}"
)
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
HSTS = "max-age={{ cookiecutter.hsts_max_age | int }}{{ '; includeSubDomains' if cookiecutter.hsts_include_subdomains }}{{ '; preload' if cookiecutter.hsts_preload }}"
{%- else %}
HSTS = None  # baked with HSTS off
{%- endif %}
NO_STORE = "no-store, max-age=0"
# Deprecated or harmful: the OWASP Secure Headers Project checks they are absent.
NEVER_SENT = ["X-XSS-Protection", "Feature-Policy", "Expect-CT", "Public-Key-Pins"]

# Sample arguments for routes with variables, by endpoint. A new route with
# variables fails test_every_route_sends_the_baseline until it is listed here.
ROUTE_ARGUMENTS = {"static": {"filename": "style.css"}}


def assert_baseline(response, *, https=False):
    for name, value in BASELINE.items():
        assert response.headers.getlist(name) == [value], name
    # Over plain HTTP (a local run) the upgrade would break the page's own loads.
    csp = f"{CSP}; upgrade-insecure-requests" if https else CSP
    assert response.headers.getlist("Content-Security-Policy") == [csp]
    expected_hsts = [HSTS] if https and HSTS else []
    assert response.headers.getlist("Strict-Transport-Security") == expected_hsts
    for name in NEVER_SENT:
        assert name not in response.headers


def every_route():
    app = create_app({"TESTING": True, "SECRET_KEY": "test-only-secret"})
    for rule in app.url_map.iter_rules():
        method = "GET" if "GET" in rule.methods else sorted(rule.methods)[0]
        yield pytest.param(rule.endpoint, method, id=rule.rule)


@pytest.mark.parametrize(("endpoint", "method"), list(every_route()))
def test_every_route_sends_the_baseline(app, client, endpoint, method):
    with app.test_request_context():
        url = app.url_for(endpoint, **ROUTE_ARGUMENTS.get(endpoint, {}))
    with client.open(url, method=method) as response:
        assert_baseline(response)


@pytest.mark.parametrize("path", ["/", "/download"])
def test_responses_are_not_cached_unless_the_view_says_so(client, path):
    assert client.get(path).headers.getlist("Cache-Control") == [NO_STORE]


def test_not_found(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert_baseline(response)
    assert response.headers["Cache-Control"] == NO_STORE


def test_method_not_allowed(client):
    response = client.post("/cache")
    assert response.status_code == 405
    assert_baseline(response)


def test_unhandled_exception(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    response = client.get("/boom")
    assert response.status_code == 500
    assert_baseline(response)


def test_abort(app, client):
    @app.get("/forbidden")
    def forbidden():
        abort(403)

    response = client.get("/forbidden")
    assert response.status_code == 403
    assert_baseline(response)


def test_redirect(app, client):
    @app.get("/old")
    def old():
        return redirect("/")

    response = client.get("/old")
    assert response.status_code == 302
    assert_baseline(response)


def test_head(client):
    response = client.head("/")
    assert response.status_code == 200
    assert response.data == b""
    assert_baseline(response)


def test_automatic_options(client):
    response = client.options("/cache")
    assert response.status_code == 200
    assert "GET" in response.headers["Allow"]
    assert_baseline(response)


def test_static_file(client):
    with client.get("/static/style.css") as response:
        assert response.status_code == 200
        assert response.mimetype == "text/css"
        assert_baseline(response)


def test_hsts_over_https(client):
    assert_baseline(client.get("/", base_url="https://localhost"), https=True)


def test_no_hsts_over_plain_http(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_client_forwarded_proto_is_not_believed_without_a_proxy(client):
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def test_forwarded_proto_is_believed_from_a_trusted_proxy():
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "test-only-secret", "TRUSTED_PROXY_HOPS": 1}
    )
    response = app.test_client().get("/", headers={"X-Forwarded-Proto": "https"})
    assert_baseline(response, https=True)


def test_a_views_own_header_wins(app, client):
    @app.get("/embeddable")
    def embeddable():
        return "framed", {
            "X-Frame-Options": "SAMEORIGIN",
            "Content-Security-Policy": "frame-ancestors 'self'",
            "x-content-type-options": "custom",
        }

    response = client.get("/embeddable")
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers.getlist("Content-Security-Policy") == [
        "frame-ancestors 'self'"
    ]
    assert response.headers.getlist("X-Content-Type-Options") == ["custom"]
    assert response.headers["Referrer-Policy"] == BASELINE["Referrer-Policy"]


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
    with pytest.raises(RuntimeError, match="FLASK_SECRET_KEY"):
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
