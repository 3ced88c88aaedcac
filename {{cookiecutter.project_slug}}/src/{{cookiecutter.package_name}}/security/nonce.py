"""CSP nonces: inline scripts and styles that run by nonce, not by 'unsafe-inline'.

A page asks with ``csp_nonce()`` (a Jinja global; Python views import it).
The first call in a request makes the nonce and arranges, with
``after_this_request``, for that one response's CSP to carry it. A response
whose page never asked does not reach this module at all: the hook sends the
static headers built at start-up, so nonces cost it nothing.
"""

import secrets
from typing import TYPE_CHECKING

from flask import (
    Response,
    after_this_request,
    current_app,
    g,
    has_request_context,
    request,
)

from .policy import NONCE_SLOT

if TYPE_CHECKING:
    from . import State

NONCE_BYTES = 16  # 128 bits from the OS's CSPRNG, as 22 base64url characters
NONCE_ATTRIBUTE = "_security_csp_nonce"  # on flask.g: one nonce per request
# Cache-Control directives that keep a response out of shared caches.
NOT_SHARED = frozenset({"no-store", "private"})


def csp_nonce() -> str:
    """This request's nonce, made on first use: ``<script nonce="...">`` in a page.

    Render the page with render_template, not stream_template: a streamed
    page is rendered after its headers have gone, too late for the nonce.
    """
    nonce: str | None = g.get(NONCE_ATTRIBUTE)
    if nonce is None:
        if not has_request_context():
            raise RuntimeError(
                "csp_nonce() needs a request: only a response's own page can use its nonce"
            )
        nonce = secrets.token_urlsafe(NONCE_BYTES)
        setattr(g, NONCE_ATTRIBUTE, nonce)
        made = nonce

        @after_this_request
        def add_the_nonce(response: Response) -> Response:
            return add_nonce(response, made)

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


def add_nonce(response: Response, nonce: str) -> Response:
    """Send this response's CSP with its nonce; runs before the header hook.

    A view's own CSP header still wins. A response that shared caches may
    store gets no nonce: every visitor would get the same one, which is as
    good as none. Its nonce'd code is then blocked, and the log says why.
    """
    cache_control = response.headers.get("Cache-Control")
    if shared_caches_may_store(cache_control):
        current_app.logger.error(
            "csp_nonce() refused on %s: the response is publicly cacheable "
            "(Cache-Control: %s), so every visitor would share its nonce; its "
            "inline scripts and styles are blocked. Send it with no-store or private.",
            request.endpoint,
            cache_control,
        )
        return response
    state: State = current_app.extensions["security"]
    prepared = state.prepared_for(request.endpoint)
    headers = response.headers
    present = {name.lower() for name, _ in headers}
    for name, lowered, template in (
        prepared.nonce_https if request.is_secure else prepared.nonce_http
    ):
        if lowered not in present:
            headers.add(name, template.replace(NONCE_SLOT, nonce))
    return response
