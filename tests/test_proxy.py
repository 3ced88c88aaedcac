"""The baked service behind the nginx it ships (deploy/nginx.conf), for real.

Debian's nginx terminates TLS with certificates made here (trustme), in front
of gunicorn replicas of a bake with FLASK_TRUSTED_PROXY_HOPS=1. The config is
the shipped file with only its marked lines (replicas, listen addresses,
certificate paths) rewritten for 127.0.0.1 and free ports. Every process is
started here, in its own process group, and stopped here.
"""

import contextlib
import http.client
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from testkit.bake import bake, bake_pythonpath, live_headers
from testkit.commands import clean_env, run
from testkit.deployments import (
    NGINX,
    Certificates,
    certificates,
    require_nginx,
    stop_group,
)
from testkit.policy_copies import PER_RESPONSE
from testkit.servers import free_port, get, wait_until_serving
from tests.expected import SAME_FOR_EVERY_ANSWER

pytestmark = pytest.mark.xdist_group("proxy")

PACKAGE = "example_service"
HSTS = "max-age=31536000; includeSubDomains"  # the default answers
PATHS = ["/", "/cache", "/download", "/healthz", "/static/style.css", "/no-such-page"]
STATUS = {"/no-such-page": 404}
KILL_LOAD = 2000
TEST_SECRET = "test-only-secret"  # noqa: S105 - signs nothing that leaves the test
CONNECTIONS = 8
DEADLINE_SECONDS = 120

# A route that says what the app believes about a request; the rest is the bake.
WHOAMI = f'''"""The baked app, plus one route that reports what the app believes."""

from flask import request

from {PACKAGE}.wsgi import app


@app.get("/_whoami")
def whoami():
    return {{
        "remote_addr": request.remote_addr,
        "scheme": request.scheme,
        "host": request.host,
    }}
'''


@pytest.fixture(scope="module", autouse=True)
def nginx_binary() -> Path:
    return require_nginx()


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> Certificates:
    return certificates(tmp_path_factory.mktemp("tls"), "proxy")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    baked = bake(tmp_path_factory.mktemp("proxy"))
    (baked / "whoami.py").write_text(WHOAMI)
    return baked


@dataclass
class Replica:
    process: subprocess.Popen
    port: int
    log: Path


@contextlib.contextmanager
def replica(project: Path, directory: Path, hops: int) -> Iterator[Replica]:
    """One gunicorn of the bake (2 workers) on 127.0.0.1, in its own process group."""
    port = free_port()
    runtime = directory / f"replica-{port}"
    runtime.mkdir()
    log = runtime / "gunicorn.log"
    env = clean_env(
        BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        FLASK_SECRET_KEY=TEST_SECRET,
        FLASK_TRUSTED_PROXY_HOPS=str(hops),
        **bake_pythonpath(project),
        XDG_RUNTIME_DIR=str(runtime),  # its own gunicorn control socket
    )
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                "gunicorn.conf.py",
                "whoami:app",
            ],
            cwd=project,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_serving(port, process)
        yield Replica(process, port, log)
    finally:
        stop_group(process)


def rewrite(text: str, pattern: str, replacements: list[str]) -> str:
    """Replace each match of ``pattern`` in turn; there must be one per replacement."""
    found = re.findall(pattern, text)
    assert len(found) == len(replacements), (pattern, found)
    pieces = iter(replacements)
    return re.sub(pattern, lambda _: next(pieces), text)


def render_nginx_conf(
    shipped: str,
    upstreams: list[int],
    https_port: int,
    http_port: int,
    tls: Certificates,
) -> str:
    """The shipped config with its EDIT lines pointed at this test's servers.

    Each rewrite must match exactly as often as the file is written for, so a
    changed file fails here instead of a different config being tested.
    """
    text = rewrite(
        shipped,
        r"server app-\d+:8000",
        [f"server 127.0.0.1:{port}" for port in upstreams],
    )
    text = rewrite(text, r"listen 443 ssl;", [f"listen 127.0.0.1:{https_port} ssl;"])
    text = rewrite(text, r"listen 80;", [f"listen 127.0.0.1:{http_port};"])
    text = rewrite(text, r"ssl_certificate \S+;", [f"ssl_certificate {tls.chain};"])
    return rewrite(
        text, r"ssl_certificate_key \S+;", [f"ssl_certificate_key {tls.key};"]
    )


