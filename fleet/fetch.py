"""Every service's live URL fetched at once, each within its own timeout.

Each fetch is the template's own: its ``security/fetch.py``, the module the
baked ``flask security check`` fetches with, loaded by path from this
checkout of the template (the fleet ships in the template's repository), so
the two ask alike and say the same of a URL that gives no answer: one GET,
no credentials, redirects followed on the same origin only, the certificate
verified against the system's CAs and the fleet file's ``ca_bundle``, never
skipped. What is the fleet's alone: the fetches run at once, and a watchdog
closes the socket of a fetch that passes its timeout, so a server that
answers a byte at a time holds nothing past it either.
"""

import http.client
import importlib.util
import socket
import ssl
import sys
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

USER_AGENT = "fleet-live-view"
FETCHES_AT_ONCE = 32  # waiting on the network, not the CPU
WATCHDOG_SECONDS = 0.05
TEMPLATE_FETCH = (
    Path(__file__).resolve().parent.parent
    / "{{cookiecutter.project_slug}}/src/{{cookiecutter.package_name}}/security/fetch.py"
)


def load_template_fetch(path: Path = TEMPLATE_FETCH) -> ModuleType:
    """The template's security/fetch.py, imported from its file (no Jinja in it,
    nothing relative: tests/test_fleet_live_parts.py holds it to that)."""
    name = "fleet._template_fetch"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


shared = load_template_fetch()


@dataclass
class Fetched:
    url: str  # where the headers came from, after redirects on the same origin
    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None  # why there is no answer: the URL is unreachable

    @property
    def https(self) -> bool:
        return urlsplit(self.url).scheme == "https"


class Watchdog:
    """Closes the connections that pass their deadline, from its own thread."""

    def __init__(self) -> None:
        self.deadlines: dict[http.client.HTTPConnection, float] = {}
        self.cut: set[http.client.HTTPConnection] = set()
        self.cut_off: list[tuple[str, int | None]] = []  # (host, port) of each cut
        self.recorded: set[http.client.HTTPConnection] = set()
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
                sock = connection.sock  # None, or detached, in a TLS handshake
                if sock is None:
                    continue  # the socket's own timeout, just past, ends that
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:  # closed meanwhile
                    continue
                with self.lock:
                    if connection not in self.recorded:
                        self.recorded.add(connection)
                        self.cut_off.append((connection.host, connection.port))

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(1)


def fetch(
    url: str, context: ssl.SSLContext, timeout: float, watchdog: Watchdog
) -> Fetched:
    """The first answer that is not a redirect on the same origin."""
    try:
        answer = shared.get(url, context, timeout, USER_AGENT, watchdog)
    except shared.Unreachable as error:
        return Fetched(url, error=str(error))
    return Fetched(answer.url, answer.status, answer.headers)


class Fetches:
    """The URLs' fetches, started at once; ``result`` waits for one."""

    def __init__(
        self, urls: Iterable[str], ca_bundle: str | None, timeout: float
    ) -> None:
        urls = list(dict.fromkeys(urls))
        self.futures: dict[str, Future[Fetched]] = {}
        if not urls:
            return
        context = shared.tls_context(ca_bundle)
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
