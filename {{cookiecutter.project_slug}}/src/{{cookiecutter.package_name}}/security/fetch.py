"""One GET of a deployment's URL, as a browser without cookies asks for a page:
what ``flask security check`` and the platform team's fleet report both fetch,
so that the two say the same of the same deployment.

The template owns this module. It imports the standard library alone and
nothing relative, and holds no template text: the fleet loads this very file
by its path from its own checkout of the template.

- Only http:// and https:// URLs with a host.
- Certificates verified against the system's CA store and, besides it, an
  extra bundle of CAs (a private CA); hostnames always checked, never skipped.
- Redirects followed on the same origin only (scheme, host and port), at most
  ``MAX_REDIRECTS``: another origin's headers, another port's included, are
  not this page's, and https never goes down to http. The one step between
  origins followed is http://host/path up to https://host/path (default
  ports, the same path), the first answer of every site that is HTTPS only.
- A 5xx answer is no answer of the service (a proxy whose upstream is down
  answers 502 with none of its headers); any other answer that is neither a
  page nor a redirect (404, 401) is named besides the headers.
"""

import http.client
import socket
import ssl
import time
from typing import NamedTuple, Protocol
from urllib.parse import SplitResult, urljoin, urlsplit

ACCEPT = "text/html,*/*;q=0.8"  # as a browser asks for a page
MAX_REDIRECTS = 5
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# With a watchdog, the socket's own timeout is a backstop just past the
# deadline: the watchdog is what cuts a fetch off, a silent server's and a
# trickling one's (the backstop, a TLS handshake's, which it cannot reach).
WATCHED_BACKSTOP_SECONDS = 0.25


class Unreachable(Exception):
    """No answer of the service at the URL; the message is one line for people."""


class Answer(NamedTuple):
    url: str  # where the headers came from, after redirects on the same origin
    status: int
    headers: list[tuple[str, str]]  # every header as sent, repeats kept


class Watchdog(Protocol):
    """Closes a connection that passes its deadline, from its own thread."""

    def add(self, connection: http.client.HTTPConnection, deadline: float) -> None:
        """Watch ``connection`` until ``deadline`` (time.monotonic())."""

    def remove(self, connection: http.client.HTTPConnection) -> bool:
        """Stop watching it; whether it was cut off at its deadline."""


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be asked, or None."""
    try:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "not an http:// or https:// URL"
        parts.port  # noqa: B018 - raises on a port that is not one
    except ValueError as error:
        return f"bad URL: {error}"
    return None


def origin(parts: SplitResult) -> tuple[str, str, int]:
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def request_target(parts: SplitResult) -> str:
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def tls_context(cafile: str | None = None) -> ssl.SSLContext:
    """The system's CA store, and ``cafile``'s CAs besides; hostnames checked.

    Raises OSError (ssl.SSLError among them) when ``cafile`` is not PEM CAs.
    """
    context = ssl.create_default_context()
    if cafile:
        context.load_verify_locations(cafile=cafile)
    return context


def redirected(url: str, location: str) -> str:
    """Where a redirect from ``url`` leads, if it stays on the same origin."""
    target = urljoin(url, location)
    if url_problem(target) is not None:
        raise Unreachable(f"redirected to {target!r}, not an http(s) URL")
    before, after = urlsplit(url), urlsplit(target)
    if before.scheme == "https" and after.scheme != "https":
        raise Unreachable(f"redirected from https to {target}")
    if origin(after) != origin(before) and not upgraded(before, after):
        if upgraded(before, after._replace(path=before.path, query=before.query)):
            raise Unreachable(
                f"redirected up to https at another path ({target}): give that URL"
            )
        raise Unreachable(
            f"redirected to another origin ({target}): give the URL of a page it serves"
        )
    return target


def upgraded(before: SplitResult, after: SplitResult) -> bool:
    """http://host/path to https://host/path, each on its scheme's default port."""
    return (
        (before.scheme, after.scheme) == ("http", "https")
        and before.hostname == after.hostname
        and before.port in (None, 80)
        and after.port in (None, 443)
        and request_target(before) == request_target(after)
    )


def get(
    url: str,
    context: ssl.SSLContext | None = None,
    timeout: float = 10.0,
    user_agent: str = "security-check",
    watchdog: Watchdog | None = None,
) -> Answer:
    """The first answer that is not a redirect on the same origin, all within
    ``timeout``; raises Unreachable, with a one-line reason, when there is none.
    An https URL without ``context`` is verified against the system's CA store."""
    problem = url_problem(url)
    if problem is not None:
        raise Unreachable(problem)
    deadline = time.monotonic() + timeout
    for _ in range(MAX_REDIRECTS + 1):
        status, headers = ask(url, context, deadline, timeout, user_agent, watchdog)
        location = next((v for k, v in headers if k.lower() == "location"), None)
        if status not in REDIRECTS or not location:
            return Answer(url, status, headers)
        url = redirected(url, location)
    raise Unreachable(f"more than {MAX_REDIRECTS} redirects")


def ask(
    url: str,
    context: ssl.SSLContext | None,
    deadline: float,
    timeout: float,
    user_agent: str,
    watchdog: Watchdog | None,
) -> tuple[int, list[tuple[str, str]]]:
    parts = urlsplit(url)
    host = parts.hostname or ""  # url_problem made sure there is one
    remaining = max(deadline - time.monotonic(), 0.001)
    if watchdog is not None:
        remaining += WATCHED_BACKSTOP_SECONDS
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            host, parts.port, timeout=remaining, context=context or tls_context()
        )
    else:
        connection = http.client.HTTPConnection(host, parts.port, timeout=remaining)
    if watchdog is not None:
        watchdog.add(connection, deadline)
    answer: tuple[int, list[tuple[str, str]]] | None = None
    failure = None
    try:
        connection.request(
            "GET",
            request_target(parts),
            headers={"User-Agent": user_agent, "Accept": ACCEPT},
        )
        response = connection.getresponse()
        answer = response.status, response.getheaders()
    except (OSError, ValueError, http.client.HTTPException) as error:
        failure = reason(error, host, timeout)
    finally:
        cut = watchdog is not None and watchdog.remove(connection)
        connection.close()
    if cut or time.monotonic() >= deadline:
        raise Unreachable(f"no answer within {timeout:g} s")
    if failure is not None or answer is None:
        raise Unreachable(failure or "no answer")
    return answer


def reason(error: Exception, host: str, timeout: float) -> str:
    """Why there was no answer, in words (http.client errors are not OSErrors)."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS certificate not accepted: {error.verify_message}"
    if isinstance(error, ssl.SSLError):
        return f"TLS failed: {error.reason or error}"
    if isinstance(error, socket.gaierror):
        return f"cannot resolve {host}: {error.strerror}"
    if isinstance(error, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, OSError):
        return error.strerror or str(error) or type(error).__name__
    if isinstance(error, http.client.HTTPException):
        return f"not an HTTP answer ({type(error).__name__}: {error})"
    return f"bad URL: {error}"


def failed(status: int) -> str | None:
    """A 5xx: the deployment did not answer as the service; why, in words."""
    return f"answered {status}" if status >= 500 else None


def not_a_page(status: int) -> str | None:
    """Any other status that is neither a page nor a redirect, in words: a
    finding besides what the headers say."""
    return f"answered {status}" if status < 200 or 400 <= status < 500 else None
