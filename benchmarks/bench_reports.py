"""The violation-report receiver under a flood, and what the flood costs everyone else.

Run with ``make bench`` (after bench.py) or on its own. Bakes the default
service and serves it under gunicorn with its own gunicorn.conf.py on
127.0.0.1; then, in alternating rounds within one run: /healthz latency with
nothing else going on, and /healthz latency while client processes POST
batches of violations as fast as the receiver takes them (one repeated
violation every client sends, new ones, an extension's noise). It prints
violations accepted per second, the log lines written per second, and the
/healthz latencies side by side. Figures are printed, never asserted.
"""

import argparse
import http.client
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from importlib.metadata import version
from pathlib import Path

import testkit.bake
from testkit.servers import gunicorn

RECEIVER = "/_security/csp-report"
LOG_PREFIX = "WARNING in reports: "


def violation(blocked: str) -> dict:
    return {
        "type": "csp-violation",
        "body": {
            "documentURL": "https://example-service.example.com/",
            "effectiveDirective": "script-src-elem",
            "blockedURL": blocked,
            "disposition": "enforce",
        },
    }


def flood(port: int, client: int, seconds: float, size: int) -> tuple[int, int, int]:
    """POSTs of ``size`` violations until ``seconds`` are over: (violations
    accepted, POSTs answered 204, POSTs answered otherwise or failed)."""
    accepted = answered = failed = 0
    deadline = time.monotonic() + seconds
    post = 0
    while time.monotonic() < deadline:
        post += 1
        reports = [violation("inline")] * (size - size // 5 * 2)
        reports += [
            violation(f"https://cdn.example.com/{client}/{post}/{n}.js")
            for n in range(size // 5)
        ]
        reports += [violation(f"chrome-extension://{client}/x.js")] * (size // 5)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request(
                "POST",
                RECEIVER,
                body=json.dumps(reports),
                headers={"Content-Type": "application/reports+json"},
            )
            response = connection.getresponse()
            response.read()
            if response.status == 204:
                accepted += len(reports)
                answered += 1
            else:
                failed += 1
        except (OSError, http.client.HTTPException):
            failed += 1
        finally:
            connection.close()
    return accepted, answered, failed


def healthz_latencies(port: int, seconds: float) -> list[float]:
    """Milliseconds of each GET /healthz, one after another, every 10 ms."""
    found = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                sys.exit(f"/healthz answered {response.status}")
        finally:
            connection.close()
        found.append((time.perf_counter() - started) * 1000)
        time.sleep(0.01)
    return found


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4, help="per phase")
    parser.add_argument("--clients", type=int, default=4, help="flood processes")
    parser.add_argument("--batch", type=int, default=50, help="violations per POST")
    args = parser.parse_args()
    print(
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}, Flask {version('flask')}, gunicorn "
        f"{version('gunicorn')}; load average {os.getloadavg()[0]:.2f} at the start"
    )
    quiet: list[float] = []
    flooded: list[float] = []
    accepted = answered = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        project = testkit.bake.bake(Path(tmp))
        with (
            gunicorn(
                Path(sys.executable),
                project,
                workers=2,
                **testkit.bake.bake_pythonpath(project),
            ) as (_, port),
            ProcessPoolExecutor(args.clients) as pool,
        ):
            for _ in range(args.rounds):
                quiet += healthz_latencies(port, args.seconds)
                clients = [
                    pool.submit(flood, port, n, args.seconds, args.batch)
                    for n in range(args.clients)
                ]
                flooded += healthz_latencies(port, args.seconds)
                for client in clients:
                    a, b, c = client.result()
                    accepted, answered, failed = accepted + a, answered + b, failed + c
            time.sleep(1.1)
        # gunicorn has stopped: its workers have written what they held.
        lines = [
            json.loads(line.partition(LOG_PREFIX)[2])
            for line in (project / "gunicorn.log").read_text().splitlines()
            if LOG_PREFIX in line
        ]
    flood_seconds = args.rounds * args.seconds
    logged = sum(line["count"] for line in lines)
    print(
        f"\n{args.rounds} rounds of {args.seconds:g} s quiet, then {args.seconds:g} s of "
        f"{args.clients} client processes POSTing {args.batch} violations each "
        "(3/5 one repeated violation, 1/5 new ones, 1/5 a browser extension's), "
        "against 2 sync workers:"
    )
    print(
        f"Receiver: {accepted / flood_seconds:,.0f} violations/s accepted "
        f"({answered / flood_seconds:,.0f} POSTs/s, {failed} refused or failed); "
        f"{len(lines)} log lines in all ({len(lines) / flood_seconds:.1f}/s; at most "
        f"2 workers x 11/s), whose counts add up to {logged:,} of {accepted:,} accepted."
    )
    print(f"{'/healthz ms':24} {'median':>8} {'p95':>8} {'p99':>8} {'max':>8} {'n':>6}")
    for name, values in (("quiet", quiet), ("during the flood", flooded)):
        print(
            f"{name:24} {statistics.median(values):>8.2f} {percentile(values, 0.95):>8.2f} "
            f"{percentile(values, 0.99):>8.2f} {max(values):>8.2f} {len(values):>6}"
        )
    print(
        f"During the flood /healthz takes {statistics.median(flooded) / statistics.median(quiet):.1f}x "
        f"its quiet median (p95 {percentile(flooded, 0.95) / percentile(quiet, 0.95):.1f}x)."
    )


if __name__ == "__main__":
    main()
