"""What the security baseline costs, side by side with the alternatives.

Run with ``make bench``. Bakes the default service, adds one page that asks
for a CSP nonce (as a team would write it), checks that every contender
really sends the headers it claims on every route, then measures in one
process, interleaved in shuffled rounds, medians: µs per in-process WSGI
request and the ratio to bare Flask, and what the cross-origin check adds
beside the header hook (and alone, on the requests it lets through); then
the nonce page alone, the service against flask-talisman with the same
policy and nonces. Then each contender
under gunicorn on 127.0.0.1, driven by wrk (from Debian), throughput as a
ratio to bare, and the violation report receiver's throughput.
Figures are printed, never asserted: this is a benchmark, not a test.
"""

import argparse
import gc
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from importlib.metadata import version
from pathlib import Path

from werkzeug.test import EnvironBuilder

import testkit.bake
from testkit.servers import gunicorn

ROUTES = ["/", "/cache", "/download"]
BASELINE = [
    "X-Frame-Options",
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Permissions-Policy",
    "Cross-Origin-Opener-Policy",
    "Cross-Origin-Resource-Policy",
    "Cross-Origin-Embedder-Policy",
    "X-Permitted-Cross-Domain-Policies",
    "X-DNS-Prefetch-Control",
    "Cache-Control",
    "Strict-Transport-Security",
    "Reporting-Endpoints",
]
TALISMAN_SENDS = [*BASELINE[:5], "Strict-Transport-Security"]
NONE: list[str] = []
CLAIMS = {  # what each contender must send on every route over https
    "bare Flask (no headers)": NONE,
    "baked service": BASELINE,
    "baked service, hook removed": NONE,
    "baked service, cross-origin check removed": BASELINE,
    "flask-talisman 1.1.0": TALISMAN_SENDS,
    "flask-talisman 1.1.0, nonces": TALISMAN_SENDS,
    "secure.py 2.0.1": BASELINE,
    "floor: one Headers.extend": BASELINE,
    "floor: raw WSGI tuples": BASELINE,
}
# A page that asks for a nonce, added to the bake: a route and its template.
NONCE_PATH = "/nonce"
NONCE_ROUTE = """

@bp.get("/nonce")
def nonce_page() -> str:
    return render_template("nonce.html")
"""
NONCE_TEMPLATE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>A page with inline code</title>
  <style nonce="{{ csp_nonce() }}">h1 { color: teal; }</style>
</head>
<body>
  <h1>Inline code, by nonce</h1>
  <script nonce="{{ csp_nonce() }}">document.querySelector("h1").dataset.ran = "yes";</script>
</body>
</html>
"""
NONCE_CONTENDERS = [
    "bare Flask (no headers)",
    "baked service",
    "flask-talisman 1.1.0, nonces",
]
NONCE_ATTRIBUTE = re.compile(r'nonce="([^"]*)"')
RECEIVER = "/_security/csp-report"
REPORT = {
    "csp-report": {
        "document-uri": "https://example-service.example.com/",
        "effective-directive": "script-src-elem",
        "blocked-uri": "inline",
        "disposition": "enforce",
        "script-sample": "alert(1)",
    }
}
WRK_POST_SCRIPT = f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/csp-report"
wrk.body = {json.dumps(json.dumps(REPORT))}
"""
WRK_SCRIPT = """
local paths = {"/", "/cache", "/download"}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % 3) + 1])
end
"""


def bake(output: Path, times: int) -> tuple[Path, float]:
    """Bake the defaults ``times`` times (render plus hooks); the median seconds."""
    seconds = []
    quiet = os.open(os.devnull, os.O_WRONLY)
    stderr = os.dup(2)
    os.dup2(quiet, 2)  # the hooks' next-steps text, five times over
    try:
        for i in range(times):
            start = time.perf_counter()
            project = testkit.bake.bake(output / str(i))
            seconds.append(time.perf_counter() - start)
    finally:
        os.dup2(stderr, 2)
        os.close(quiet)
    return project, statistics.median(seconds)


