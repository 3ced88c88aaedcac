"""Real deployments of baked services, for the fleet's live view: gunicorn on
127.0.0.1, behind one Debian nginx that terminates TLS with certificates of a
scratch CA (trustme), one ``server`` block per front a test names.

A front may edit what the service sends on its way out, as a proxy or CDN
in front of a service can. Every process is started here, in its own process
group, and stopped here.
"""

import contextlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from testkit.bake import bake_pythonpath
from testkit.commands import clean_env
from testkit.servers import free_port, get, wait_until_serving

NGINX = Path("/usr/sbin/nginx")
SECRET = "test-only-secret"  # noqa: S105 - signs nothing that leaves the test


@dataclass
class Certificates:
    """A CA's PEM file, and a certificate chain and key for 127.0.0.1 that it signed."""

    ca: Path
    chain: Path
    key: Path

    def context(self) -> ssl.SSLContext:
        """A client's context that trusts this CA alone."""
        return ssl.create_default_context(cafile=str(self.ca))


def require_nginx() -> Path:
    """Debian's nginx, which the proxy tests need: without it they skip, or fail under CI."""
    if not NGINX.exists():
        reason = (
            f"nginx is not installed at {NGINX} (make test installs it with apt-get)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return NGINX


def certificates(directory: Path, name: str) -> Certificates:
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    files = Certificates(
        directory / f"{name}-ca.pem",
        directory / f"{name}-chain.pem",
        directory / f"{name}-key.pem",
    )
    ca.cert_pem.write_to_path(str(files.ca))
    files.chain.write_bytes(b"".join(pem.bytes() for pem in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(files.key))
    return files


def stop_group(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop a process started with start_new_session: its master and workers.

    The signal goes to the whole group (the master's pid is its id), so no
    worker outlives a master that dies first.
    """
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@contextlib.contextmanager
def served(project: Path) -> Iterator[int]:
    """The bake's own gunicorn.conf.py on 127.0.0.1 (one worker) trusting one
    proxy hop, as behind nginx; yields its port."""
    port = free_port()
    runtime = project.parent / f"{project.name}-run-{port}"
    runtime.mkdir()
    env = clean_env(
        BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        FLASK_SECRET_KEY=SECRET,
        FLASK_TRUSTED_PROXY_HOPS="1",
        XDG_RUNTIME_DIR=str(runtime),  # its own gunicorn control socket
        **bake_pythonpath(project),
    )
    with (runtime / "gunicorn.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
            cwd=project,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_serving(port, process)
        yield port
    finally:
        stop_group(process)


@dataclass
class Front:
    """One server block: TLS on ``port`` in front of ``upstream``; ``edit``
    holds nginx directives for its location (a proxy's own changes)."""

    upstream: int
    certificates: Certificates
    edit: str = ""
    port: int = 0

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/"


def nginx_conf(directory: Path, fronts: list[Front]) -> str:
    servers = "\n".join(
        f"""
    server {{
        listen 127.0.0.1:{front.port} ssl;
        ssl_certificate {front.certificates.chain};
        ssl_certificate_key {front.certificates.key};
        location / {{
            proxy_pass http://127.0.0.1:{front.upstream};
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-For $remote_addr;
            {front.edit}
        }}
    }}"""
        for front in fronts
    )
    return f"""worker_processes 1;
error_log {directory / "error.log"} warn;
events {{ worker_connections 256; }}
http {{
    server_tokens off;
    access_log off;
    client_body_temp_path {directory / "body"};
    proxy_temp_path {directory / "proxy"};
{servers}
}}
"""


@contextlib.contextmanager
def nginx(directory: Path, fronts: list[Front]) -> Iterator[list[Front]]:
    """Debian's nginx in the foreground, one server block per front (ports set here)."""
    directory.mkdir()
    for front in fronts:
        front.port = free_port()
    conf = directory / "nginx.conf"
    conf.write_text(nginx_conf(directory, fronts))
    process = subprocess.Popen(
        [
            NGINX, "-p", directory, "-c", conf, "-e", directory / "startup-error.log",
            "-g", f"daemon off; pid {directory / 'nginx.pid'};",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not serving(fronts[0]):
            if process.poll() is not None:
                raise RuntimeError(
                    f"nginx exited with {process.returncode}: "
                    + (directory / "startup-error.log").read_text()
                )
            if time.monotonic() > deadline:
                raise TimeoutError("nginx did not serve within 30 s")
            time.sleep(0.05)
        yield fronts
    finally:
        stop_group(process, signal.SIGQUIT)  # nginx's graceful stop


def serving(front: Front) -> bool:
    context = ssl.create_default_context(cafile=str(front.certificates.ca))
    try:
        return get(front.port, "/healthz", timeout=2, tls=context)[0] == 200
    except OSError:
        return False


@contextlib.contextmanager
def silent_socket() -> Iterator[str]:
    """An https URL whose server accepts connections and never answers."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()  # connections complete in the kernel; nothing answers
        yield f"https://127.0.0.1:{listening.getsockname()[1]}/"
