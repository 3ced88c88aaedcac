"""Teams extend the policy in settings and per view; the floor refuses the rest."""

import functools
import json
import logging
import string

import pytest
from flask import Flask
from hypothesis import event, given
from hypothesis import strategies as st

from {{ cookiecutter.package_name }} import security
from {{ cookiecutter.package_name }}.security import cli, policy

SECRET = {"TESTING": True, "SECRET_KEY": "test-only-secret"}
HTTPS = "https://localhost"
BAKED_FRAME_ANCESTORS = "{{ "'none'" if cookiecutter.frame_policy == "DENY" else "'self'" }}"


def unchecked_app(*, environment: bool = False, **settings) -> Flask:
    """The baked answers and ``settings`` on an app with one page, none of the
    team's settings or views. Its policy is not checked yet, so that a test can
    register views first, as create_app does with the service's blueprint."""
    app = Flask(__name__)
    app.config.from_mapping(SECRET, **policy.BAKED_ANSWERS, TRUSTED_PROXY_HOPS=0)
    if environment:
        app.config.from_prefixed_env()
    app.config.update(settings)
    app.add_url_rule("/", "page", lambda: "a page")
    return app


def make_app(*, environment: bool = False, **settings) -> Flask:
    app = unchecked_app(environment=environment, **settings)
    security.init_app(app)
    return app


def csp_directives(value: str) -> dict[str, list[str]]:
    directives = {}
    for part in value.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def sent(app: Flask, path: str = "/", base_url: str = HTTPS):
    return app.test_client().get(path, base_url=base_url).headers


# Settings, from config.py's mapping and from FLASK_* variables (JSON).
CDN = {"img-src": ["https://cdn.example.com"]}


def test_csp_extend_adds_to_what_the_baseline_names():
    csp = csp_directives(sent(make_app(CSP_EXTEND=CDN))["Content-Security-Policy"])
    assert csp["img-src"] == ["'self'", "https://cdn.example.com"]
    assert csp["default-src"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]


def test_a_directive_the_baseline_leaves_out_gets_the_added_sources_alone():
    """It starts from default-src 'none', as a browser would fall back to it."""
    frames = {"frame-src": ["'self'", "https://maps.example.com"]}
    csp = csp_directives(sent(make_app(CSP_EXTEND=frames))["Content-Security-Policy"])
    assert csp["frame-src"] == ["'self'", "https://maps.example.com"]
    assert csp["default-src"] == ["'none'"]
    assert "child-src" not in csp


def test_frames_stay_closed_until_a_setting_names_them():
    csp = csp_directives(sent(make_app())["Content-Security-Policy"])
    assert csp["default-src"] == ["'none'"]
    for directive in ("frame-src", "child-src", "fenced-frame-src", "worker-src"):
        assert directive not in csp  # frames fall back to 'none', workers to scripts


def test_workers_start_from_script_src():
    workers = {"worker-src": ["https://workers.example.com"]}
    csp = csp_directives(sent(make_app(CSP_EXTEND=workers))["Content-Security-Policy"])
    assert csp["worker-src"] == ["'self'", "https://workers.example.com"]


def test_csp_extend_from_the_environment(monkeypatch):
    monkeypatch.setenv("FLASK_CSP_EXTEND", json.dumps(CDN))
    app = make_app(environment=True)
    csp = csp_directives(sent(app)["Content-Security-Policy"])
    assert csp["img-src"] == ["'self'", "https://cdn.example.com"]


def test_a_child_directive_starts_from_its_extended_parent():
    csp = csp_directives(
        sent(
            make_app(
                CSP_EXTEND={
                    "script-src-elem": ["https://b.example.com"],
                    "script-src": ["https://a.example.com"],
                }
            )
        )["Content-Security-Policy"]
    )
    assert csp["script-src"] == ["'self'", "https://a.example.com", "'report-sample'"]
    assert csp["script-src-elem"] == [
        "'self'",
        "https://a.example.com",
        "https://b.example.com",
        "'report-sample'",
    ]


def test_a_source_added_to_default_src_reaches_only_what_the_baseline_leaves_to_it():
    """The directives the baseline names keep their own sources, as browsers do."""
    cdn = {"default-src": ["https://cdn.example.com"]}
    csp = csp_directives(sent(make_app(CSP_EXTEND=cdn))["Content-Security-Policy"])
    assert csp["default-src"] == ["https://cdn.example.com"]
    for directive in ("script-src", "style-src"):
        assert csp[directive] == ["'self'", "'report-sample'"]
    assert csp["img-src"] == ["'self'"]


