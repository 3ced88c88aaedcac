"""The security baseline: every response header decision lives in this package.

The template owns it. ``policy`` turns the settings into header lists and
guards the floor; this module trusts the configured proxies, registers the one
``after_request`` hook, and offers ``override`` for the few views that need
something different. All lists are built once per app (an overridden view's
on its first request at the latest), so the hook only adds what a view has
not set itself. A header a view sets on its own response always wins.

An app mounted under a prefix (``SCRIPT_NAME``, e.g. /svc) sends its reports
to the receiver under that prefix: the lists for each prefix are built once,
on its first request, and kept.

``nonce`` gives pages ``csp_nonce()``: the hook sends the nonce variant of
the CSP to a page that called it, and the static one to every other;
``reports`` is the receiver that violation reports are sent to;
``cross_origin`` refuses, before the view, what another site's page sends.
"""

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar, cast
from weakref import WeakKeyDictionary

from flask import Flask, Request, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from . import cross_origin
from .csp import NONCE_SLOT
from .floor import PolicyError
from .nonce import NONCE_KEY, add_nonce_headers, csp_nonce
from .policy import (
    NO_STORE,
    REPORT_PATH,
    Extension,
    Policy,
    build,
    whole_number,
)
from .reports import register_receiver

if TYPE_CHECKING:
    from werkzeug.local import LocalProxy

__all__ = ["NO_STORE", "PolicyError", "csp_nonce", "init_app", "override"]

View = TypeVar("View", bound=Callable[..., Any])
OVERRIDES: "WeakKeyDictionary[Callable[..., Any], Extension]" = WeakKeyDictionary()


def override(
    *,
    csp_extend: Mapping[str, Sequence[str]] | None = None,
    permissions_allow: Mapping[str, Sequence[str]] | None = None,
    frame_ancestors: Sequence[str] | None = None,
    cross_origin_protection: bool = True,
) -> Callable[[View], View]:
    """Let one view differ: the settings' vocabulary, the same floor and exceptions.

    ``frame_ancestors`` names https origins that may frame this view; it then
    goes without X-Frame-Options, which cannot name an origin.
    ``cross_origin_protection=False`` lets this view take requests that other
    sites' pages send (a payment provider's or identity provider's POST back).
    """

    def decorate(view: View) -> View:
        OVERRIDES[view] = Extension(
            f"override of {view.__qualname__}",
            csp_extend=csp_extend or {},
            permissions_allow=permissions_allow or {},
            frame_ancestors=frame_ancestors,
            cross_origin_protection=cross_origin_protection,
        )
        return view

    return decorate


# Prefixes (SCRIPT_NAME) a policy keeps lists for: a service is mounted under
# one or two; past this many, the unprefixed lists, and one error in the log.
MAX_PREFIXES = 16
# (name, lowercased name, value): the hook never lowercases our names per request.
HeaderList = list[tuple[str, str, str]]


@dataclass
class Prepared:
    """One policy, ready for the hook: its headers over HTTPS and over HTTP,
    and the CSP headers of a page that used a nonce (NONCE_SLOT to replace)."""

    policy: Policy
    extension: Extension | None = None  # the override it was built for, if any
    https: HeaderList = field(init=False)
    http: HeaderList = field(init=False)
    nonce_https: HeaderList = field(init=False)
    nonce_http: HeaderList = field(init=False)
    # The same policy with its reports sent under a prefix, by prefix.
    under_prefix: "dict[str, Prepared]" = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        policy = self.policy
        nonce_variants = [
            (n, v.replace(NONCE_SLOT, "x"))
            for n, v in policy.nonce_https + policy.nonce_http
        ]
        # Werkzeug would refuse a bad value on every response; refuse it here, once.
        for name, value in policy.https + policy.http + nonce_variants:
            if not (value.isascii() and value.isprintable()):
                raise PolicyError(f"{name} would carry {value!r}: not printable ASCII")
        self.https = [(n, n.lower(), v) for n, v in policy.https]
        self.http = [(n, n.lower(), v) for n, v in policy.http]
        self.nonce_https = [(n, n.lower(), v) for n, v in policy.nonce_https]
        self.nonce_http = [(n, n.lower(), v) for n, v in policy.nonce_http]


@dataclass
class State:
    """What ``flask security show`` reports: kept in ``app.extensions["security"]``."""

    default: Prepared
    views: dict[str, Prepared]  # overridden endpoints only
    exceptions_used: dict[str, str]


def extension_of(app: Flask, endpoint: str | None) -> Extension | None:
    view = app.view_functions.get(endpoint) if endpoint else None
    if view is not None:  # under other decorators (functools.wraps) too
        view = inspect.unwrap(view, stop=lambda f: f in OVERRIDES)
    return OVERRIDES.get(view) if view is not None else None


