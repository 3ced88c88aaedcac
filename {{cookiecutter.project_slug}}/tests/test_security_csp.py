"""Scripts that run safely: CSP nonces and report-only trials.

The template owns this file. The apps here are the baked answers plus one
page at a time, as in test_security_policy.py.
"""

import base64
import json
import logging
import re
import secrets

import pytest
from flask import Flask, make_response, render_template_string

from {{ cookiecutter.package_name }} import security
from {{ cookiecutter.package_name }}.security import check, live, policy

SECRET = {"TESTING": True, "SECRET_KEY": "test-only-secret"}
HTTPS = "https://localhost"
HTTP = "http://localhost"
RECEIVER = "/_security/csp-report"
# The Jinja expression a page writes, in pieces: this file was rendered once itself.
NONCE_EXPRESSION = "{" + "{ csp_nonce() }" + "}"
NONCE_PAGE = (
    '<style nonce="NONCE">p { color: teal; }</style>'
    '<script nonce="NONCE">document.title = "ran";</script>'
    '<script nonce="NONCE">document.body.dataset.ok = "1";</script>'
).replace("NONCE", NONCE_EXPRESSION)
NONCE_SOURCE = re.compile(r"'nonce-([A-Za-z0-9_-]+)'")


def make_app(*, environment: bool = False, **settings) -> Flask:
    """The baked answers and ``settings``; a plain page, and pages that ask for a nonce."""
    app = Flask(__name__)
    app.config.from_mapping(SECRET, **policy.BAKED_ANSWERS, TRUSTED_PROXY_HOPS=0)
    if environment:
        app.config.from_prefixed_env()
    app.config.update(settings)
    app.add_url_rule("/", "plain", lambda: "<p>no inline code</p>")
    app.add_url_rule(
        "/template", "template", lambda: render_template_string(NONCE_PAGE)
    )
    app.add_url_rule(
        "/python",
        "python",
        lambda: f'<script nonce="{security.csp_nonce()}">1;</script>',
    )

    @app.get("/cached")
    def cached():
        response = make_response(render_template_string(NONCE_PAGE))
        response.headers["Cache-Control"] = app.config["TEST_CACHE_CONTROL"]
        return response

    @app.get("/own-csp")
    def own_csp():
        return render_template_string(NONCE_PAGE), {
            "Content-Security-Policy": "default-src 'none'"
        }

    security.init_app(app)
    return app


def csp_of(headers, name: str = "Content-Security-Policy") -> dict[str, list[str]]:
    [value] = headers.getlist(name)
    directives: dict[str, list[str]] = {}
    for part in value.split(";"):
        directive, *sources = part.split()
        directives[directive] = sources
    return directives


def nonces_in(text: str) -> set[str]:
    return set(re.findall(r'nonce="([^"]*)"', text))


# Nonces.
@pytest.mark.parametrize("base_url", [HTTP, HTTPS], ids=["http", "https"])
@pytest.mark.parametrize("path", ["/template", "/python"])
def test_a_page_that_asks_gets_its_nonce_in_script_src_and_style_src(path, base_url):
    response = make_app().test_client().get(path, base_url=base_url)
    [page_nonce] = nonces_in(response.text)  # one nonce, however often it is asked
    csp = csp_of(response.headers)
    for directive in ("script-src", "style-src"):
        assert csp[directive] == [
            "'self'",
            "'report-sample'",
            f"'nonce-{page_nonce}'",
        ], directive
    assert "'strict-dynamic'" not in csp["script-src"]
    assert csp["default-src"] == ["'none'"]


@pytest.mark.parametrize("base_url", [HTTP, HTTPS], ids=["http", "https"])
def test_a_page_that_does_not_ask_keeps_the_static_header(monkeypatch, base_url):
    made = []
    real = secrets.token_urlsafe

    def counted(nbytes):
        made.append(nbytes)
        return real(nbytes)

    monkeypatch.setattr(secrets, "token_urlsafe", counted)
    app = make_app()
    client = app.test_client()
    prepared = app.extensions["security"].default
    static = dict(prepared.policy.https if base_url == HTTPS else prepared.policy.http)
    for path in ("/", "/no-such-page", "/static/none.css"):
        response = client.get(path, base_url=base_url)
        assert "'nonce-" not in response.headers["Content-Security-Policy"]
        assert (
            response.headers["Content-Security-Policy"]
            == static["Content-Security-Policy"]
        )
    assert made == []  # lazily: no page asked, so no nonce was made
    client.get("/template", base_url=base_url)
    assert made == [16]  # asked three times by one page: made once, 128 bits


