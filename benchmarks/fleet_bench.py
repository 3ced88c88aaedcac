"""How long `python -m fleet report` takes, and how that grows with the fleet.

Builds a template copy with three releases (testkit.services) and N local
services baked from it, a third at each release, then times the report over
the first 5, 10, 20, ... of them, each a fresh process as the platform team
runs it. Figures, not a test: the target is 20 services in at most 60 s on
the 2-core CI machine. Then `fleet update` over the first --update-count
services (two in three are behind), without and with --test: seconds per
service. Then the live view: --live-counts URLs (default 50, 100, 200) of one
baked service on 127.0.0.1 behind Debian's nginx terminating TLS, fetched at
once and judged as the report does: the target is 200 URLs in at most 10 s.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fleet.fetch import Fetches
from fleet.live import Judge
from fleet.releases import Template
from fleet.render import Renderer
from fleet.service import read_clone
from fleet.template_code import Loader
from testkit.deployments import NGINX, Front, certificates, nginx, served
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
    parser.add_argument(
        "--live-counts", type=int, nargs="+", default=[50, 100, 200],
        help="live URLs fetched and judged at once",
    )  # fmt: skip
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
        live_view(root, releases, services, arguments.live_counts, arguments.repeat)
        print(f"load average at the end {os.getloadavg()[0]:.2f}", file=sys.stderr)


def live_view(root: Path, releases, services, counts: list[int], repeat: int) -> None:
    """Fetch and judge URLs of one deployment as the report's live view does."""
    if not NGINX.exists():
        print(f"\nlive view: skipped, no nginx at {NGINX}")
        return
    deployed = services[0]  # judged against its own repository: every answer ok
    scratch = root / "live"
    scratch.mkdir()
    template = Template.clone_from(str(releases.template), scratch / "template.git")
    judge = Judge(template, Renderer(template.clone, scratch), Loader(scratch / "code"))
    clone = read_clone(deployed.work)
    baseline = template.release_at(template.commit_of(clone.commit or "") or "")
    tls = certificates(scratch, "bench")
    started = time.perf_counter()
    judge.code(template.commit_of(clone.commit or "") or "", clone.answers)
    loading = time.perf_counter() - started
    print(
        f"\nlive view: one deployment behind nginx (TLS), the template's code "
        f"loaded once in {loading:.2f} s"
    )
    print(
        f"{'URLs':>8}  {'fetch s':>7}  {'judge s':>7}  {'total s':>7}  {'ms per URL':>10}  {'x first':>7}"
    )
    with (
        served(deployed.work) as port,
        nginx(scratch / "nginx", [Front(port, tls)]) as fronts,
    ):
        first = None
        for count in counts:
            urls = [f"{fronts[0].url}?n={number}" for number in range(count)]
            best = None
            for _ in range(repeat):
                started = time.perf_counter()
                fetches = Fetches(urls, str(tls.ca), timeout=10)
                fetched = [fetches.result(url) for url in urls]
                fetches.close()
                middle = time.perf_counter()
                verdicts = [judge.judge(f, clone, baseline)[0] for f in fetched]
                ended = time.perf_counter()
                if set(verdicts) != {"ok"}:
                    sys.exit(f"the deployment was not judged ok: {set(verdicts)}")
                if best is None or ended - started < best[2]:
                    best = (middle - started, ended - middle, ended - started)
            first = first or best[2] / count
            print(
                f"{count:>8}  {best[0]:>7.2f}  {best[1]:>7.2f}  {best[2]:>7.2f}  "
                f"{best[2] / count * 1000:>10.1f}  {best[2] / count / first:>7.2f}"
            )


if __name__ == "__main__":
    main()