def prepare_view(app: Flask, endpoint: str | None, default: Prepared) -> Prepared:
    extension = extension_of(app, endpoint)
    if extension is None:
        return default
    return Prepared(build(app.config, extension), extension)


def past_cross_origin(app: Flask, endpoint: str | None) -> bool:
    extension = extension_of(app, endpoint)
    return extension is not None and not extension.cross_origin_protection


def init_app(app: Flask) -> None:
    """Check the policy against the floor, then register the one header hook
    (and, before the views, the cross-origin check).

    Call it after the views are registered: their overrides are checked here,
    and an exception nothing uses is refused as stale. Registers the report
    receiver too when reports go to a path on this service, and csp_nonce
    for templates.
    """
    from .cli import security_cli

    app.cli.add_command(security_cli)
    hops = whole_number(app.config, "TRUSTED_PROXY_HOPS")
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )

    default = Prepared(build(app.config))
    reports_here = bool(REPORT_PATH.match(default.policy.report_uri))
    if reports_here:
        register_receiver(app, default.policy.report_uri)
    app.add_template_global(csp_nonce, "csp_nonce")
    by_endpoint: dict[str | None, Prepared] = {None: default}
    state = State(default, {}, dict(default.policy.exceptions_used))
    for endpoint in list(app.view_functions):
        prepared = by_endpoint[endpoint] = prepare_view(app, endpoint, default)
        if prepared is not default:
            state.views[endpoint] = prepared
            state.exceptions_used.update(prepared.policy.exceptions_used)
    state.exceptions_used.update(
        cross_origin.register(app, partial(past_cross_origin, app))
    )
    configured = app.config.get("SECURITY_EXCEPTIONS") or {}
    stale = sorted(set(configured) - set(state.exceptions_used))
    if stale:
        raise PolicyError(
            f"SECURITY_EXCEPTIONS {stale} are stale: no setting or view uses them; "
            "remove them"
        )
    for key, reason in state.exceptions_used.items():
        app.logger.warning("security exception in use: %s (%s)", key, reason)
    app.extensions["security"] = state

    def late_view(endpoint: str | None) -> Prepared:
        """A view registered after init_app (as tests do): built once, on first use."""
        try:
            prepared = prepare_view(app, endpoint, default)
        except PolicyError as error:
            # Fail closed: the baseline's stricter headers, and a line saying why.
            app.logger.error("security override of %s refused: %s", endpoint, error)
            prepared = default
        if endpoint and prepared is not default:
            state.views[endpoint] = prepared
        by_endpoint[endpoint] = prepared
        return prepared

    def under_root(prepared: Prepared, root: str) -> Prepared:
        """``prepared`` with its reports sent under ``root``, built once per
        policy (every view without an override shares the default's)."""
        if len(prepared.under_prefix) >= MAX_PREFIXES:
            if len(prepared.under_prefix) == MAX_PREFIXES:
                app.logger.error(
                    "reports under SCRIPT_NAME %r go to %s: lists are kept for "
                    "%d prefixes at most",
                    root,
                    prepared.policy.report_uri,
                    MAX_PREFIXES,
                )
                prepared.under_prefix[""] = prepared  # logged once
            return prepared
        config = {**app.config, "CSP_REPORT_URI": root + default.policy.report_uri}
        try:
            found = Prepared(build(config, prepared.extension), prepared.extension)
        except PolicyError as error:
            app.logger.error("reports under SCRIPT_NAME %r: %s", root, error)
            found = prepared
        prepared.under_prefix[root] = found
        return found

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        # The request proxy resolved once: this runs on every response.
        current = cast("LocalProxy[Request]", request)._get_current_object()
        endpoint = current.endpoint
        prepared = by_endpoint.get(endpoint) or late_view(endpoint)
        root = current.root_path  # SCRIPT_NAME: empty unless mounted under a prefix
        if root and reports_here:
            prepared = prepared.under_prefix.get(root) or under_root(prepared, root)
        secure = current.is_secure
        response_headers = response.headers
        present = {name.lower() for name, _ in response_headers}
        nonce = current.environ.get(NONCE_KEY)
        if nonce is not None:  # the page called csp_nonce()
            add_nonce_headers(
                response_headers,
                present,
                nonce,
                prepared.nonce_https if secure else prepared.nonce_http,
                endpoint,
            )
        for name, lowered, value in prepared.https if secure else prepared.http:
            if lowered not in present:
                response_headers.add(name, value)
        return response