def add_nonce_page(project: Path) -> None:
    """The page a team writes for inline code: its route and template, in the bake."""
    package = project / "src" / "example_service"
    routes = package / "routes.py"
    routes.write_text(routes.read_text() + NONCE_ROUTE)
    (package / "templates" / "nonce.html").write_text(NONCE_TEMPLATE)


def check_nonces(apps) -> None:
    """The nonce contenders put the page's own nonce in script-src and style-src."""
    for name in NONCE_CONTENDERS[1:]:
        client = apps[name].test_client()
        seen = set()
        for _ in range(3):
            with client.get(NONCE_PATH, base_url="https://localhost") as response:
                nonces = set(NONCE_ATTRIBUTE.findall(response.text))
                csp = response.headers.get("Content-Security-Policy", "")
                directives = {
                    name: sources
                    for name, _, sources in (p.partition(" ") for p in csp.split("; "))
                }
                if len(nonces) != 1 or response.status_code != 200:
                    sys.exit(f"{name}: {NONCE_PATH} has nonces {nonces}")
                [nonce] = nonces
                for directive in ("script-src", "style-src"):
                    if f"'nonce-{nonce}'" not in directives.get(directive, ""):
                        sys.exit(f"{name}: the page's nonce is not in {directive}")
                seen.add(nonce)
        if len(seen) != 3:
            sys.exit(f"{name}: the same nonce on different responses")


def check_claims(apps) -> None:
    """A contender that drops headers must not win: stop if any claim is false."""
    security_headers = {h.lower() for h in BASELINE if h != "Cache-Control"}
    for name, app in apps.items():
        client = app.test_client()
        for route in ROUTES:
            with client.get(route, base_url="https://localhost") as response:
                if response.status_code != 200:
                    sys.exit(f"{name}: {route} answered {response.status_code}")
                for header in CLAIMS[name]:
                    count = len(response.headers.getlist(header))
                    if count != 1:
                        sys.exit(
                            f"{name} sends {header} {count} times on {route}, not once"
                        )
                sent = {h.lower() for h, _ in response.headers}
                if not CLAIMS[name] and sent & security_headers:
                    sys.exit(
                        f"{name} claims no security headers but sends {sent & security_headers}"
                    )
        if name == "baked service":
            cached = client.get("/cache", base_url="https://localhost")
            if cached.headers["Cache-Control"] != "public, max-age=60":
                sys.exit("baked service clobbered the Cache-Control that /cache sets")


def in_process(
    apps, rounds: int, batch: int, routes: list[str] = ROUTES
) -> dict[str, list[float]]:
    """µs per request for each contender, one sample per round, round-robin over routes."""
    environs = [
        EnvironBuilder(path=route, base_url="https://localhost").get_environ()
        for route in routes
    ]

    def start_response(status, headers, exc_info=None):
        return None

    def run(app, count):
        # CPU time of this process: time the scheduler gives to others is not ours.
        start = time.process_time_ns()
        for i in range(count):
            body = app(environs[i % len(environs)].copy(), start_response)
            for _ in body:
                pass
            close = getattr(body, "close", None)
            if close:
                close()
        return (time.process_time_ns() - start) / count / 1000

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(
            0, {max(os.sched_getaffinity(0))}
        )  # one core, no migrations
    for app in apps.values():
        run(app, batch)  # warm up
    samples: dict[str, list[float]] = {name: [] for name in apps}
    order = list(apps)
    for _ in range(rounds):
        random.shuffle(order)
        for name in order:
            gc.collect()
            gc.disable()
            samples[name].append(run(apps[name], batch))
            gc.enable()
    return samples


