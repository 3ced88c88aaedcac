"""The security baseline: every response header decision lives here.

The template owns this module. Policy comes from config (see config.py); the
header list is built and checked once per app, so the per-request hook only
adds what a view has not set itself. A view that needs a different value for
one header sets that header on its own response, and it wins.
"""

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request
from werkzeug.datastructures import Headers
from werkzeug.middleware.proxy_fix import ProxyFix

NO_STORE = "no-store, max-age=0"

FRAME_ANCESTORS = {"SAMEORIGIN": "'self'", "DENY": "'none'"}

PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), payment=(), usb=()"
)

HSTS_HEADER = "Strict-Transport-Security"


def whole_number(config: Mapping[str, Any], key: str) -> int:
    """A setting that must be an int >= 0 (FLASK_* variables arrive as JSON)."""
    value = config[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{key} must be a whole number >= 0, got {value!r}")
    return value


def content_security_policy(frame_policy: str) -> str:
    """A same-origin-only policy; the frame-ancestors part mirrors X-Frame-Options."""
    return (
        "default-src 'self'; object-src 'none'; base-uri 'self'; "
        f"form-action 'self'; frame-ancestors {FRAME_ANCESTORS[frame_policy]}"
    )


def hsts_value(max_age: int, include_subdomains: bool, preload: bool) -> str:
    value = f"max-age={max_age}"
    if include_subdomains:
        value += "; includeSubDomains"
    if preload:
        value += "; preload"
    return value


def baseline_headers(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The headers every response gets, in the order they are sent.

    Strict-Transport-Security is last and only present when HSTS is on; the
    hook sends it on secure requests only (RFC 6797 section 7.2).
    """
    frame_policy = config["FRAME_POLICY"]
    if frame_policy not in FRAME_ANCESTORS:
        raise ValueError(
            f"FRAME_POLICY must be one of {sorted(FRAME_ANCESTORS)}, got {frame_policy!r}"
        )
    headers = [
        ("X-Frame-Options", frame_policy),
        ("Content-Security-Policy", content_security_policy(frame_policy)),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Permissions-Policy", PERMISSIONS_POLICY),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Cross-Origin-Resource-Policy", "same-origin"),
        ("X-Permitted-Cross-Domain-Policies", "none"),
        ("Cache-Control", NO_STORE),
    ]
    if config["HSTS"]:
        max_age = whole_number(config, "HSTS_MAX_AGE")
        headers.append(
            (
                HSTS_HEADER,
                hsts_value(
                    max_age, config["HSTS_INCLUDE_SUBDOMAINS"], config["HSTS_PRELOAD"]
                ),
            )
        )
    Headers(headers)  # fail at start-up, not per request, on a bad value
    return headers


def init_app(app: Flask) -> None:
    """Trust the configured proxies, then register the one header hook."""
    from .cli import security_cli

    app.cli.add_command(security_cli)
    hops = whole_number(app.config, "TRUSTED_PROXY_HOPS")
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    headers = baseline_headers(app.config)
    # (name, lowercased name, value), so the hook never lowercases our names.
    over_https = [(name, name.lower(), value) for name, value in headers]
    over_http = [entry for entry in over_https if entry[0] != HSTS_HEADER]

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        response_headers = response.headers
        present = {name.lower() for name, _ in response_headers}
        for name, lowered, value in over_https if request.is_secure else over_http:
            if lowered not in present:
                response_headers.add(name, value)
        return response