def strip_header(conf: str, name: str) -> str:
    """A proxy that drops one of the app's headers (a misconfigured CDN, say)."""
    return rewrite(conf, r"location / \{", [f"location / {{ proxy_hide_header {name};"])


@dataclass
class Proxy:
    https_port: int
    http_port: int
    error_log: Path

    def url(self, path: str = "/") -> str:
        return f"https://127.0.0.1:{self.https_port}{path}"


@contextlib.contextmanager
def nginx(
    directory: Path,
    project: Path,
    upstreams: list[int],
    tls: Certificates,
    edit=lambda conf: conf,
) -> Iterator[Proxy]:
    """Debian's nginx with the bake's deploy/nginx.conf, in the foreground."""
    directory.mkdir()
    proxy = Proxy(free_port(), free_port(), directory / "nginx.log")
    shipped = (project / "deploy/nginx.conf").read_text()
    conf = directory / "nginx.conf"
    conf.write_text(
        edit(
            render_nginx_conf(
                shipped, upstreams, proxy.https_port, proxy.http_port, tls
            )
        )
    )
    with proxy.error_log.open("w") as output:
        process = subprocess.Popen(
            [
                NGINX,
                "-p",
                directory,
                "-c",
                conf,
                "-e",
                directory / "startup-error.log",
                "-g",
                f"daemon off; pid {directory / 'nginx.pid'};",
            ],
            stdout=subprocess.DEVNULL,  # the access log
            stderr=output,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"nginx exited with {process.returncode}:\n"
                    + proxy.error_log.read_text()
                    + (directory / "startup-error.log").read_text()
                )
            with contextlib.suppress(OSError):
                if get(proxy.https_port, "/healthz", tls=tls.context())[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError("nginx did not serve /healthz within 30 s")
            time.sleep(0.1)
        yield proxy
    finally:
        stop_group(process, signal.SIGQUIT)  # nginx's graceful stop


@pytest.fixture(scope="module")
def replicas(project, tmp_path_factory) -> Iterator[list[Replica]]:
    directory = tmp_path_factory.mktemp("replicas")
    with (
        replica(project, directory, hops=1) as one,
        replica(project, directory, hops=1) as two,
    ):
        yield [one, two]


@pytest.fixture(scope="module")
def proxy(project, replicas, tls, tmp_path_factory) -> Iterator[Proxy]:
    directory = tmp_path_factory.mktemp("nginx") / "shipped"
    with nginx(directory, project, [r.port for r in replicas], tls) as running:
        yield running


def security_check(project: Path, *args: str, hops: int = 1):
    """The baked command, with the settings of the deployment it checks."""
    return run(
        sys.executable,
        "-m",
        "flask",
        "--app",
        PACKAGE,
        "security",
        "check",
        *args,
        cwd=project,
        check=False,
        env=clean_env(
            **bake_pythonpath(project),
            FLASK_SECRET_KEY=TEST_SECRET,
            FLASK_TRUSTED_PROXY_HOPS=str(hops),
        ),
    )


def any_nonce(value: str) -> str:
    """A header value with any CSP nonce in it blanked: nonces differ per response."""
    return re.sub(r"'nonce-[^']*'", "'nonce-'", value)


def test_every_response_through_the_proxy_carries_each_header_once(project, proxy, tls):
    own = live_headers(project, PACKAGE)  # the app's answers over https, in-process
    for path in PATHS:
        status, headers, _ = get(proxy.https_port, path, tls=tls.context())
        assert status == STATUS.get(path, 200), path
        names = [name.lower() for name, _ in headers]
        repeated = {name for name in names if names.count(name) > 1}
        assert not repeated, (path, repeated)
        sent = {name.lower(): any_nonce(value) for name, value in headers}
        for name, value in own[f"https {path}"]["headers"]:
            if name.lower() not in PER_RESPONSE:  # a Date may tick between the two
                assert sent.get(name.lower()) == any_nonce(value), (path, name)
        assert sent["strict-transport-security"] == HSTS, path
        for name, value in SAME_FOR_EVERY_ANSWER.items():
            assert sent[name.lower()] == value, (path, name)
        assert sent["server"] == "nginx", path  # no version; gunicorn's is replaced


def test_a_clients_forwarded_headers_do_not_change_what_the_app_believes(
    proxy, replicas, tls
):
    spoofed = {
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Proto": "http",
        "X-Forwarded-Host": "evil.example.net",
    }
    status, headers, body = get(
        proxy.https_port, "/_whoami", tls=tls.context(), headers=spoofed
    )
    assert status == 200
    assert json.loads(body) == {
        "remote_addr": "127.0.0.1",
        "scheme": "https",
        "host": f"127.0.0.1:{proxy.https_port}",  # the Host the client asked for
    }
    assert ("Strict-Transport-Security", HSTS) in headers
    # The control: straight to a replica, which trusts one hop, the lie works;
    # so the replicas must be reachable through the proxy only.
    direct = http.client.HTTPConnection("127.0.0.1", replicas[0].port, timeout=10)
    try:
        direct.request("GET", "/_whoami", headers={"X-Forwarded-For": "203.0.113.9"})
        believed = json.loads(direct.getresponse().read())
    finally:
        direct.close()
    assert believed == {
        "remote_addr": "203.0.113.9",
        "scheme": "http",
        "host": f"127.0.0.1:{replicas[0].port}",
    }


def test_a_post_is_compared_with_the_host_the_client_used(proxy, replicas, tls):
    """Without Sec-Fetch-Site, the Origin is compared with the public host and
    port (X-Forwarded-Host), never with the replica's own."""

    def post(origin: str) -> int:
        connection = http.client.HTTPSConnection(
            "127.0.0.1", proxy.https_port, context=tls.context(), timeout=10
        )
        try:
            connection.request("POST", "/", body=b"x", headers={"Origin": origin})
            return connection.getresponse().status
        finally:
            connection.close()

    assert post(proxy.url("")) == 405  # this service: the view's answer
    assert post(f"http://127.0.0.1:{replicas[0].port}") == 403
    assert post("https://127.0.0.1") == 403  # the port counts


def test_plain_http_is_redirected_to_https(proxy):
    connection = http.client.HTTPConnection("127.0.0.1", proxy.http_port, timeout=10)
    try:
        connection.request("GET", "/cache?x=1", headers={"X-Forwarded-Proto": "https"})
        response = connection.getresponse()
        assert response.status == 301
        assert response.getheader("Location") == "https://127.0.0.1/cache?x=1"
    finally:
        connection.close()


def test_request_bodies_are_limited_to_64_kib(proxy, tls):
    def post(size: int) -> int:
        connection = http.client.HTTPSConnection(
            "127.0.0.1", proxy.https_port, context=tls.context(), timeout=10
        )
        try:
            connection.request("POST", "/", body=b"x" * size)
            return connection.getresponse().status
        finally:
            connection.close()

    assert post(64 * 1024) == 405  # reaches the app, which takes no POST on /
    assert post(64 * 1024 + 1) == 413  # refused by nginx


def test_security_check_passes_through_the_proxy(project, proxy, tls):
    """Every header as the app sends it; a page the app does not have is
    named by its status alone (its headers pass too)."""
    result = security_check(
        project, "--cafile", str(tls.ca), *(proxy.url(path) for path in PATHS)
    )
    assert result.returncode == 1, result.stdout + result.stderr
    lines = dict(zip(PATHS, result.stdout.splitlines(), strict=True))
    for path, line in lines.items():
        if path in STATUS:
            assert line == f"MISMATCH {proxy.url(path)} (404): answered 404"
        else:
            assert line.startswith(f"OK {proxy.url(path)} (200): "), line


def test_security_check_names_a_header_the_proxy_strips(
    project, replicas, tls, tmp_path
):
    with nginx(
        tmp_path / "nginx",
        project,
        [r.port for r in replicas],
        tls,
        edit=lambda conf: strip_header(conf, "Content-Security-Policy"),
    ) as stripping:
        result = security_check(
            project,
            "--cafile",
            str(tls.ca),
            stripping.url("/"),
            stripping.url("/cache"),
        )
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        assert line.startswith("MISMATCH ")
        assert line.endswith(": Content-Security-Policy missing"), line


def test_security_check_names_hsts_when_the_hop_is_not_trusted(project, tls, tmp_path):
    with (
        replica(project, tmp_path, hops=0) as untrusting,
        nginx(
            tmp_path / "nginx", project, [untrusting.port, untrusting.port], tls
        ) as proxy,
    ):
        result = security_check(
            project, "--cafile", str(tls.ca), proxy.url("/"), hops=0
        )
    assert result.returncode == 1, result.stdout + result.stderr
    [line] = result.stdout.splitlines()
    assert line.startswith(f"MISMATCH {proxy.url('/')} (200): ")
    assert "Strict-Transport-Security missing" in line


def test_security_check_exits_2_in_one_line_for_a_closed_port(project, tls):
    closed = f"https://127.0.0.1:{free_port()}/"
    result = security_check(project, "--cafile", str(tls.ca), closed)
    assert result.returncode == 2
    assert result.stdout == f"ERROR {closed}: connection refused\n"
    assert result.stderr == ""


def test_security_check_exits_2_in_one_line_for_an_unverifiable_certificate(
    project, proxy
):
    result = security_check(project, proxy.url("/"))  # the system's CAs only
    assert result.returncode == 2
    assert result.stdout.splitlines() == [
        f"ERROR {proxy.url('/')}: TLS certificate not accepted: "
        "unable to get local issuer certificate"
    ]
    assert result.stderr == ""


class Load:
    """``count`` GETs through the proxy over CONNECTIONS kept-alive TLS connections."""

    def __init__(self, port: int, context: ssl.SSLContext, count: int):
        self.port, self.context, self.count = port, context, count
        self.done = 0
        self.errors: list[str] = []
        self.wrong: list[str] = []
        self.lock = threading.Lock()
        self.deadline = time.monotonic() + DEADLINE_SECONDS

    def problem(self, path: str, status: int, headers: list[tuple[str, str]]) -> str:
        if status != STATUS.get(path, 200):
            return f"{path}: status {status}"
        for name, value in [
            ("Content-Security-Policy", None),
            ("Strict-Transport-Security", HSTS),
        ]:
            sent = [v for k, v in headers if k.lower() == name.lower()]
            if len(sent) != 1 or (value and sent != [value]):
                return f"{path}: {name} {sent}"
        return ""

    def connection(self) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(
            "127.0.0.1", self.port, context=self.context, timeout=10
        )

    def one_connection(self, first: int) -> None:
        connection = self.connection()
        try:
            for index in range(first, self.count, CONNECTIONS):
                path = PATHS[index % len(PATHS)]
                error = wrong = ""
                if time.monotonic() > self.deadline:
                    error = f"{path}: not sent, deadline passed"
                else:
                    try:
                        connection.request("GET", path)
                        response = connection.getresponse()
                        response.read()
                        wrong = self.problem(
                            path, response.status, response.getheaders()
                        )
                    except (OSError, http.client.HTTPException) as failure:
                        error = f"{path}: {failure!r}"
                        connection.close()
                        connection = self.connection()
                with self.lock:
                    self.done += 1
                    if error:
                        self.errors.append(error)
                    if wrong:
                        self.wrong.append(wrong)
        finally:
            connection.close()

    def run(self) -> None:
        with ThreadPoolExecutor(CONNECTIONS) as pool:
            list(pool.map(self.one_connection, range(CONNECTIONS)))


def test_a_replica_killed_during_2000_gets_costs_no_request(project, tls, tmp_path):
    with (
        replica(project, tmp_path, hops=1) as victim,
        replica(project, tmp_path, hops=1) as survivor,
        nginx(tmp_path / "nginx", project, [victim.port, survivor.port], tls) as proxy,
    ):
        load = Load(proxy.https_port, tls.context(), KILL_LOAD)
        runner = threading.Thread(target=load.run)
        runner.start()
        deadline = time.monotonic() + 60
        while load.done < KILL_LOAD // 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.killpg(victim.process.pid, signal.SIGKILL)  # master and workers at once
        killed_after = load.done
        victim.process.wait(timeout=10)
        runner.join(DEADLINE_SECONDS + 10)
        assert not runner.is_alive()
        nginx_log = proxy.error_log.read_text()
    assert load.done == KILL_LOAD
    assert load.errors == []
    assert load.wrong == []
    # It counts: the victim had its share of the load, died with most of the
    # load still to come, and nginx met it dead and went on to the survivor.
    assert victim.log.read_text().count('"GET ') > 0
    assert KILL_LOAD // 5 <= killed_after < KILL_LOAD // 2
    assert f"127.0.0.1:{victim.port}" in nginx_log