def test_a_source_already_there_is_not_repeated():
    csp = csp_directives(
        sent(make_app(CSP_EXTEND={"form-action": ["'self'"]}))[
            "Content-Security-Policy"
        ]
    )
    assert csp["form-action"] == ["'self'"]


@pytest.mark.parametrize("source", ["from-config", "from-environment"])
def test_permissions_allow(monkeypatch, source):
    allow = {"camera": ["self"], "geolocation": ["self", "https://maps.example.com"]}
    if source == "from-environment":
        monkeypatch.setenv("FLASK_PERMISSIONS_ALLOW", json.dumps(allow))
        app = make_app(environment=True)
    else:
        app = make_app(PERMISSIONS_ALLOW=allow)
    features = sent(app)["Permissions-Policy"].split(", ")
    assert "camera=(self)" in features
    assert 'geolocation=(self "https://maps.example.com")' in features
    assert "microphone=()" in features


@pytest.mark.parametrize("source", ["from-config", "from-environment"])
def test_coep_credentialless(monkeypatch, source):
    if source == "from-environment":
        monkeypatch.setenv("FLASK_COEP", '"credentialless"')
        app = make_app(environment=True)
    else:
        app = make_app(COEP="credentialless")
    assert sent(app)["Cross-Origin-Embedder-Policy"] == "credentialless"


def test_upgrade_insecure_requests_only_over_https():
    client = make_app().test_client()
    https = client.get("/", base_url=HTTPS).headers["Content-Security-Policy"]
    http = client.get("/").headers["Content-Security-Policy"]
    assert https.endswith("; upgrade-insecure-requests")
    assert "upgrade-insecure-requests" not in http


# The floor: refused in one line naming the setting, the value, why, and the key.
def csp(directive: str, source: str) -> tuple[dict[str, object], str]:
    return {"CSP_EXTEND": {directive: [source]}}, f"{directive} {source}"


def feature(name: str, item: str) -> tuple[dict[str, object], str]:
    return {"PERMISSIONS_ALLOW": {name: [item]}}, f"PERMISSIONS_ALLOW {name} {item}"


FLOOR = {
    "unsafe-inline-script": csp("script-src", "'unsafe-inline'"),
    "unsafe-eval-default": csp("default-src", "'unsafe-eval'"),
    "unsafe-hashes-style": csp("style-src", "'unsafe-hashes'"),
    "wasm-unsafe-eval-script": csp("script-src-elem", "'wasm-unsafe-eval'"),
    "wildcard-script": csp("script-src", "*"),
    "wildcard-img": csp("img-src", "*"),
    "https-scheme-script": csp("script-src", "https:"),
    "https-scheme-connect": csp("connect-src", "https:"),
    "https-scheme-form": csp("form-action", "https:"),
    "wildcard-host-script": csp("script-src", "https://*.example.com"),
    "wildcard-suffix-img": csp("img-src", "https://*.com"),
    "data-scheme-frame": csp("frame-src", "data:"),
    "javascript-scheme-frame": csp("fenced-frame-src", "javascript:"),
    "data-scheme-style": csp("style-src-elem", "data:"),
    "blob-scheme-worker": csp("worker-src", "blob:"),
    "data-scheme-default": csp("default-src", "data:"),
    "http-origin-img": csp("img-src", "http://cdn.example.com"),
    "http-scheme-connect": csp("connect-src", "http:"),
    "insecure-websocket": csp("connect-src", "ws://live.example.com"),
    "bare-host": csp("img-src", "cdn.example.com"),
    "object-src": csp("object-src", "'self'"),
    "base-uri": csp("base-uri", "https://cdn.example.com"),
    "frame-ancestors-setting": csp("frame-ancestors", "https://partner.example.com"),
    "fixed-nonce": csp("script-src", "'nonce-abc123'"),
    "permissions-wildcard": feature("camera", "*"),
    "permissions-http": feature("camera", "http://cam.example.com"),
    "coep-off": ({"COEP": "unsafe-none"}, "COEP=unsafe-none"),
{%- if cookiecutter.hsts %}
    "hsts-off": ({"HSTS": False}, "HSTS=false"),
{%- endif %}
{%- if cookiecutter.hsts and (cookiecutter.hsts_max_age | int) > 0 %}
    "hsts-shorter": ({"HSTS_MAX_AGE": 0}, "HSTS_MAX_AGE=0"),
{%- endif %}
{%- if cookiecutter.hsts and cookiecutter.hsts_include_subdomains %}
    "hsts-subdomains-off": (
        {"HSTS_INCLUDE_SUBDOMAINS": False},
        "HSTS_INCLUDE_SUBDOMAINS=false",
    ),
{%- endif %}
{%- if cookiecutter.hsts and cookiecutter.hsts_preload %}
    "hsts-preload-off": ({"HSTS_PRELOAD": False}, "HSTS_PRELOAD=false"),
{%- endif %}
{%- if cookiecutter.frame_policy == "DENY" %}
    "sameorigin-where-deny": (
        {"FRAME_POLICY": "SAMEORIGIN"},
        "FRAME_POLICY=SAMEORIGIN",
    ),
{%- endif %}
}


