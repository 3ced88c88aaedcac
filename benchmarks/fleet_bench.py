"""How long `python -m fleet report` takes, and how that grows with the fleet.

Builds a template copy with three releases (testkit.services) and N local
services baked from it, a third at each release, then times the report over
the first 5, 10, 20, ... of them, each a fresh process as the platform team
runs it. Figures, not a test: the target is 20 services in at most 60 s on
the 2-core CI machine. Then `fleet update` over the first --update-count
services (two in three are behind), without and with --test: seconds per
service.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from testkit.services import bake_service, fleet_toml, released_template


def build(root: Path, count: int):
    (root / "template").mkdir()
    releases = released_template(root / "template")
    services = []
    for number in range(count):
        tag = releases.tags[number % len(releases.tags)]
        services.append(
            bake_service(root, releases.template, f"service-{number:03d}", tag)
        )
    return releases, services


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--counts", type=int, nargs="+", default=[5, 10, 20])
    parser.add_argument(
        "--repeat", type=int, default=2, help="runs per count (best kept)"
    )
    parser.add_argument(
        "--update-count", type=int, default=6, help="services for fleet update"
    )
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as directory:
        root = Path(directory)
        os.environ["COOKIECUTTER_CONFIG"] = str(root / "cookiecutter.yaml")
        (root / "cookiecutter.yaml").write_text(
            f"replay_dir: {root / 'replay'}\ncookiecutters_dir: {root / 'clones'}\n"
        )
        started = time.perf_counter()
        releases, services = build(root, max(arguments.counts))
        print(
            f"built {len(services)} services in {time.perf_counter() - started:.1f} s "
            f"(load average {os.getloadavg()[0]:.2f})",
            file=sys.stderr,
        )
        print(
            f"{'services':>8}  {'seconds':>7}  {'per service':>11}  {'x 5 services':>12}"
        )
        first = None
        for count in arguments.counts:
            fleet_file = root / f"fleet-{count}.toml"
            fleet_file.write_text(fleet_toml(releases, services[:count]))
            times = []
            for _ in range(arguments.repeat):
                started = time.perf_counter()
                result = subprocess.run(
                    [sys.executable, "-m", "fleet", "report", str(fleet_file)],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                times.append(time.perf_counter() - started)
                if result.returncode == 2:
                    sys.exit(
                        f"the report could not read the fleet:\n{result.stdout}{result.stderr}"
                    )
            best = min(times)
            first = first or best / count
            print(
                f"{count:>8}  {best:>7.2f}  {best / count:>11.3f}  {best / count / first:>12.2f}"
            )
        fleet_file = root / "fleet-update.toml"
        fleet_file.write_text(fleet_toml(releases, services[: arguments.update_count]))
        count = arguments.update_count
        print(f"\nfleet update over {count} services ({(2 * count + 2) // 3} behind)")
        print(f"{'':>14}  {'seconds':>7}  {'per service':>11}")
        for label, flags in (("without --test", []), ("with --test", ["--test"])):
            started = time.perf_counter()
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "fleet",
                    "update",
                    str(fleet_file),
                    "--out",
                    str(root / "out"),
                    *flags,
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            seconds = time.perf_counter() - started
            if result.returncode != 0:
                sys.exit(
                    f"fleet update exited {result.returncode}:\n{result.stdout}{result.stderr}"
                )
            print(f"{label:>14}  {seconds:>7.2f}  {seconds / count:>11.2f}")
        print(f"load average at the end {os.getloadavg()[0]:.2f}", file=sys.stderr)


if __name__ == "__main__":
    main()
