"""Every service's live URL fetched at once, each within its own timeout.

One GET per URL, as a browser without cookies would ask: no credentials,
redirects followed on the same host only (never from https to http), the
certificate verified against the system's CAs and the fleet file's
``ca_bundle``, never skipped. A watchdog closes the socket of a fetch that
passes its timeout, so a server that answers a byte at a time holds nothing
past it either.
"""

import contextlib
import http.client
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urljoin, urlsplit

USER_AGENT = "fleet-live-view"
FETCHES_AT_ONCE = 32  # waiting on the network, not the CPU
MAX_REDIRECTS = 5
REDIRECTS = {301, 302, 303, 307, 308}
WATCHDOG_SECONDS = 0.05


class FetchError(Exception):
    """A fetch that got no HTTP answer; the message is one line for people."""


@dataclass
class Fetched:
    url: str  # where the headers came from, after redirects on the same host
    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None  # why there is no answer: the URL is unreachable

    @property
    def https(self) -> bool:
        return urlsplit(self.url).scheme == "https"


def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """The system's CAs, and the bundle's besides; hostnames always checked."""
    context = ssl.create_default_context()
    if ca_bundle:
        context.load_verify_locations(cafile=ca_bundle)
    return context


class Watchdog:
    """Closes the connections that pass their deadline, from its own thread."""

    def __init__(self) -> None:
        self.deadlines: dict[http.client.HTTPConnection, float] = {}
        self.cut: set[http.client.HTTPConnection] = set()
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)
        self.thread.start()

    def add(self, connection: http.client.HTTPConnection, deadline: float) -> None:
        with self.lock:
            self.deadlines[connection] = deadline

    def remove(self, connection: http.client.HTTPConnection) -> bool:
        """Stop watching ``connection``; whether it was cut off at its deadline
        (what it read then is a truncated answer, not an answer)."""
        with self.lock:
            self.deadlines.pop(connection, None)
            if connection in self.cut:
                self.cut.discard(connection)
                return True
            return False

    def watch(self) -> None:
        while not self.stopped.wait(WATCHDOG_SECONDS):
            now = time.monotonic()
            with self.lock:
                overdue = [c for c, d in self.deadlines.items() if d <= now]
                self.cut.update(overdue)
            for connection in overdue:
                sock = connection.sock
                if sock is not None:
                    with contextlib.suppress(OSError):  # closed meanwhile
                        sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(1)


def request_target(parts: SplitResult) -> str:
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def fetch(
    url: str, context: ssl.SSLContext, timeout: float, watchdog: Watchdog
) -> Fetched:
    """The first answer that is not a redirect on the same host."""
    deadline = time.monotonic() + timeout
    try:
        for _ in range(MAX_REDIRECTS + 1):
            status, headers = ask(url, context, deadline, timeout, watchdog)
            location = dict((k.lower(), v) for k, v in headers).get("location")
            if status not in REDIRECTS or not location:
                return Fetched(url, status, headers)
            url = same_host(url, urljoin(url, location))
        raise FetchError(f"more than {MAX_REDIRECTS} redirects")
    except FetchError as error:
        return Fetched(url, error=str(error))


def same_host(origin: str, target: str) -> str:
    before, after = urlsplit(origin), urlsplit(target)
    if after.scheme not in ("http", "https") or after.hostname != before.hostname:
        raise FetchError(
            f"redirected to another host ({target}): give the URL of a page it serves"
        )
    if before.scheme == "https" and after.scheme != "https":
        raise FetchError(f"redirected from https to {target}")
    return target


def ask(
    url: str,
    context: ssl.SSLContext,
    deadline: float,
    timeout: float,
    watchdog: Watchdog,
) -> tuple[int, list[tuple[str, str]]]:
    parts = urlsplit(url)
    remaining = max(deadline - time.monotonic(), 0.001)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=remaining, context=context
        )
    else:
        connection = http.client.HTTPConnection(
            parts.hostname, parts.port, timeout=remaining
        )
    watchdog.add(connection, deadline)
    failure = None
    try:
        connection.request(
            "GET",
            request_target(parts),
            headers={"User-Agent": USER_AGENT, "Accept": "text/html,*/*;q=0.8"},
        )
        response = connection.getresponse()
        answer = response.status, response.getheaders()
    except (OSError, ValueError, http.client.HTTPException) as error:
        failure = reason(error, parts.hostname or "", timeout)
    finally:
        cut = watchdog.remove(connection)
        connection.close()
    if cut or time.monotonic() >= deadline:
        raise FetchError(f"no answer within {timeout:g} s")
    if failure is not None:
        raise FetchError(failure)
    return answer


def reason(error: Exception, host: str, timeout: float) -> str:
    """Why there was no answer, in the words of the template's ``security check``
    (tests/test_fleet_live.py holds the two to the same words)."""
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


class Fetches:
    """The URLs' fetches, started at once; ``result`` waits for one."""

    def __init__(
        self, urls: Iterable[str], ca_bundle: str | None, timeout: float
    ) -> None:
        urls = list(dict.fromkeys(urls))
        self.futures: dict[str, Future[Fetched]] = {}
        if not urls:
            return
        context = tls_context(ca_bundle)
        self.watchdog = Watchdog()
        self.pool = ThreadPoolExecutor(min(FETCHES_AT_ONCE, len(urls)))
        for url in urls:
            self.futures[url] = self.pool.submit(
                fetch, url, context, timeout, self.watchdog
            )

    def result(self, url: str) -> Fetched:
        return self.futures[url].result()

    def close(self) -> None:
        if self.futures:
            self.pool.shutdown(wait=True)
            self.watchdog.stop()