@pytest.mark.parametrize(("settings", "key"), FLOOR.values(), ids=FLOOR)
def test_the_floor_refuses_in_one_line_naming_the_exception(settings, key):
    with pytest.raises(security.PolicyError) as refused:
        make_app(**settings)
    message = str(refused.value)
    assert "\n" not in message
    assert " is refused: " in message
    assert f'add SECURITY_EXCEPTIONS["{key}"]' in message


@pytest.mark.parametrize(("settings", "key"), FLOOR.values(), ids=FLOOR)
def test_a_named_exception_allows_it_and_is_logged(settings, key, caplog):
    reason = "legacy widget, SEC-4242"
    with caplog.at_level(logging.WARNING):
        app = make_app(**settings, SECURITY_EXCEPTIONS={key: reason})
    assert app.extensions["security"].exceptions_used == {key: reason}
    assert f"security exception in use: {key} ({reason})" in caplog.messages


def test_an_exception_nothing_uses_is_refused_as_stale():
    with pytest.raises(security.PolicyError, match=r"stale.*remove"):
        make_app(SECURITY_EXCEPTIONS={"script-src 'unsafe-eval'": "gone since v2"})


@pytest.mark.parametrize(
    ("settings", "names"),
    [
        ({"CSP_EXTEND": {"script-source": ["https://a.example.com"]}}, "script-source"),
        ({"CSP_EXTEND": {"img-src": "https://a.example.com"}}, "must be a list"),
        (
            {"CSP_EXTEND": {"img-src": ["https://a.example.com;script-src *"]}},
            "not a source",
        ),
        ({"CSP_EXTEND": {"img-src": ["'none'"]}}, "not a source"),
        (
            {"CSP_EXTEND": {"img-src": ["https://cdn.example.com/\u20ac"]}},
            "not a source",
        ),
        ({"CSP_EXTEND": {"img-src": ["https://\u212a.example.com"]}}, "not a source"),
        ({"FRAME_POLICY": ["DENY"]}, "FRAME_POLICY"),
        ({"CSP_EXTEND": ["img-src"]}, "must map"),
        ({"PERMISSIONS_ALLOW": {"camrea": ["self"]}}, "camrea"),
        ({"PERMISSIONS_ALLOW": {"camera": ["everyone"]}}, "everyone"),
        ({"COEP": "require-everything"}, "COEP"),
        ({"SECURITY_EXCEPTIONS": {"img-src *": ""}}, "SECURITY_EXCEPTIONS"),
        ({"HSTS": "yes"}, "HSTS"),
    ],
)
def test_settings_that_cannot_be_read_are_refused_in_one_line(settings, names):
    with pytest.raises(security.PolicyError) as refused:
        make_app(**settings)
    assert names in str(refused.value)
    assert "\n" not in str(refused.value)


def test_stronger_settings_need_no_exception():
    app = make_app(HSTS=True, HSTS_MAX_AGE=63072000, FRAME_POLICY="DENY")
    headers = sent(app)
    assert headers["Strict-Transport-Security"].startswith("max-age=63072000")
    assert headers["X-Frame-Options"] == "DENY"


# Per view.
def app_with_views(**settings) -> Flask:
    app = unchecked_app(**settings)

    @app.get("/partner")
    @security.override(frame_ancestors=["https://partner.example.com"])
    def partner():
        return "framed by the partner"

    @app.get("/map")
    @security.override(
        csp_extend={"img-src": ["https://tiles.example.com"]},
        permissions_allow={"geolocation": ["self"]},
    )
    def map_view():
        return "a map"

    @app.get("/plain")
    def plain():
        return "plain"

    security.init_app(app)
    return app