def hooks_alone(app, number: int = 20000, repeat: int = 7) -> float:
    """µs that an app's after_request functions add to one fresh response.

    Less noisy than whole requests (best of ``repeat``), and blind to work done
    elsewhere (talisman's before_request, Werkzeug serialising more headers):
    the whole-request table above is the one that counts.
    """
    hooks = list(reversed(app.after_request_funcs.get(None, [])))

    def with_hooks():
        response = app.response_class("x")
        for hook in hooks:
            response = hook(response)

    def without():
        app.response_class("x")

    with app.test_request_context("/", base_url="https://localhost"):
        best = min(timeit.repeat(with_hooks, number=number, repeat=repeat))
        base = min(timeit.repeat(without, number=number, repeat=repeat))
    return (best - base) / number * 1e6


# The requests the cross-origin check sees: a GET passes on its method alone,
# a browser's POST on Sec-Fetch-Site, an older browser's on Origin and the host.
CHECKED_REQUESTS = {
    "GET": ("GET", {}),
    "POST, Sec-Fetch-Site: same-origin": ("POST", {"Sec-Fetch-Site": "same-origin"}),
    "POST, Origin only (pre-2023 browser)": ("POST", {"Origin": "https://localhost"}),
}


def checks_alone(
    app, method: str, headers: dict[str, str], number: int = 20000, repeat: int = 7
) -> float:
    """µs that an app's before_request functions take on one request that passes."""
    checks = list(app.before_request_funcs.get(None, []))

    def run():
        for check in checks:
            if check() is not None:
                sys.exit(f"the cross-origin check refused {method} {headers}")

    with app.test_request_context(
        "/", method=method, base_url="https://localhost", headers=headers
    ):
        return min(timeit.repeat(run, number=number, repeat=repeat)) / number * 1e6


def paired(
    samples: dict[str, list[float]], name: str, against: str
) -> tuple[float, float]:
    """Median over rounds of (name - against) in µs and of name / against.

    Pairing within a round cancels drift between rounds (clock speed, caches,
    neighbours), which is larger than the effects measured here.
    """
    pairs = list(zip(samples[name], samples[against], strict=True))
    return (
        statistics.median(a - b for a, b in pairs),
        statistics.median(a / b for a, b in pairs),
    )


