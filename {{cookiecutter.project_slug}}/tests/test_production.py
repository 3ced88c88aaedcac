"""The production entry points: gunicorn's settings and the WSGI app."""

import importlib
import runpy
import socket
import sys
from pathlib import Path

import pytest
from gunicorn.workers.sync import SyncWorker

GUNICORN_CONF = Path(__file__).parents[1] / "gunicorn.conf.py"


def gunicorn_settings():
    return runpy.run_path(str(GUNICORN_CONF))


@pytest.mark.parametrize("hops", [None, "1"])
def test_gunicorn_leaves_forwarded_headers_to_the_app(monkeypatch, hops):
    if hops is None:
        monkeypatch.delenv("FLASK_TRUSTED_PROXY_HOPS", raising=False)
    else:
        monkeypatch.setenv("FLASK_TRUSTED_PROXY_HOPS", hops)
    assert gunicorn_settings()["forwarded_allow_ips"] == ""


def test_gunicorn_binds_loopback_unless_told(monkeypatch):
    monkeypatch.delenv("BIND", raising=False)
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    settings = gunicorn_settings()
    assert settings["bind"] == "127.0.0.1:8000"
    assert settings["workers"] == 3
    assert settings["wsgi_app"] == "{{ cookiecutter.package_name }}.wsgi:app"


HOST_OF_64_CPUS = set(range(64))


@pytest.mark.parametrize(
    ("affinity", "cpu_max", "cpus"),
    [
        pytest.param(HOST_OF_64_CPUS, "200000 100000\n", 2, id="quota-2-of-64"),
        pytest.param(HOST_OF_64_CPUS, "150000 100000\n", 2, id="quota-rounds-up"),
        pytest.param(HOST_OF_64_CPUS, "10000 100000\n", 1, id="quota-below-one-cpu"),
        pytest.param(HOST_OF_64_CPUS, "max 100000\n", 64, id="no-quota"),
        pytest.param(HOST_OF_64_CPUS, None, 64, id="no-cgroup-file"),
        pytest.param(HOST_OF_64_CPUS, "garbage", 64, id="unreadable-quota"),
        pytest.param({0, 1, 2}, "800000 100000\n", 3, id="affinity-below-quota"),
        pytest.param({5}, "max 100000\n", 1, id="pinned-to-one-cpu"),
    ],
)
def test_usable_cpus_come_from_affinity_and_cgroup_quota(affinity, cpu_max, cpus):
    assert gunicorn_settings()["usable_cpus"](affinity, cpu_max) == cpus


def test_cgroup_quota_is_read_from_the_file(tmp_path):
    read_cpu_max = gunicorn_settings()["read_cpu_max"]
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("200000 100000\n")
    assert read_cpu_max(str(cpu_max)) == "200000 100000\n"
    assert read_cpu_max(str(tmp_path / "missing")) is None


def test_workers_follow_the_usable_cpus_not_the_host(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    settings = gunicorn_settings()
    affinity = settings["process_affinity"]()
    cpus = settings["usable_cpus"](affinity, settings["read_cpu_max"]())
    assert settings["workers"] == 2 * cpus + 1
    assert settings["workers"] <= 2 * len(affinity) + 1


def test_worker_heartbeats_are_in_memory_on_linux():
    in_memory = "/dev/shm" if sys.platform == "linux" else None  # noqa: S108
    assert gunicorn_settings()["worker_tmp_dir"] == in_memory


HEADERS_ONLY = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"


@pytest.fixture
def connection():
    """(proxy side, worker side) of one TCP connection on 127.0.0.1."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        proxy = socket.create_connection(listener.getsockname(), timeout=5)
        worker, _ = listener.accept()
    with proxy, worker:
        yield proxy, worker


def received(proxy: socket.socket) -> bytes:
    data = b""
    while chunk := proxy.recv(4096):
        data += chunk
    return data


def test_gunicorn_runs_the_all_or_nothing_sync_worker():
    assert issubclass(gunicorn_settings()["worker_class"], SyncWorker)


@pytest.mark.skipif(not hasattr(socket, "TCP_CORK"), reason="TCP_CORK is Linux's")
def test_a_worker_dying_mid_response_resets_instead_of_sending_half(connection):
    proxy, worker = connection
    gunicorn_settings()["hold_until_complete"](worker)
    worker.sendall(HEADERS_ONLY)  # gunicorn writes the headers first...
    worker.close()  # ...and the process dies before the body: the kernel closes
    with pytest.raises(ConnectionResetError):
        received(proxy)


def test_a_released_response_arrives_whole_and_closes_normally(connection):
    proxy, worker = connection
    settings = gunicorn_settings()
    settings["hold_until_complete"](worker)
    worker.sendall(HEADERS_ONLY)
    worker.sendall(b"ok\n")
    settings["release"](worker)
    worker.close()
    assert received(proxy) == HEADERS_ONLY + b"ok\n"


def test_control_a_plain_worker_dying_leaves_half_a_response(connection):
    proxy, worker = connection
    worker.sendall(HEADERS_ONLY)
    worker.close()
    assert received(proxy) == HEADERS_ONLY  # a proxy cannot retry this one


def test_wsgi_app_serves_with_the_baseline(monkeypatch):
    monkeypatch.setenv("FLASK_SECRET_KEY", "test-only-secret")
    app = importlib.import_module("{{ cookiecutter.package_name }}.wsgi").app
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_gunicorn_refuses_a_policy_below_the_floor_in_one_line(monkeypatch):
    monkeypatch.setenv("FLASK_SECRET_KEY", "test-only-secret")
    monkeypatch.setenv("FLASK_CSP_EXTEND", '{"script-src": ["\'unsafe-inline\'"]}')
    with pytest.raises(SystemExit) as stopped:
        gunicorn_settings()["on_starting"](None)
    message = str(stopped.value)
    assert message.startswith(
        "error: CSP_EXTEND: script-src 'unsafe-inline' is refused"
    )
    assert "\n" not in message


def test_gunicorn_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    with pytest.raises(SystemExit, match=r"^error: FLASK_SECRET_KEY is not set"):
        gunicorn_settings()["on_starting"](None)
