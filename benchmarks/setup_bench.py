"""From a fresh bake to a green suite: uv's path against the pip path it replaced.

    uv path:  uv sync --locked && uv run pytest
    pip path: python3 -m venv .venv && .venv/bin/pip install -e . <the dev group>
              && .venv/bin/pytest   (releases before 3.2.0: pip install -e '.[dev]')

Each path runs on a bake of its own with a cold cache (an empty folder:
everything comes from PyPI) and then a warm one (the cache the cold run
filled, as for a second service on the same machine). Figures, not a test:
the target for the uv path with a warm cache is 15 s on the 2-core machine.
Run from the template repository: ``.venv/bin/python benchmarks/setup_bench.py``.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from testkit.bake import bake

UV = Path(sys.executable).parent / "uv"


def timed(commands: list[list[str]], cwd: Path, env: dict[str, str]) -> list[float]:
    """Seconds each command took; a failing one stops the benchmark with its output."""
    times = []
    for command in commands:
        started = time.perf_counter()
        result = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, check=False
        )
        times.append(time.perf_counter() - started)
        if result.returncode != 0:
            sys.exit(
                f"error: {' '.join(command)} failed:\n{result.stdout}{result.stderr}"
            )
    return times


def uv_path(project: Path, cache: Path) -> tuple[list[list[str]], dict[str, str]]:
    env = {**os.environ, "UV_CACHE_DIR": str(cache), "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    python = ["--python", sys.executable]
    return [
        [str(UV), "sync", "--locked", "--quiet", *python],
        [str(UV), "run", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider"],
    ], env


def pip_path(project: Path, cache: Path) -> tuple[list[list[str]], dict[str, str]]:
    env = {
        **os.environ,
        "PIP_CACHE_DIR": str(cache),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    env.pop("PIP_NO_CACHE_DIR", None)
    groups = tomllib.loads((project / "pyproject.toml").read_text())[
        "dependency-groups"
    ]
    venv = project / ".venv" / "bin"
    return [
        [sys.executable, "-m", "venv", str(project / ".venv")],
        [str(venv / "pip"), "install", "--quiet", "-e", ".", *groups["dev"]],
        [str(venv / "pytest"), "-q", "-p", "no:cacheprovider"],
    ], env


PATHS = {
    "uv sync --locked && uv run pytest": uv_path,
    "pip install -e + pytest": pip_path,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--repeat", type=int, default=1, help="warm runs per path (best kept)"
    )
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="setup-bench-") as directory:
        root = Path(directory)
        os.environ["COOKIECUTTER_CONFIG"] = str(root / "cookiecutter.yaml")
        (root / "cookiecutter.yaml").write_text(
            f"replay_dir: {root / 'replay'}\ncookiecutters_dir: {root / 'clones'}\n"
        )
        rows = {}
        for number, (name, path) in enumerate(PATHS.items()):
            cache = root / f"cache-{number}"
            runs = []  # (total, bake and install, suite) per run, the cold one first
            for run in range(1 + arguments.repeat):
                started = time.perf_counter()
                project = bake(root / f"{number}-{run}")
                baked = time.perf_counter() - started
                commands, env = path(project, cache)
                *install, suite = timed(commands, project, env)
                runs.append((baked + sum(install) + suite, baked + sum(install), suite))
            rows[name] = (runs[0], min(runs[1:]))
        print(
            f"load average {os.getloadavg()[0]:.2f}; seconds from a fresh bake to a "
            "green suite (bake and install + suite)"
        )
        print(f"{'path':<36} {'cold cache':>20} {'warm cache':>20}")
        for name, runs in rows.items():
            cells = [f"{t:.1f} ({i:.1f} + {s:.1f})" for t, i, s in runs]
            print(f"{name:<36} {cells[0]:>20} {cells[1]:>20}")
        (uv_cold, uv_warm), (pip_cold, pip_warm) = rows.values()
        print(
            f"uv / pip, whole: cold {uv_cold[0] / pip_cold[0]:.2f}, warm "
            f"{uv_warm[0] / pip_warm[0]:.2f}; bake and install: cold "
            f"{uv_cold[1] / pip_cold[1]:.2f}, warm {uv_warm[1] / pip_warm[1]:.2f}"
        )


if __name__ == "__main__":
    main()