def test_an_override_applies_to_its_view_only():
    app = app_with_views()
    on_map = sent(app, "/map")
    plain = sent(app, "/plain")
    assert csp_directives(on_map["Content-Security-Policy"])["img-src"] == [
        "'self'",
        "https://tiles.example.com",
    ]
    assert "geolocation=(self)" in on_map["Permissions-Policy"].split(", ")
    assert csp_directives(plain["Content-Security-Policy"])["img-src"] == ["'self'"]
    assert "geolocation=()" in plain["Permissions-Policy"].split(", ")


def test_frame_ancestors_lets_that_origin_frame_that_view_only():
    app = app_with_views()
    partner = sent(app, "/partner")
    ancestors = csp_directives(partner["Content-Security-Policy"])["frame-ancestors"]
    expected = ["https://partner.example.com"]
    if BAKED_FRAME_ANCESTORS != "'none'":
        expected.insert(0, BAKED_FRAME_ANCESTORS)
    assert ancestors == expected
    assert "X-Frame-Options" not in partner
    assert sent(app, "/plain")["X-Frame-Options"] == "{{ cookiecutter.frame_policy }}"


@pytest.mark.parametrize(
    "origin", ["http://partner.example.com", "*", "https://partner.example.com/path"]
)
def test_frame_ancestors_takes_explicit_https_origins_only(origin):
    app = unchecked_app()
    app.add_url_rule(
        "/p", view_func=security.override(frame_ancestors=[origin])(lambda: "p")
    )
    with pytest.raises(security.PolicyError) as refused:
        security.init_app(app)
    assert f'SECURITY_EXCEPTIONS["frame-ancestors {origin}"]' in str(refused.value)


def test_an_override_may_take_a_named_exception():
    partner = "http://partner.example.com"
    reason = "the partner has no TLS yet, NET-77"
    app = unchecked_app(SECURITY_EXCEPTIONS={f"frame-ancestors {partner}": reason})
    app.add_url_rule(
        "/p", view_func=security.override(frame_ancestors=[partner])(lambda: "p")
    )
    security.init_app(app)
    assert app.extensions["security"].exceptions_used == {
        f"frame-ancestors {partner}": reason
    }
    ancestors = csp_directives(sent(app, "/p")["Content-Security-Policy"])
    assert ancestors["frame-ancestors"][-1] == partner


def test_an_override_built_once_not_per_request(monkeypatch):
    app = app_with_views()
    builds = []

    def counted_build(*args, **kwargs):
        builds.append(args)
        return policy.build(*args, **kwargs)

    monkeypatch.setattr(security, "build", counted_build)

    @app.get("/late")
    @security.override(csp_extend={"img-src": ["https://late.example.com"]})
    def late():
        return "registered after the policy was checked"

    client = app.test_client()
    for _ in range(5):
        for path in ("/", "/map", "/partner", "/late", "/no-such-page"):
            client.get(path, base_url=HTTPS)
    assert len(builds) == 1  # /late, on its first request; the rest at start-up
    assert "https://late.example.com" in sent(app, "/late")["Content-Security-Policy"]


def test_a_late_override_past_the_floor_fails_closed(caplog):
    app = make_app()

    @app.get("/unsafe")
    @security.override(csp_extend={"script-src": ["'unsafe-inline'"]})
    def unsafe():
        return "would run inline code"

    with caplog.at_level(logging.ERROR):
        headers = sent(app, "/unsafe")
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "{{ cookiecutter.frame_policy }}"
    assert any("override of unsafe refused" in m for m in caplog.messages)


def test_a_views_own_header_still_wins_over_its_override():
    app = app_with_views()

    @app.get("/own")
    @security.override(csp_extend={"img-src": ["https://x.example.com"]})
    def own():
        return "mine", {"Content-Security-Policy": "default-src 'none'"}

    assert sent(app, "/own").getlist("Content-Security-Policy") == [
        "default-src 'none'"
    ]


