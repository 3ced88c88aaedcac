"""CSP nonces: inline scripts and styles that run by nonce, not by 'unsafe-inline'.

A page asks with ``csp_nonce()`` (a Jinja global; Python views import it).
The first call in a request makes the nonce and keeps it in that request's
WSGI environ; the header hook sees it there and sends the nonce variant of
the CSP, prepared at start-up, with the nonce put in. A response whose page
never asked costs the hook one dictionary lookup.

Why the environ and not ``flask.g``: ``g`` belongs to the app context, which
one context pushed around several requests (a test, a CLI command) shares; a
nonce must never be shared between responses, and the environ is never.
"""

import secrets
from collections.abc import Iterable

from flask import current_app, has_request_context, request
from werkzeug.datastructures import Headers

from .csp import NONCE_SLOT

NONCE_BYTES = 16  # 128 bits from the OS's CSPRNG, as 22 base64url characters
NONCE_KEY = "security.csp_nonce"  # in the request's WSGI environ
# Cache-Control directives that keep a response out of shared caches.
NOT_SHARED = frozenset({"no-store", "private"})


def csp_nonce() -> str:
    """This request's nonce, made on first use: ``<script nonce="...">`` in a page.

    Render the page with render_template, not stream_template: a streamed
    page is rendered after its headers have gone, too late for the nonce.
    """
    if not has_request_context():
        raise RuntimeError(
            "csp_nonce() needs a request: only a response's own page can use its nonce"
        )
    environ = request.environ
    nonce: str | None = environ.get(NONCE_KEY)
    if nonce is None:
        nonce = environ[NONCE_KEY] = secrets.token_urlsafe(NONCE_BYTES)
    return nonce


def shared_caches_may_store(cache_control: str | None) -> bool:
    """Whether a shared cache may keep this response and hand it to other visitors.

    No Cache-Control is safe here: the hook then sends no-store.
    """
    if cache_control is None:
        return False
    directives = {
        part.split("=", 1)[0].strip().lower() for part in cache_control.split(",")
    }
    return not directives & NOT_SHARED


def add_nonce_headers(
    headers: Headers,
    present: set[str],
    nonce: str,
    templates: Iterable[tuple[str, str, str]],
    endpoint: str | None,
) -> None:
    """Add the CSP headers of a page that used ``nonce``; the hook adds the rest.

    ``templates`` are (name, lowered name, value with NONCE_SLOT); ``present``
    the lowered names the response has, updated here. A view's own CSP header
    still wins. A response that shared caches may store gets no nonce: every
    visitor would get the same one, which is as good as none. Its nonce'd
    code is then blocked, and the log says why.
    """
    if "cache-control" in present:
        cache_control = headers.get("Cache-Control")
        if shared_caches_may_store(cache_control):
            current_app.logger.error(
                "csp_nonce() refused on %s: the response is publicly cacheable "
                "(Cache-Control: %s), so every visitor would share its nonce; its "
                "inline scripts and styles are blocked. Send it with no-store or private.",
                endpoint,
                cache_control,
            )
            return
    for name, lowered, template in templates:
        if lowered not in present:
            headers.add(name, template.replace(NONCE_SLOT, nonce))
            present.add(lowered)
