"""The baked service under its own gunicorn config, holding the baseline under load."""

import http.client
import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from testkit.bake import bake
from testkit.commands import clean_env, run
from testkit.servers import free_port, get, gunicorn, wait_for_workers
from tests.expected import CSP_SELF, INTEGRITY_POLICY, SAME_FOR_EVERY_ANSWER

pytestmark = pytest.mark.xdist_group("gunicorn")

BASELINE = {
    **SAME_FOR_EVERY_ANSWER,
    "X-Frame-Options": "SAMEORIGIN",
    "Content-Security-Policy": CSP_SELF,
    "Integrity-Policy": INTEGRITY_POLICY,
}
EXPECTED = {  # path: (status, Cache-Control)
    "/": (200, "no-store, max-age=0"),
    "/cache": (200, "public, max-age=60"),
    "/download": (200, "no-store, max-age=0"),
    "/healthz": (200, "no-store, max-age=0"),
    "/no-such-page": (404, "no-store, max-age=0"),
}
PATHS = list(EXPECTED)
CONNECTIONS = 16
DEADLINE_SECONDS = 120


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """A bake installed the way its Dockerfile's build stage does: uv.lock's
    runtime part (refusing a stale lock), then the service itself, not editable.

    uv is this environment's (the Makefile pins it, as the Dockerfile does)."""
    project = bake(tmp_path_factory.mktemp("load"))
    uv = Path(sys.executable).parent / "uv"
    for last in ("--no-install-project", "--no-editable"):
        run(uv, "sync", "--quiet", "--locked", "--no-dev", last,
            "--python", sys.executable, cwd=project)  # fmt: skip
    python = project / ".venv" / "bin" / "python"
    run(uv, "pip", "check", "--quiet", "--python", python, cwd=project)
    return python, project


def problems(path: str, status: int, headers: list[tuple[str, str]]) -> list[str]:
    """Everything wrong with one response; empty when it is right."""
    expected_status, cache_control = EXPECTED[path]
    found = []
    if status != expected_status:
        found.append(f"{path}: status {status}")
    for name, value in {**BASELINE, "Cache-Control": cache_control}.items():
        sent = [v for k, v in headers if k.lower() == name.lower()]
        if sent != [value]:
            found.append(f"{path}: {name} {sent}")
    if any(k.lower() == "strict-transport-security" for k, _ in headers):
        found.append(f"{path}: HSTS over plain HTTP")
    return found


class Load:
    """A bounded load: ``count`` GETs over CONNECTIONS threads, round-robin paths."""

    def __init__(self, port: int, count: int):
        self.port, self.count = port, count
        self.done = 0
        self.errors: list[str] = []
        self.wrong: list[str] = []
        self.lock = threading.Lock()
        self.deadline = time.monotonic() + DEADLINE_SECONDS

    def one(self, index: int) -> None:
        path = PATHS[index % len(PATHS)]
        if time.monotonic() > self.deadline:
            outcome = ("errors", f"{path}: not sent, deadline passed")
        else:
            try:
                status, headers, _ = get(self.port, path)
                found = problems(path, status, headers)
                outcome = ("wrong", found[0]) if found else None
            except (
                OSError,
                http.client.HTTPException,
            ) as error:  # reset, or cut mid-response
                outcome = ("errors", f"{path}: {error!r}")
        with self.lock:
            self.done += 1
            if outcome:
                getattr(self, outcome[0]).append(outcome[1])

    def run(self) -> "Load":
        with ThreadPoolExecutor(CONNECTIONS) as pool:
            list(pool.map(self.one, range(self.count)))
        return self


def test_five_thousand_requests_all_carry_the_full_baseline(installed):
    python, project = installed
    with gunicorn(python, project, workers=2) as (master, port):
        assert len(wait_for_workers(master.pid, 2)) == 2
        load = Load(port, 5000).run()
    assert load.done == 5000
    assert load.errors == []
    assert load.wrong == []


def test_a_killed_worker_costs_only_its_request_in_flight_and_is_replaced(installed):
    python, project = installed
    with gunicorn(python, project, workers=2) as (master, port):
        victim = min(wait_for_workers(master.pid, 2))
        load = Load(port, 3000)
        runner = threading.Thread(target=load.run)
        runner.start()
        deadline = time.monotonic() + 30
        while load.done < 500 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert load.done >= 500, "the load never got going"
        os.kill(victim, signal.SIGKILL)
        runner.join(DEADLINE_SECONDS + 10)
        assert not runner.is_alive()

        replaced = wait_for_workers(master.pid, 2, gone=victim)
        assert victim not in replaced
        assert get(port, "/healthz")[0] == 200
    assert load.done == 3000
    assert len(load.errors) <= 1, load.errors  # a sync worker has one request in flight
    assert load.wrong == []


def test_gunicorn_stops_in_one_line_on_a_policy_below_the_floor(installed):
    python, project = installed
    result = run(
        python,
        "-m",
        "gunicorn",
        "--config",
        "gunicorn.conf.py",
        cwd=project,
        check=False,
        timeout=60,
        env=clean_env(
            BIND=f"127.0.0.1:{free_port()}",
            FLASK_SECRET_KEY="test-only-secret",  # noqa: S106
            FLASK_CSP_EXTEND='{"script-src": ["*"]}',
        ),
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: CSP_EXTEND: script-src * is refused: "), lines
    assert 'SECURITY_EXCEPTIONS["script-src *"]' in lines[-1]
