"""The live view's fetches on their own: bounded by their timeout by the
watchdog, kept on the same origin, made with the template's own
security/fetch.py, which the fleet loads by path.

The whole, over real deployments: tests/test_fleet_live.py.
"""

import ast
import contextlib
import http.server
import socket
import sys
import threading
import time

from fleet.fetch import TEMPLATE_FETCH, Fetches
from testkit.deployments import silent_socket


def test_a_server_that_trickles_is_cut_off_at_its_timeout():
    """The timeout holds for the whole answer, not for each byte of it."""
    sent = []
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        url = f"http://127.0.0.1:{listening.getsockname()[1]}/"

        def trickle():
            connection, _ = listening.accept()
            with connection, contextlib.suppress(OSError):
                connection.sendall(b"HTTP/1.1 200 OK\r\n")
                for _ in range(100):  # 10 s at most
                    connection.sendall(b"X-Slow: a\r\n")
                    sent.append(1)
                    time.sleep(0.1)

        thread = threading.Thread(target=trickle, daemon=True)
        thread.start()
        fetches = Fetches([url], None, timeout=0.5)
        try:
            fetched = fetches.result(url)
        finally:
            fetches.close()
        thread.join(15)
    assert fetched.error == "no answer within 0.5 s"
    assert fetches.watchdog.cut_off == [("127.0.0.1", int(url.split(":")[2][:-1]))]
    assert len(sent) < 50  # cut off long before the server was done


def test_a_server_that_never_answers_is_cut_off_by_the_watchdog():
    """Not by the socket's own timeout, a backstop past the deadline: the
    watchdog's record names the fetch it cut (the connection is accepted in
    the kernel; the request is sent and no byte comes back)."""
    with silent_socket() as silent:
        url = silent.replace("https://", "http://")
        fetches = Fetches([url], None, timeout=0.3)
        try:
            fetched = fetches.result(url)
        finally:
            fetches.close()
    assert fetched.error == "no answer within 0.3 s"
    assert fetches.watchdog.cut_off == [("127.0.0.1", int(url.split(":")[2][:-1]))]


def test_the_template_fetch_loads_as_a_plain_file():
    """The fleet loads security/fetch.py by path, the baked package by its
    name: it must hold no template text and import the standard library alone."""
    source = TEMPLATE_FETCH.read_text()
    assert [mark for mark in ("{{", "{%", "{#") if mark in source] == []
    imports = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    assert imports
    assert all(getattr(node, "level", 0) == 0 for node in imports)
    modules = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name)
        for node in imports
        for alias in node.names
    }
    assert {m.split(".")[0] for m in modules} <= sys.stdlib_module_names


class Redirecting(http.server.BaseHTTPRequestHandler):
    """/old moves to /new on the same origin, /away to another host name,
    /port to another port of the same host."""

    def do_GET(self):
        port = self.server.server_address[1]
        location = {
            "/old": "/new",
            "/away": f"http://localhost:{port}/new",
            "/port": f"http://127.0.0.1:{self.server.other_port}/new",
        }
        self.send_response(302 if self.path in location else 200)
        if self.path in location:
            self.send_header("Location", location[self.path])
        self.send_header("X-Page", self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_redirects_are_followed_on_the_same_origin_only():
    """Same scheme, host and port: another port of the same host is another
    server, whose headers are not this page's."""
    servers = [
        http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirecting) for _ in range(2)
    ]
    servers[0].other_port = servers[1].server_address[1]
    threads = [
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.01})
        for s in servers
    ]
    for thread in threads:
        thread.start()
    base = f"http://127.0.0.1:{servers[0].server_address[1]}"
    urls = [f"{base}/old", f"{base}/away", f"{base}/port"]
    fetches = Fetches(urls, None, timeout=5)
    try:
        moved, away, port = map(fetches.result, urls)
    finally:
        fetches.close()
        for server, thread in zip(servers, threads, strict=True):
            server.shutdown()
            server.server_close()
            thread.join(5)
    assert (moved.url, moved.status, moved.error) == (f"{base}/new", 200, None)
    assert ("X-Page", "/new") in moved.headers
    assert away.error == (
        f"redirected to another origin (http://localhost:{servers[0].server_address[1]}/new): "
        "give the URL of a page it serves"
    )
    assert port.error == (
        f"redirected to another origin (http://127.0.0.1:{servers[0].other_port}/new): "
        "give the URL of a page it serves"
    )
