"""Start and stop real servers for tests: loopback only, bounded waits, always stopped."""

import contextlib
import http.client
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from testkit.commands import clean_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def connect(
    port: int,
    timeout: float = 10,
    tls: ssl.SSLContext | None = None,
    source: str = "127.0.0.1",
) -> http.client.HTTPConnection:
    """A fresh connection to 127.0.0.1 from the address ``source`` (over TLS with ``tls``)."""
    kwargs = {"timeout": timeout, "source_address": (source, 0)}
    if tls:
        return http.client.HTTPSConnection("127.0.0.1", port, context=tls, **kwargs)
    return http.client.HTTPConnection("127.0.0.1", port, **kwargs)


def get(
    port: int,
    path: str,
    timeout: float = 10,
    tls: ssl.SSLContext | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One GET on a fresh connection: (status, headers as sent, body)."""
    connection = connect(port, timeout, tls)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def post(
    port: int,
    path: str,
    body: bytes,
    content_type: str,
    tls: ssl.SSLContext | None = None,
    source: str = "127.0.0.1",
) -> int:
    """One POST on a fresh connection: the status."""
    connection = connect(port, tls=tls, source=source)
    try:
        connection.request(
            "POST", path, body=body, headers={"Content-Type": content_type}
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def wait_until_serving(
    port: int,
    process: subprocess.Popen,
    seconds: float = 30,
    tls: ssl.SSLContext | None = None,
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited with {process.returncode} before serving"
            )
        with contextlib.suppress(OSError):
            if get(port, "/healthz", timeout=2, tls=tls)[0] == 200:
                return
        time.sleep(0.02)
    raise TimeoutError(f"nothing served on 127.0.0.1:{port} within {seconds}s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextlib.contextmanager
def gunicorn(
    python: Path,
    project: Path,
    *app: str,
    workers: int = 2,
    tls: tuple[Path, Path, Path] | None = None,
    **env: str,
) -> Iterator[tuple[subprocess.Popen, int]]:
    """The baked service's gunicorn.conf.py on 127.0.0.1, serving its own app
    or ``app`` (a gunicorn APP_MODULE such as ``testkit.contenders:make("bare")``).

    ``tls`` (CA, certificate chain, key: PEM files) serves HTTPS instead.
    ``env`` adds to the environment: testkit.bake.bake_pythonpath(project)
    when ``python`` has not installed the bake."""
    port = free_port()
    environment = clean_env(
        **{
            "BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": str(workers),
            "FLASK_SECRET_KEY": "test-only-secret",
            **env,
        }
    )
    options = ["--certfile", str(tls[1]), "--keyfile", str(tls[2])] if tls else []
    context = ssl.create_default_context(cafile=str(tls[0])) if tls else None
    log = (project / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [str(python), "-m", "gunicorn", "--config", "gunicorn.conf.py", *options, *app],
        cwd=project,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_serving(port, process, tls=context)
        yield process, port
    finally:
        stop(process)
        log.close()


def children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(p) for p in path.read_text().split()} if path.exists() else set()


def wait_for_workers(
    master: int, count: int, seconds: float = 30, gone: int | None = None
) -> set[int]:
    """The master's worker pids once there are ``count`` (none of them ``gone``)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        workers = children(master)
        if len(workers) == count and gone not in workers:
            return workers
        time.sleep(0.02)
    raise TimeoutError(
        f"gunicorn {master} has workers {children(master)}, wanted {count}"
    )