def test_every_response_gets_a_new_unguessable_nonce():
    client = make_app().test_client()
    seen = set()
    for _ in range(200):
        response = client.get("/template")
        [page_nonce] = nonces_in(response.text)
        [header_nonce] = set(
            NONCE_SOURCE.findall(response.headers["Content-Security-Policy"])
        )
        assert header_nonce == page_nonce
        assert len(base64.urlsafe_b64decode(page_nonce + "==")) >= 16
        seen.add(page_nonce)
    assert len(seen) == 200


def test_requests_that_share_an_app_context_never_share_a_nonce():
    """One app context pushed around several requests shares flask.g; not the nonce."""
    app = make_app()
    with app.app_context():
        client = app.test_client()
        first, second = client.get("/template"), client.get("/template")
    [first_nonce], [second_nonce] = nonces_in(first.text), nonces_in(second.text)
    assert first_nonce != second_nonce
    assert f"'nonce-{second_nonce}'" in second.headers["Content-Security-Policy"]


def test_csp_nonce_needs_a_request():
    with make_app().app_context(), pytest.raises(RuntimeError, match="needs a request"):
        security.csp_nonce()


def test_strict_dynamic_comes_with_the_nonce_only():
    client = make_app(CSP_STRICT_DYNAMIC=True).test_client()
    with_nonce = csp_of(client.get("/template").headers)
    assert with_nonce["script-src"][-1] == "'strict-dynamic'"
    assert "'strict-dynamic'" not in with_nonce["style-src"]
    assert "'strict-dynamic'" not in client.get("/").headers["Content-Security-Policy"]


def test_strict_dynamic_must_be_true_or_false():
    with pytest.raises(security.PolicyError, match="CSP_STRICT_DYNAMIC"):
        make_app(CSP_STRICT_DYNAMIC="yes")


def test_a_directive_the_team_extended_gets_the_nonce_too():
    extend = {"script-src-elem": ["https://cdn.example.com"]}
    csp = csp_of(make_app(CSP_EXTEND=extend).test_client().get("/template").headers)
    [page_nonce] = NONCE_SOURCE.findall(" ".join(csp["script-src"]))
    assert f"'nonce-{page_nonce}'" in csp["script-src-elem"]


@pytest.mark.parametrize(
    "cache_control",
    ["public, max-age=60", "max-age=60", "s-maxage=60", "no-cache", "PUBLIC"],
)
def test_a_publicly_cacheable_page_gets_no_nonce_and_the_log_says_why(
    cache_control, caplog
):
    client = make_app(TEST_CACHE_CONTROL=cache_control).test_client()
    with caplog.at_level(logging.ERROR):
        response = client.get("/cached")
    assert response.headers["Cache-Control"] == cache_control
    assert "'nonce-" not in response.headers["Content-Security-Policy"]
    [message] = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert message.startswith("csp_nonce() refused on cached: ")
    assert "publicly cacheable" in message
    assert "\n" not in message


@pytest.mark.parametrize("cache_control", ["private, max-age=60", "no-store"])
def test_a_page_kept_from_shared_caches_keeps_its_nonce(cache_control, caplog):
    client = make_app(TEST_CACHE_CONTROL=cache_control).test_client()
    response = client.get("/cached")
    [page_nonce] = nonces_in(response.text)
    assert f"'nonce-{page_nonce}'" in response.headers["Content-Security-Policy"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_views_own_csp_wins_over_the_nonce():
    response = make_app().test_client().get("/own-csp")
    assert response.headers.getlist("Content-Security-Policy") == ["default-src 'none'"]


def test_security_check_matches_a_nonce_page_as_a_pattern():
    app = make_app()
    expected = check.expected_headers(app, "https://localhost/template")
    with app.test_client().get("/template", base_url=HTTPS) as response:
        sent = list(response.headers.items())
    assert NONCE_SOURCE.search(dict(sent)["Content-Security-Policy"])
    # Matched as a pattern, and the page's own nonce meets the floor.
    assert live.assess(expected, sent, {}) == []


# Report-only trials.
TRIAL = {"default-src": ["'self'"], "img-src": ["'none'"]}


def test_no_report_only_policy_unless_one_is_set():
    headers = make_app().test_client().get("/", base_url=HTTPS).headers
    assert "Content-Security-Policy-Report-Only" not in headers


@pytest.mark.parametrize("base_url", [HTTP, HTTPS], ids=["http", "https"])
def test_a_trial_policy_is_sent_beside_the_enforced_one_with_the_same_reporting(
    base_url,
):
    headers = (
        make_app(CSP_REPORT_ONLY=TRIAL)
        .test_client()
        .get("/", base_url=base_url)
        .headers
    )
    trial = csp_of(headers, "Content-Security-Policy-Report-Only")
    enforced = csp_of(headers)
    assert trial == {
        "default-src": ["'self'"],
        "img-src": ["'none'"],
        "script-src": ["'self'", "'report-sample'"],
        "style-src": ["'self'", "'report-sample'"],
        "report-uri": [RECEIVER],
        **({"report-to": ["csp"]} if base_url == HTTPS else {}),
    }
    assert "upgrade-insecure-requests" not in trial  # never, whatever the scheme
    assert enforced["default-src"] == ["'none'"]  # enforced as before
    assert enforced["img-src"] == ["'self'"]


def test_a_trial_from_the_environment(monkeypatch):
    monkeypatch.setenv("FLASK_CSP_REPORT_ONLY", json.dumps({"script-src": ["'none'"]}))
    headers = make_app(environment=True).test_client().get("/").headers
    trial = csp_of(headers, "Content-Security-Policy-Report-Only")
    assert trial["script-src"] == ["'report-sample'"]  # 'none' gives way to the sample


def test_a_trial_may_hold_what_the_floor_refuses_since_it_blocks_nothing():
    trial = {"script-src": ["'unsafe-inline'", "http://legacy.example.com", "*"]}
    headers = make_app(CSP_REPORT_ONLY=trial).test_client().get("/").headers
    assert csp_of(headers, "Content-Security-Policy-Report-Only")["script-src"] == [
        "'unsafe-inline'",
        "http://legacy.example.com",
        "*",
        "'report-sample'",
    ]
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]