# flask security show
def test_security_show_lists_headers_settings_exceptions_and_overrides():
    app = app_with_views(
        CSP_EXTEND={"script-src": ["'unsafe-eval'"]},
        SECURITY_EXCEPTIONS={"script-src 'unsafe-eval'": "legacy charts, SEC-4242"},
    )
    runner = app.test_cli_runner()
    text = runner.invoke(args=["security", "show"])
    assert text.exit_code == 0, text.output
    assert "X-DNS-Prefetch-Control: off" in text.output
    assert "script-src 'unsafe-eval': legacy charts, SEC-4242" in text.output
    assert "partner /partner" in text.output
    assert "X-Frame-Options: not sent" in text.output

    machine = json.loads(runner.invoke(args=["security", "show", "--json"]).output)
    assert machine["https"]["Content-Security-Policy"].endswith(
        "upgrade-insecure-requests"
    )
    assert "upgrade-insecure-requests" not in machine["http"]["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in machine["http"]
    assert machine["settings"]["CSP_EXTEND"] == {"script-src": ["'unsafe-eval'"]}
    assert machine["exceptions"] == {
        "script-src 'unsafe-eval'": "legacy charts, SEC-4242"
    }
    assert machine["csp_extended"] == {
        "script-src": {
            "starts_from": "script-src 'self'",
            "sends": "'self' 'unsafe-eval' 'report-sample'",
        }
    }
    assert machine["overrides"]["partner"]["override"]["frame_ancestors"] == [
        "https://partner.example.com"
    ]
    assert "X-Frame-Options" not in machine["overrides"]["partner"]["https"]


@pytest.mark.parametrize(
    ("checkout", "release"),
    [("v3.1.0", "v3.1.0"), (None, None), ("main", None), ("v3.1.0-rc", None)],
    ids=["a-release", "null-after-cruft-update", "a-branch", "not-a-release"],
)
def test_security_show_names_a_release_only_when_cruft_recorded_one(
    tmp_path, checkout, release
):
    state = {"template": "t", "commit": "0123456789abcdef", "checkout": checkout}
    (tmp_path / ".cruft.json").write_text(json.dumps(state))
    baseline = cli.baseline_release(tmp_path)
    assert baseline == {"release": release, "commit": "0123456789abcdef"}
    assert cli.baseline_line(baseline) == (
        f"Baseline release: {release or 'unknown release'} (template commit 0123456789ab)"
    )
    assert cli.baseline_line(cli.baseline_release(tmp_path / "elsewhere")) == (
        "Baseline release: unknown (no .cruft.json)"
    )


def test_security_show_says_where_each_extended_directive_starts():
    """A directive the baseline leaves out starts from default-src 'none': the
    team's sources alone; one it names keeps its own."""
    app = app_with_views(
        CSP_EXTEND={"frame-src": ["'self'"], "img-src": ["https://cdn.example.com"]}
    )
    lines = app.test_cli_runner().invoke(args=["security", "show"]).output.splitlines()
    assert "  frame-src: from default-src 'none' to 'self'" in lines
    assert "  img-src: from img-src 'self' to 'self' https://cdn.example.com" in lines
    assert (
        "    csp_extend img-src: from img-src 'self' https://cdn.example.com "
        "to 'self' https://cdn.example.com https://tiles.example.com"
    ) in lines


# Any CSP_EXTEND at all: refused in one line, or the floor holds and each
# added source is sent exactly once.
DIRECTIVES = [
    "default-src", "script-src", "script-src-elem", "script-src-attr", "style-src",
    "style-src-elem", "style-src-attr", "worker-src", "child-src", "object-src",
    "img-src", "connect-src", "font-src", "media-src", "frame-src", "manifest-src",
    "fenced-frame-src", "base-uri", "form-action", "frame-ancestors",
    "trusted-types", "require-trusted-types-for", "script-source", "sandbox", "report-uri", "upgrade-insecure-requests",
]  # fmt: skip
CODE_DIRECTIVES = [
    "default-src", "script-src", "script-src-elem", "script-src-attr", "style-src",
    "style-src-elem", "style-src-attr", "worker-src", "child-src", "object-src",
]  # fmt: skip
NEVER_IN_CODE = {
    "'unsafe-inline'",
    "'unsafe-eval'",
    "'unsafe-hashes'",
    "'wasm-unsafe-eval'",
}
# What the baseline names besides default-src, and the first source of each,
# which no setting takes away.
NAMED = {
    "script-src": "'self'", "style-src": "'self'", "img-src": "'self'",
    "font-src": "'self'", "connect-src": "'self'", "manifest-src": "'self'",
    "media-src": "'self'", "object-src": "'none'", "base-uri": "'self'",
    "form-action": "'self'", "frame-ancestors": BAKED_FRAME_ANCESTORS,
    "require-trusted-types-for": "'script'",
}  # fmt: skip
NAMED_BY_THE_SERVICE = {
    "default-src",
    "trusted-types",
    "report-uri",
    "report-to",
    "upgrade-insecure-requests",
}
SAFE = [
    "'self'", "'strict-dynamic'", "'report-sample'", "'sha256-AbC+/de='", "data:",
    "https://cdn.example.com", "wss://live.example.com", "https://cdn.example.com:443/p/",
    "app-sanitizer", "default",
]  # fmt: skip
RISKY = [
    "'unsafe-inline'", "'UNSAFE-EVAL'", "'unsafe-hashes'", "'wasm-unsafe-eval'",
    "'nonce-abc123'", "*", "https:", "HTTP:", "blob:", "http://cdn.example.com",
    "cdn.example.com", "ws://live.example.com", "https://*", "https://*.com",
    "wss:", "javascript:", "https://cdn.example.com/\u20ac", "https://\u212a.example.com",
    "'allow-duplicates'",
]  # fmt: skip
NOT_SOURCES = ["", "'", "'none'", "a b", "a;b", "https://x.example.com;script-src *"]
ORIGINS = st.builds(
    "".join,
    st.tuples(
        st.sampled_from(["https://", "http://", "wss://", "ws://", "ftp://", ""]),
        st.sampled_from(["cdn.example.com", "*.example.com", "*", "a-b.example.org"]),
        st.sampled_from(["", ":443", ":*"]),
        st.sampled_from(["", "/", "/path/"]),
    ),
)
SOURCES = st.one_of(
    st.sampled_from(SAFE + RISKY),  # mostly sources a team might write
    st.sampled_from(SAFE + RISKY),
    st.sampled_from(SAFE + RISKY),
    ORIGINS,
    st.sampled_from(NOT_SOURCES),
    st.text(string.printable, max_size=12),
)


@given(
    st.dictionaries(
        st.sampled_from(DIRECTIVES), st.lists(SOURCES, max_size=2), max_size=2
    )
)
def test_any_csp_extend_is_refused_or_keeps_the_floor(extend):
    refusal: str | None = None
    try:
        app = make_app(CSP_EXTEND=extend)
    except security.PolicyError as error:
        refusal = str(error)
    if refusal is not None:
        event("refused")
        assert "\n" not in refusal
        return
    event("sent")
    csp = csp_directives(sent(app)["Content-Security-Policy"])
    # Deny by default: 'none' gives way only to what the setting adds.
    added_to_default = list(dict.fromkeys(extend.get("default-src", [])))
    assert csp["default-src"] == (added_to_default or ["'none'"])
    assert set(csp) <= {*NAMED, *extend, *NAMED_BY_THE_SERVICE}
    for directive in NAMED:
        assert csp[directive][0] == NAMED[directive]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"][0] == "'self'"
    assert csp["frame-ancestors"] == [BAKED_FRAME_ANCESTORS]
    assert csp["upgrade-insecure-requests"] == []
    # No Trusted Types policy but those the setting names.
    named_policies = list(dict.fromkeys(extend.get("trusted-types", [])))
    assert csp["trusted-types"] == (named_policies or ["'none'"])
    for directive, sources in csp.items():
        for source in sources:
            assert source != "*"
            assert "*." not in source
            assert not source.lower().startswith(("http:", "ws:"))
            assert not source.endswith(":") or source.lower() in ("data:", "blob:")
            assert source != "'allow-duplicates'"
            if directive in CODE_DIRECTIVES:
                assert source.lower() not in NEVER_IN_CODE
                assert not source.endswith(":")
    for directive, sources in extend.items():
        for source in sources:
            assert csp[directive].count(source) == 1


def test_local_schemes_may_be_added_where_no_code_runs():
    app = make_app(CSP_EXTEND={"img-src": ["data:"], "media-src": ["blob:"]})
    csp = csp_directives(sent(app)["Content-Security-Policy"])
    assert csp["img-src"] == ["'self'", "data:"]
    assert csp["media-src"] == ["'self'", "blob:"]


def test_an_exception_cannot_carry_text_that_is_not_an_origin():
    smuggled = "http://partner.example.com; script-src *"
    app = unchecked_app(SECURITY_EXCEPTIONS={f"frame-ancestors {smuggled}": "sneaky"})
    app.add_url_rule(
        "/p", view_func=security.override(frame_ancestors=[smuggled])(lambda: "p")
    )
    with pytest.raises(security.PolicyError, match="is not an origin"):
        security.init_app(app)


def test_an_override_under_another_decorator_still_applies():
    def logged(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            return view(*args, **kwargs)

        return wrapper

    app = unchecked_app()
    app.add_url_rule(
        "/p",
        "p",
        logged(security.override(permissions_allow={"camera": ["self"]})(lambda: "p")),
    )
    security.init_app(app)
    assert "camera=(self)" in sent(app, "/p")["Permissions-Policy"].split(", ")
