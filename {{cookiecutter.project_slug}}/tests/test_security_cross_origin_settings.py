"""The cross-origin rule's settings: refused in one line, turned off only by a
named exception, and shown by ``security show``.

The template owns this file; the apps are test_security_cross_origin's.
"""

import json
import logging

import pytest

from {{ cookiecutter.package_name }} import security
from tests.test_security_cross_origin import (
    EVIL,
    PARTNER,
    SERVICE,
    headers,
    make_app,
    unchecked_app,
)


# Settings: refused in one line, turned off only by a named exception.
@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("https://partner.example.com", "must be a list of origins"),
        ({"https://partner.example.com": True}, "must be a list of origins"),
        (["https://partner.example.com/"], "no path (not even /)"),
        (["https://partner.example.com/login"], "no path"),
        (["https://*.example.com"], "no wildcard"),
        (["*"], "no wildcard"),
        (["partner.example.com"], "https://host[:port]"),
        (["ftp://partner.example.com"], "https://host[:port]"),
        (["https://partner.example.com:99999"], "https://host[:port]"),
        (["null"], "https://host[:port]"),
        ([""], "https://host[:port]"),
        ([42], "https://host[:port]"),
    ],
)
def test_bad_trusted_origins_are_refused_in_one_line(setting, message):
    with pytest.raises(security.PolicyError) as refused:
        make_app(CSRF_TRUSTED_ORIGINS=setting)
    assert message in str(refused.value)
    assert str(refused.value).startswith("CSRF_TRUSTED_ORIGINS ")
    assert "\n" not in str(refused.value)


def test_a_plain_http_origin_needs_a_named_exception(caplog):
    origin = "http://legacy.example.com"
    with pytest.raises(security.PolicyError) as refused:
        make_app(CSRF_TRUSTED_ORIGINS=[origin])
    key = f"CSRF_TRUSTED_ORIGINS {origin}"
    assert f'SECURITY_EXCEPTIONS["{key}"]' in str(refused.value)
    caplog.set_level(logging.WARNING)
    app, _ = make_app(
        CSRF_TRUSTED_ORIGINS=[origin], SECURITY_EXCEPTIONS={key: "intranet, SEC-1"}
    )
    response = app.test_client().post(
        "/change", base_url=SERVICE, headers=headers("cross-site", origin)
    )
    assert response.status_code == 200
    assert f"security exception in use: {key} (intranet, SEC-1)" in caplog.text


def test_turning_it_off_needs_its_named_exception(caplog):
    with pytest.raises(security.PolicyError) as refused:
        make_app(CROSS_ORIGIN_PROTECTION=False)
    message = str(refused.value)
    assert message.startswith("CROSS_ORIGIN_PROTECTION = False is refused: ")
    assert 'SECURITY_EXCEPTIONS["CROSS_ORIGIN_PROTECTION=false"]' in message
    assert "\n" not in message
    caplog.set_level(logging.WARNING)
    reason = "the single-page app posts from its own CDN origin, SEC-77"
    app, ran = make_app(
        CROSS_ORIGIN_PROTECTION=False,
        SECURITY_EXCEPTIONS={"CROSS_ORIGIN_PROTECTION=false": reason},
    )
    response = app.test_client().post(
        "/change", base_url=SERVICE, headers=headers("cross-site", EVIL)
    )
    assert response.status_code == 200
    assert ran == ["POST"]
    assert f"security exception in use: CROSS_ORIGIN_PROTECTION=false ({reason})" in (
        caplog.text
    )


def test_its_exception_is_stale_while_the_protection_is_on():
    with pytest.raises(security.PolicyError, match="stale"):
        make_app(SECURITY_EXCEPTIONS={"CROSS_ORIGIN_PROTECTION=false": "old"})


@pytest.mark.parametrize("value", ["false", 0, None])
def test_the_switch_takes_true_or_false_only(value):
    with pytest.raises(security.PolicyError, match="must be true or false"):
        make_app(CROSS_ORIGIN_PROTECTION=value)


def test_the_setting_from_the_environment(monkeypatch):
    monkeypatch.setenv("FLASK_CSRF_TRUSTED_ORIGINS", json.dumps([PARTNER]))
    app, _ = unchecked_app()
    app.config.from_prefixed_env()
    security.init_app(app)
    response = app.test_client().post(
        "/change", base_url=SERVICE, headers=headers("cross-site", PARTNER)
    )
    assert response.status_code == 200


# security show: who may post from another origin.
def test_security_show_names_trusted_origins_and_the_views_past_the_rule():
    app, _ = unchecked_app(CSRF_TRUSTED_ORIGINS=[PARTNER])

    @app.post("/callback")
    @security.override(cross_origin_protection=False)
    def callback():
        return "ok"

    security.init_app(app)
    runner = app.test_cli_runner()
    text = runner.invoke(args=["security", "show"]).output
    assert (
        "Cross-origin requests: any but GET, HEAD and OPTIONS from another "
        "origin's page is refused (403)\n"
    ) in text
    assert f"  trusted origins: {PARTNER}\n" in text
    assert "    callback /callback\n" in text
    assert "    security.csp_report /_security/csp-report\n" in text
    assert '"cross_origin_protection": false' in text  # the view's override
    machine = json.loads(runner.invoke(args=["security", "show", "--json"]).output)
    assert machine["cross_origin"] == {
        "protection": True,
        "trusted_origins": [PARTNER],
        "views_past_the_rule": {
            "callback": ["/callback"],
            "security.csp_report": ["/_security/csp-report"],
        },
    }
    assert machine["settings"]["CSRF_TRUSTED_ORIGINS"] == [PARTNER]
    assert (
        machine["overrides"]["callback"]["override"]["cross_origin_protection"] is False
    )


def test_security_show_says_when_it_is_off():
    app, _ = make_app(
        CROSS_ORIGIN_PROTECTION=False,
        SECURITY_EXCEPTIONS={"CROSS_ORIGIN_PROTECTION=false": "SEC-77"},
    )
    runner = app.test_cli_runner()
    text = runner.invoke(args=["security", "show"]).output
    assert (
        "Cross-origin requests: not refused (CROSS_ORIGIN_PROTECTION = False)" in text
    )
    assert "  CROSS_ORIGIN_PROTECTION=false: SEC-77" in text
    machine = json.loads(runner.invoke(args=["security", "show", "--json"]).output)
    assert machine["cross_origin"]["protection"] is False
    assert machine["settings"]["CROSS_ORIGIN_PROTECTION"] is False