def test_a_trial_of_trusted_types():
    trial = {"require-trusted-types-for": ["'script'"], "trusted-types": ["default"]}
    headers = make_app(CSP_REPORT_ONLY=trial).test_client().get("/").headers
    assert headers["Content-Security-Policy-Report-Only"].startswith(
        "require-trusted-types-for 'script'; trusted-types default; report-uri "
    )


def test_a_nonce_page_gets_its_nonce_in_the_trial_too():
    trial = {"default-src": ["'self'"], "script-src": ["'self'"]}
    response = make_app(CSP_REPORT_ONLY=trial).test_client().get("/template")
    [page_nonce] = nonces_in(response.text)
    csp = csp_of(response.headers, "Content-Security-Policy-Report-Only")
    assert f"'nonce-{page_nonce}'" in csp["script-src"]
    assert f"'nonce-{page_nonce}'" in csp["style-src"]


@pytest.mark.parametrize(
    ("trial", "message"),
    [
        (["script-src"], "must map CSP directives"),
        (
            {"upgrade-insecure-requests": []},
            "'upgrade-insecure-requests' is not a directive",
        ),
        ({"report-uri": ["/elsewhere"]}, "'report-uri' is not a directive"),
        ({"script-source": ["'self'"]}, "'script-source' is not a directive"),
        ({"script-src": "'self'"}, "must be a non-empty list"),
        ({"script-src": []}, "must be a non-empty list"),
        ({"script-src": ["'self'; img-src *"]}, "is not a CSP source"),
        ({"script-src": ["self"]}, "a keyword is written in single quotes"),
        ({"script-src": ["UNSAFE-EVAL"]}, "a keyword is written in single quotes"),
        ({"script-src": [42]}, "is not text"),
        ({"script-src": ["'none'", "'self'"]}, "'none' must stand alone"),
        ({"trusted-types": ["a;b"]}, "not a Trusted Types value"),
    ],
)
def test_a_trial_that_is_not_a_policy_is_refused_in_one_line(trial, message):
    with pytest.raises(security.PolicyError) as refused:
        make_app(CSP_REPORT_ONLY=trial)
    assert message in str(refused.value)
    assert "CSP_REPORT_ONLY" in str(refused.value)
    assert "\n" not in str(refused.value)


def test_security_show_names_the_trial_and_the_nonce_variant():
    app = make_app(CSP_REPORT_ONLY=TRIAL, CSP_STRICT_DYNAMIC=True)
    shown = json.loads(
        app.test_cli_runner().invoke(args=["security", "show", "--json"]).output
    )
    assert shown["settings"]["CSP_REPORT_ONLY"] == TRIAL
    assert shown["settings"]["CSP_STRICT_DYNAMIC"] is True
    assert "Content-Security-Policy-Report-Only" in shown["https"]
    assert (
        "'nonce-<nonce>' 'strict-dynamic'"
        in shown["with_nonce"]["Content-Security-Policy"]
    )
    assert shown["https"]["Reporting-Endpoints"] == f'csp="{RECEIVER}"'
