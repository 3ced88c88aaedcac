"""Cross-site request forgery refused from the request's own headers.

The template owns this module. Browsers say where a request comes from:
``Sec-Fetch-Site`` on every request since 2023, ``Origin`` on every POST. So
no token is needed to tell a form or ``fetch`` of this service's own pages
from one that another site makes a visitor's browser send, cookies and all.
The rule (Go's ``http.CrossOriginProtection``), before the view runs:

- GET, HEAD and OPTIONS pass: a view must not change state on them;
- an ``Origin`` in CSRF_TRUSTED_ORIGINS passes;
- ``Sec-Fetch-Site: same-origin`` or ``none`` passes, any other value is refused;
- without ``Sec-Fetch-Site`` (browsers before 2023), an ``Origin`` whose host
  and port are the request's passes, any other (``null`` too) is refused;
- with neither header (a server, ``curl``, a webhook) the request passes.

Behind the proxies TRUSTED_PROXY_HOPS trusts, the request's host and scheme
are those the client used (ProxyFix, X-Forwarded-Host and -Proto). A refusal
is a 403 with one line of text and every baseline header, and one log line,
counted and rate-bound as violation reports are (``aggregate``). The report
receiver, and a view under ``override(cross_origin_protection=False)``, are
past the rule. A safe method costs one set lookup; an unsafe one a few more.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from flask import Flask, Request, Response, request

from .aggregate import Tally
from .floor import Floor, PolicyError, read_exceptions, switched_on
from .reports import TALLIES, cut, log_rate, report_window, write_line

if TYPE_CHECKING:
    from werkzeug.local import LocalProxy

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SAME_ORIGIN_SITES = frozenset({"same-origin", "none"})  # none: typed, bookmarked
DEFAULT_PORTS = {"http": 80, "https": 443}
OFF = "CROSS_ORIGIN_PROTECTION=false"  # the exception that turns it off
RECEIVER_ENDPOINT = "security.csp_report"  # reports.register_receiver's
TRUSTED_ORIGIN = re.compile(
    r"(https?)://((?:[a-z0-9-]+\.)*[a-z0-9-]+)(?::([0-9]{1,5}))?\Z",
    re.IGNORECASE | re.ASCII,
)
ORIGIN_EXAMPLE = '["https://app.example.com", "https://admin.example.com:8443"]'
REFUSAL = "Forbidden: this request came from another origin.\n"
LINE_FIELDS = ("event", "method", "path", "origin", "sec_fetch_site")
KEY = "security.cross_origin"  # its CrossOrigin in app.extensions


def trusted_origins(config: Mapping[str, Any], floor: Floor) -> tuple[str, ...]:
    """CSRF_TRUSTED_ORIGINS as browsers write an Origin: lowercase, no default port."""
    setting = config.get("CSRF_TRUSTED_ORIGINS") or []
    if isinstance(setting, str) or not isinstance(setting, list | tuple):
        raise PolicyError(
            f"CSRF_TRUSTED_ORIGINS must be a list of origins, e.g. {ORIGIN_EXAMPLE}, "
            f"got {setting!r}"
        )
    origins = []
    for item in setting:
        found = TRUSTED_ORIGIN.match(item) if isinstance(item, str) else None
        if found is None or int(found[3] or 0) > 65535:
            raise PolicyError(
                f"CSRF_TRUSTED_ORIGINS holds {item!r}: give origins as "
                "https://host[:port], with no path (not even /) and no wildcard, "
                f"e.g. {ORIGIN_EXAMPLE}"
            )
        scheme, host, port = found.group(1).lower(), found.group(2).lower(), found[3]
        if scheme == "http":
            floor.allow(
                f"CSRF_TRUSTED_ORIGINS {item}",
                f"CSRF_TRUSTED_ORIGINS {item}",
                "a page over plain http can be rewritten by anyone on its network",
            )
        default = port is None or int(port) == DEFAULT_PORTS[scheme]
        origins.append(f"{scheme}://{host}" + ("" if default else f":{int(port)}"))
    return tuple(origins)


def protection_on(config: Mapping[str, Any], floor: Floor) -> bool:
    return switched_on(
        config,
        "CROSS_ORIGIN_PROTECTION",
        OFF,
        "any site could make a visitor's browser post to this service with "
        "their cookies; let one view take cross-site posts with "
        "override(cross_origin_protection=False), or trust an origin in "
        "CSRF_TRUSTED_ORIGINS",
        floor,
    )


def host_and_port(netloc: str, scheme: str) -> tuple[str, int | None] | None:
    """``host[:port]`` as (lowercased host, port), the scheme's port when none
    is written; None when the port is not a number."""
    host, colon, port = netloc.rpartition(":")
    if not colon or "]" in port:  # no port, or an IPv6 address without one
        return netloc.lower(), DEFAULT_PORTS.get(scheme)
    if not port.isdigit():
        return None
    return host.lower(), int(port)


def same_host(origin: str, current: Request) -> bool:
    """Is ``origin`` the host and port the client asked for? ``null`` is not."""
    scheme, separator, netloc = origin.partition("://")
    if not separator or scheme.lower() not in DEFAULT_PORTS or "/" in netloc:
        return False
    theirs = host_and_port(netloc, scheme.lower())
    return theirs is not None and theirs == host_and_port(current.host, current.scheme)


@dataclass
class CrossOrigin:
    """The rule as this app applies it: what ``security show`` reports."""

    on: bool
    trusted: tuple[str, ...]
    # endpoint -> past the rule (an override, or the report receiver); filled
    # for views registered later on their first refusal.
    past: dict[str | None, bool] = field(default_factory=dict)
    tally: Tally | None = None


def register(app: Flask, overridden: Callable[[str | None], bool]) -> dict[str, str]:
    """Check the settings; when on, refuse cross-origin requests before every view.

    ``overridden(endpoint)`` says whether a view's override takes it past the
    rule. The rule goes in ``app.extensions``; returns the exceptions its
    settings use.
    """
    floor = Floor(read_exceptions(app.config))
    rule = CrossOrigin(
        protection_on(app.config, floor), trusted_origins(app.config, floor)
    )
    app.extensions[KEY] = rule
    if not rule.on:
        return floor.used
    for endpoint in app.view_functions:
        rule.past[endpoint] = endpoint == RECEIVER_ENDPOINT or overridden(endpoint)
    rule.tally = tally = Tally(
        partial(write_line, app.logger.getChild("cross_origin")),
        window=report_window(app.config),
        rate=log_rate(app.config),
        kind="cross-origin-refusal",
        fields=LINE_FIELDS,
    )
    TALLIES.add(tally)  # written out as the process stops, as reports are
    trusted = frozenset(rule.trusted)
    past = rule.past

    def is_past(endpoint: str | None) -> bool:
        found = past.get(endpoint)
        if found is None:  # a view registered after init_app (as tests do)
            found = past[endpoint] = overridden(endpoint)
        return found

    @app.before_request
    def refuse_cross_origin_requests() -> Response | None:
        # The request proxy resolved once: this runs before every view.
        current = cast("LocalProxy[Request]", request)._get_current_object()
        environ = current.environ
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if method in SAFE_METHODS:
            return None
        origin = environ.get("HTTP_ORIGIN")
        if origin in trusted:
            return None
        site = environ.get("HTTP_SEC_FETCH_SITE")
        if site is not None:
            if site in SAME_ORIGIN_SITES:
                return None
        elif origin is None or same_host(origin, current):
            return None
        if is_past(current.endpoint):
            return None
        line = {
            "method": cut(method),
            "path": cut(current.path),
            "origin": cut(origin),
            "sec_fetch_site": cut(site),
        }
        tally.add_one(tuple(line.values()), line)
        return app.response_class(REFUSAL, 403, mimetype="text/plain")

    return floor.used