def wrk_requests_per_second(
    wrk: str, script: Path, url: str, seconds: int, name: str
) -> float:
    """wrk's requests/s against ``url``; stop if any answer was not 2xx."""
    out = subprocess.run(
        [wrk, "-t1", "-c16", f"-d{seconds}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    ).stdout
    rps = next(line for line in out.splitlines() if line.startswith("Requests/sec"))
    errors = [
        line
        for line in out.splitlines()
        if "Non-2xx" in line or "Socket errors" in line
    ]
    if errors:
        sys.exit(f"{name} under wrk: {errors}")
    return float(rps.split()[1])


def end_to_end(
    project: Path, keys: list[str], rounds: int, seconds: int
) -> dict[str, float] | None:
    """Requests/s of each contender's pages, and of the service's report receiver
    (key "receiver"), each under gunicorn with the service's gunicorn.conf.py."""
    wrk = shutil.which("wrk")
    if not wrk:
        print("\nEnd to end: skipped, wrk is not installed (apt-get install wrk).")
        return None
    pages = project / "paths.lua"
    pages.write_text(WRK_SCRIPT)
    reports = project / "report.lua"
    reports.write_text(WRK_POST_SCRIPT)
    env = {
        **testkit.bake.bake_pythonpath(project),
        "BENCH_PACKAGE": "example_service",
    }
    runs = {key: ("service" if key == "receiver" else key) for key in keys}
    samples: dict[str, list[float]] = {key: [] for key in keys}
    for _ in range(rounds):
        random.shuffle(keys)
        for key in keys:
            with gunicorn(
                Path(sys.executable),
                project,
                f'testkit.contenders:make("{runs[key]}")',
                workers=2,
                **env,
            ) as (_, port):
                if key == "receiver":
                    url, script = f"http://127.0.0.1:{port}{RECEIVER}", reports
                else:
                    url, script = f"http://127.0.0.1:{port}/", pages
                samples[key].append(
                    wrk_requests_per_second(wrk, script, url, seconds, key)
                )
    return {key: statistics.median(values) for key, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument(
        "--batch", type=int, default=300, help="requests per contender per round"
    )
    parser.add_argument("--e2e-rounds", type=int, default=3)
    parser.add_argument("--e2e-seconds", type=int, default=4)
    parser.add_argument("--no-e2e", action="store_true")
    parser.add_argument("--bakes", type=int, default=5, help="bakes timed (median)")
    parser.add_argument(
        "--hook-calls",
        type=int,
        default=20000,
        help="calls per timing of the after_request hooks alone (best of 7)",
    )
    args = parser.parse_args()

    print(
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
        f"Flask {version('flask')}, Werkzeug {version('werkzeug')}, "
        f"flask-talisman {version('flask-talisman')}, secure {version('secure')}, gunicorn {version('gunicorn')}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        project, bake_seconds = bake(Path(tmp), times=args.bakes)
        print(
            f"One bake (cookiecutter render + hooks), median of {args.bakes}: "
            f"{bake_seconds:.2f} s (target < 1 s)"
        )
        add_nonce_page(project)
        sys.path.insert(0, testkit.bake.bake_pythonpath(project)["PYTHONPATH"])
        os.environ["BENCH_PACKAGE"] = "example_service"
        from testkit import contenders

        apps = {name: factory() for name, factory in contenders.FACTORIES.items()}
        check_claims(apps)
        check_nonces(apps)
        print(
            "Every contender sends the headers it claims on /, /cache and /download; "
            f"the service and talisman put each page's own nonce in {NONCE_PATH}'s CSP."
        )

        samples = in_process(apps, args.rounds, args.batch)
        bare = "bare Flask (no headers)"
        print(
            f"\nIn-process WSGI over https, {args.rounds} shuffled rounds of {args.batch} "
            "requests each; medians, the last two paired with bare within each round:"
        )
        print(
            f"{'contender':41} {'headers':>7} {'µs/request':>10} {'x bare':>7} {'overhead µs':>11}"
        )
        for name, values in samples.items():
            overhead, ratio_to_bare = paired(samples, name, bare)
            print(
                f"{name:41} {len(CLAIMS[name]):>7} {statistics.median(values):>10.1f} "
                f"{ratio_to_bare:>7.3f} {overhead:>11.1f}"
            )
        hook, _ = paired(samples, "baked service", "baked service, hook removed")
        check, _ = paired(
            samples, "baked service", "baked service, cross-origin check removed"
        )
        talisman, _ = paired(samples, "flask-talisman 1.1.0", bare)
        floor, _ = paired(samples, "floor: one Headers.extend", bare)
        ratio = hook / talisman
        print(
            f"\nThe baked hook costs {hook:.1f} µs a request for {len(BASELINE)} headers "
            "(service minus service without its hook, paired per round); "
            f"flask-talisman adds {talisman:.1f} µs for {len(TALISMAN_SENDS)}: "
            f"ratio {ratio:.2f} (target ≤ 0.40: {'met' if ratio <= 0.4 else 'MISSED'}). "
            f"Werkzeug's floor for the same headers (one extend) is {floor:.1f} µs."
        )
        print(
            f"The cross-origin check (before_request) costs {check:.1f} µs on these GETs "
            "(service minus service without it, paired per round), beside the hook's "
            f"{hook:.1f} µs. Alone, best of 7 x {args.hook_calls}, on a request it passes:"
        )
        service_app = apps["baked service"]
        for label, (method, headers) in CHECKED_REQUESTS.items():
            alone_check = checks_alone(service_app, method, headers, args.hook_calls)
            print(f"  {label:40} {alone_check:>6.2f} µs")

        nonce_samples = in_process(
            {name: apps[name] for name in NONCE_CONTENDERS},
            args.rounds,
            args.batch,
            [NONCE_PATH],
        )
        print(
            f"\nThe page that asks for a nonce ({NONCE_PATH}, a template with an inline "
            "script and style), the same way:"
        )
        print(f"{'contender':32} {'µs/request':>10} {'x bare':>7} {'overhead µs':>11}")
        for name, values in nonce_samples.items():
            overhead, ratio_to_bare = paired(nonce_samples, name, bare)
            print(
                f"{name:32} {statistics.median(values):>10.1f} "
                f"{ratio_to_bare:>7.3f} {overhead:>11.1f}"
            )
        with_nonce, _ = paired(nonce_samples, "baked service", bare)
        talisman_nonce, _ = paired(nonce_samples, "flask-talisman 1.1.0, nonces", bare)
        nonce_ratio = with_nonce / talisman_nonce
        print(
            f"With a nonce the service adds {with_nonce:.1f} µs to that page; "
            f"flask-talisman with the same policy and nonces adds {talisman_nonce:.1f} µs: "
            f"ratio {nonce_ratio:.2f} (target ≤ 0.50: {'met' if nonce_ratio <= 0.5 else 'MISSED'})."
        )

        print(
            "\nThe after_request hooks alone, on a fresh response "
            f"(best of 7 x {args.hook_calls}):"
        )
        alone = {
            name: hooks_alone(app, args.hook_calls)
            for name, app in apps.items()
            if name
            not in (
                "bare Flask (no headers)",
                "baked service, hook removed",
                "baked service, cross-origin check removed",  # the same hook
                "flask-talisman 1.1.0, nonces",  # its cost is in before_request
                "floor: raw WSGI tuples",
            )
        }
        for name, value in alone.items():
            print(f"{name:32} {value:>6.1f} µs")
        print(
            f"Ratio to flask-talisman's hook: {alone['baked service'] / alone['flask-talisman 1.1.0']:.2f}. "
            "What is left is Werkzeug validating each Headers.add, which no public API skips."
        )
        print(
            "Without a nonce the hook sends the lists built at start-up, its one step "
            "for nonces a dictionary lookup (is there one in this request?): "
            f"{alone['baked service']:.1f} µs, against {alone['floor: one Headers.extend']:.1f} µs "
            "for one Headers.extend of the same headers."
        )

        if not args.no_e2e:
            throughput = end_to_end(
                project,
                ["bare", "service", "talisman", "secure", "receiver"],
                args.e2e_rounds,
                args.e2e_seconds,
            )
            if throughput:
                receiver = throughput.pop("receiver")
                base = throughput["bare"]
                print(
                    f"\nUnder gunicorn (2 sync workers, the service's gunicorn.conf.py) on 127.0.0.1, "
                    f"wrk 16 connections, {args.e2e_rounds} shuffled rounds of {args.e2e_seconds} s, medians:"
                )
                print(f"{'contender':12} {'requests/s':>10} {'x bare':>7}")
                for key, value in throughput.items():
                    print(f"{key:12} {value:>10.0f} {value / base:>7.3f}")
                service_ratio = throughput["service"] / base
                print(
                    f"Baked service serves {service_ratio:.3f}x bare Flask's throughput "
                    f"(target ≥ 0.95: {'met' if service_ratio >= 0.95 else 'MISSED'})."
                )
                print(
                    f"The service's report receiver (POST {RECEIVER}, one "
                    f"application/csp-report each, logged as a line): {receiver:.0f} reports/s."
                )
        print(
            f"\nSummary: bake {bake_seconds:.2f} s; hook {hook:.1f} µs = {ratio:.2f}x talisman's overhead; "
            f"cross-origin check {check:.1f} µs; "
            f"{len(BASELINE)} headers vs talisman's {len(TALISMAN_SENDS)}; "
            f"with a nonce {with_nonce:.1f} µs = {nonce_ratio:.2f}x talisman's."
        )


if __name__ == "__main__":
    main()
