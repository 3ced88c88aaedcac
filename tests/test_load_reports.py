"""A flood of violation reports against the bake under its own gunicorn config.

Several clients POST batches of violations (repeated ones, new ones, browser
extensions' noise, and bodies that are no report) as fast as they can, while
another asks /healthz. Then gunicorn stops gracefully (SIGTERM), and the log
must hold few lines, within the rate, whose counts add up exactly to the
violations the receiver accepted.
"""

import http.client
import json
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from testkit import servers
from testkit.bake import bake, bake_pythonpath
from testkit.servers import gunicorn

pytestmark = pytest.mark.xdist_group("gunicorn")

RECEIVER = "/_security/csp-report"
WORKERS = 2
RATE = 10  # CSP_REPORT_LOG_RATE's default: lines a second per worker
CLIENTS = 8
POSTS = 60  # per client
BATCH = 50  # violations per POST: 8 x 60 x 50 = 24,000
DEADLINE_SECONDS = 120
LOG_PREFIX = "WARNING in reports: "


def batch(client: int, post: int) -> list[dict]:
    """20 repeats of one violation every client sends, 10 of this client's
    own, 10 new ones (past the bound on distinct ones soon), 10 extensions'."""

    def violation(blocked: str, document: str = "https://example.com/") -> dict:
        return {
            "type": "csp-violation",
            "body": {
                "documentURL": document,
                "effectiveDirective": "script-src-elem",
                "blockedURL": blocked,
                "disposition": "enforce",
            },
        }

    return (
        [violation("inline")] * 20
        + [violation("eval", f"https://example.com/{client}")] * 10
        + [
            violation(f"https://cdn.example.com/{client}/{post}/{n}.js")
            for n in range(10)
        ]
        + [violation(f"chrome-extension://{client}/{n}.js") for n in range(10)]
    )


def send(port: int, body: bytes) -> int:
    return servers.post(port, RECEIVER, body, "application/reports+json")


class Flood:
    """CLIENTS threads, each POSTS reports of BATCH violations and one that is no report."""

    def __init__(self, port: int):
        self.port = port
        self.accepted = 0
        self.statuses: Counter[int] = Counter()
        self.lock = threading.Lock()
        self.deadline = time.monotonic() + DEADLINE_SECONDS

    def client(self, number: int) -> None:
        for post in range(POSTS):
            if time.monotonic() > self.deadline:
                return
            reports = batch(number, post)
            status = send(self.port, json.dumps(reports).encode())
            malformed = send(self.port, b'[{"type": "csp-violation"}]')  # no body: 400
            with self.lock:
                self.statuses.update([status, malformed])
                if status == 204:
                    self.accepted += len(reports)

    def run(self) -> None:
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(self.client, range(CLIENTS)))


class Prober(threading.Thread):
    """GETs /healthz every 20 ms until stopped: (status or error, seconds) each."""

    def __init__(self, port: int):
        super().__init__()
        self.port = port
        self.answers: list[tuple[object, float]] = []
        self.done = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not self.done.is_set() and time.monotonic() < deadline:
            started = time.monotonic()
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                connection.request("GET", "/healthz")
                response = connection.getresponse()
                response.read()
                answer: object = response.status
            except (OSError, http.client.HTTPException) as error:
                answer = repr(error)
            finally:
                connection.close()
            self.answers.append((answer, time.monotonic() - started))
            self.done.wait(0.02)


def receiver_lines(log: Path) -> list[tuple[str, dict]]:
    """(the second it was logged, the JSON) of every receiver line."""
    found = []
    for line in log.read_text().splitlines():
        if LOG_PREFIX in line:
            stamp, _, message = line.partition(LOG_PREFIX)
            found.append((stamp.strip("[] ")[:19], json.loads(message)))
    return found


def test_a_flood_of_24000_violations_is_counted_exactly_in_few_lines(tmp_path):
    project = bake(tmp_path)
    with gunicorn(
        Path(sys.executable),
        project,
        workers=WORKERS,
        FLASK_CSP_REPORT_WINDOW="2",  # windows end during the flood, and at the stop
        **bake_pythonpath(project),
    ) as (_, port):
        prober = Prober(port)
        prober.start()
        started = time.monotonic()
        flood = Flood(port)
        flood.run()
        seconds = time.monotonic() - started
        prober.done.set()
        prober.join(15)
        time.sleep(1.1)  # the stop in a second of its own
    # gunicorn has stopped: every worker has written what it held.
    lines = receiver_lines(project / "gunicorn.log")

    assert flood.statuses == {204: CLIENTS * POSTS, 400: CLIENTS * POSTS}
    assert flood.accepted == CLIENTS * POSTS * BATCH
    assert sum(line["count"] for _, line in lines) == flood.accepted
    per_second = Counter(second for second, _ in lines)
    assert max(per_second.values()) <= WORKERS * (RATE + 1), per_second
    # Few lines: the rate's worth over the flood, its last window and the stop.
    assert len(lines) <= WORKERS * (RATE + 1) * (seconds + 3), (len(lines), seconds)
    events = {line["event"] for _, line in lines}
    assert {
        "csp-violation",
        "csp-violations-from-extensions",
        "csp-violations-over-rate",
    } <= events, events
    assert prober.answers, "nothing asked /healthz"
    assert {answer for answer, _ in prober.answers} == {200}, prober.answers
    print(
        f"{flood.accepted} violations in {seconds:.1f} s, {len(lines)} lines; "
        f"/healthz answered {len(prober.answers)} times, slowest "
        f"{max(s for _, s in prober.answers) * 1000:.0f} ms"
    )
