"""The contenders, each serving the baked service's own routes.

Imported by benchmarks/bench.py in-process and by gunicorn as
``testkit.contenders:make("name")``; the baked package named by BENCH_PACKAGE
is found on the bake's path (testkit.bake.bake_pythonpath).
"""

import importlib
import os

from flask import Flask

PACKAGE = os.environ.get("BENCH_PACKAGE", "example_service")
SECRET = {"SECRET_KEY": "benchmark-only"}
# What bare Flask's pages get from csp_nonce(): a page that asks for a nonce
# renders everywhere, and only a contender that sends a policy pays for one.
BARE_NONCE = "bare-flask-sends-no-policy"


def service_module(name: str = ""):
    return importlib.import_module(f"{PACKAGE}.{name}" if name else PACKAGE)


def bare() -> Flask:
    """The limit: the same routes, templates and settings, no security headers."""
    app = Flask(PACKAGE)
    app.config.from_object(service_module("config"))
    app.config.update(SECRET)
    app.register_blueprint(service_module("routes").bp)
    app.add_template_global(lambda: BARE_NONCE, "csp_nonce")
    return app


def service() -> Flask:
    return service_module().create_app(SECRET)


def service_without_hook() -> Flask:
    app = service()
    app.after_request_funcs[None].clear()  # the security hook is the only one
    return app


def service_without_cross_origin_check() -> Flask:
    app = service()
    app.before_request_funcs[None].clear()  # the cross-origin check is the only one
    return app


def policy() -> dict[str, str]:
    """The service's own header values: every contender sends this policy."""
    return dict(service().extensions["security"].default.policy.https)


def baseline_for_https() -> tuple[list[tuple[str, str]], str]:
    """The service's headers but Cache-Control, and its Cache-Control default."""
    values = policy()
    no_store = values.pop("Cache-Control")
    return list(values.items()), no_store


def werkzeug_floor() -> Flask:
    """The cheapest Werkzeug emission of the same headers: one extend, plus one
    setdefault for the only header these views set themselves. Correct only
    because it knows that; the service's hook checks every header."""
    app = bare()
    headers, no_store = baseline_for_https()

    @app.after_request
    def add(response):
        response.headers.extend(headers)
        response.headers.setdefault("Cache-Control", no_store)
        return response

    return app


def wsgi_floor() -> Flask:
    """Below Werkzeug: raw tuples appended in start_response, no validation."""
    app = bare()
    headers, no_store = baseline_for_https()
    headers_with_cache = [*headers, ("Cache-Control", no_store)]
    inner = app.wsgi_app

    def middleware(environ, start_response):
        def start(status, response_headers, exc_info=None):
            cached = any(k.lower() == "cache-control" for k, _ in response_headers)
            return start_response(
                status,
                response_headers + (headers if cached else headers_with_cache),
                exc_info,
            )

        return inner(environ, start)

    app.wsgi_app = middleware
    return app


def talisman(nonce_in: list[str] | None = None) -> Flask:
    """flask-talisman sending the service's policy; with ``nonce_in``, a nonce
    in those directives (talisman makes one for every request)."""
    from flask_talisman import Talisman

    values = policy()
    app = bare()
    app.jinja_env.globals.pop("csp_nonce")  # talisman's own takes its place
    Talisman(
        app,
        force_https=False,
        frame_options=values["X-Frame-Options"],
        strict_transport_security=True,
        strict_transport_security_max_age=31536000,
        strict_transport_security_include_subdomains=True,
        # A dict, as talisman's docs show; a string would be re-parsed per request.
        content_security_policy={
            directive: sources
            for directive, _, sources in (
                part.partition(" ")
                for part in values["Content-Security-Policy"].split("; ")
            )
        },
        referrer_policy=values["Referrer-Policy"],
        permissions_policy=values["Permissions-Policy"],
        content_security_policy_nonce_in=nonce_in,
        session_cookie_secure=True,
        x_content_type_options=True,
    )
    return app


def talisman_with_nonces() -> Flask:
    """The same, with talisman's nonce in script-src and style-src, as the service's."""
    return talisman(nonce_in=["script-src", "style-src"])


def secure_py() -> Flask:
    import secure

    values = policy()
    app = bare()
    headers = secure.Secure(
        cache=secure.CacheControl().set(values["Cache-Control"]),
        coep=secure.CrossOriginEmbedderPolicy().set(
            values["Cross-Origin-Embedder-Policy"]
        ),
        coop=secure.CrossOriginOpenerPolicy().set(values["Cross-Origin-Opener-Policy"]),
        corp=secure.CrossOriginResourcePolicy().set(
            values["Cross-Origin-Resource-Policy"]
        ),
        csp=secure.ContentSecurityPolicy().set(values["Content-Security-Policy"]),
        hsts=secure.StrictTransportSecurity().value(
            values["Strict-Transport-Security"]
        ),
        permissions=secure.PermissionsPolicy().set(values["Permissions-Policy"]),
        referrer=secure.ReferrerPolicy().set(values["Referrer-Policy"]),
        xpcdp=secure.XPermittedCrossDomainPolicies().set(
            values["X-Permitted-Cross-Domain-Policies"]
        ),
        xcto=secure.XContentTypeOptions().set(values["X-Content-Type-Options"]),
        xdfc=secure.XDnsPrefetchControl().set(values["X-DNS-Prefetch-Control"]),
        xfo=secure.XFrameOptions().set(values["X-Frame-Options"]),
        custom=[
            secure.CustomHeader("Reporting-Endpoints", values["Reporting-Endpoints"])
        ],
    )

    @app.after_request
    def add(response):
        headers.set_headers(response)
        return response

    return app


FACTORIES = {
    "bare Flask (no headers)": bare,
    "baked service": service,
    "baked service, hook removed": service_without_hook,
    "baked service, cross-origin check removed": service_without_cross_origin_check,
    "flask-talisman 1.1.0": talisman,
    "flask-talisman 1.1.0, nonces": talisman_with_nonces,
    "secure.py 2.0.1": secure_py,
    "floor: one Headers.extend": werkzeug_floor,
    "floor: raw WSGI tuples": wsgi_floor,
}
KEYS = {  # short names for gunicorn's testkit.contenders:make("...")
    "bare": "bare Flask (no headers)",
    "service": "baked service",
    "talisman": "flask-talisman 1.1.0",
    "secure": "secure.py 2.0.1",
}


def make(key: str) -> Flask:
    return FACTORIES[KEYS[key]]()
