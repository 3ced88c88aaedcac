"""A service's own tests on its update branch, in a fresh virtual environment.

This runs the service's code: do it on a CI runner, never where the platform
team's credentials are. The code runs in an export of the branch's files, not in
the clone the fleet then pushes from, with an empty home of its own.
"""

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

from fleet.git import archive
from fleet.lock import uv_binary

TIMEOUT = 900  # seconds for install and tests together, per service

# What the service's code may see of this environment: where things are, the
# language, and how to reach the package index; never a token or a cloud key.
PASSED = {
    "PATH", "HOME", "LANG", "LANGUAGE", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR",
    "UV_CACHE_DIR", "UV_INDEX", "UV_DEFAULT_INDEX", "UV_INDEX_URL",
    "UV_EXTRA_INDEX_URL", "UV_FIND_LINKS", "UV_NO_CACHE", "UV_OFFLINE",
    "UV_LINK_MODE", "UV_NATIVE_TLS", "PIP_CACHE_DIR", "PIP_NO_CACHE_DIR",
    "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX",
    "PIP_TRUSTED_HOST", "PIP_CERT",
}  # fmt: skip
PASSED_PREFIXES = ("LC_", "HYPOTHESIS_")


def service_environment(home: Path, uv: str | None) -> dict[str, str]:
    """The allowed variables, ``HOME`` an empty folder, the caches where they were."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name in PASSED or name.startswith(PASSED_PREFIXES)
    }
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    if uv and "UV_CACHE_DIR" not in env:
        found = subprocess.run(
            [uv, "cache", "dir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        env["UV_CACHE_DIR"] = found or str(cache / "uv")
    env.setdefault("PIP_CACHE_DIR", str(cache / "pip"))
    env["HOME"] = str(home)
    return env


def exported(clone: Path, destination: Path) -> Path:
    """The files of the clone's HEAD, without its ``.git``."""
    destination.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive(clone))) as tar:
        tar.extractall(destination, filter="data")
    return destination


def install_steps(work: Path, venv: Path, uv: str | None) -> list[list[str]] | str:
    """How to install the service and its test tools into ``venv``, or why it cannot be.

    A service with ``uv.lock`` installs exactly it, as its CI and image do
    (``--locked`` refuses a lock out of step with pyproject.toml); one without
    (baked before the template moved to uv) installs its ``dev`` extra.
    """
    python = str(venv / "bin" / "python")
    if (work / "uv.lock").is_file():
        if not uv:
            return "uv is needed to install a service with uv.lock: pip install uv\n"
        return [[uv, "sync", "--quiet", "--locked", "--python", sys.executable]]
    if uv:
        return [
            [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
            [uv, "pip", "install", "--quiet", "--python", python, f"{work}[dev]"],
        ]
    return [
        [sys.executable, "-m", "venv", str(venv)],
        [python, "-m", "pip", "install", "--quiet", f"{work}[dev]"],
    ]


def run_service_tests(clone: Path, scratch: Path, log: Path) -> bool:
    """Install the service with its test tools and run its pytest, all in ``scratch``.

    Every step's output goes to ``log``, for the team to read.
    """
    venv = scratch / "venv"
    home = scratch / "home"
    home.mkdir(parents=True)
    try:
        work = exported(clone, scratch / "tree")
    except tarfile.TarError as error:
        log.write_text(f"cannot export the branch's files: {error}\n", encoding="utf-8")
        return False
    python = venv / "bin" / "python"
    uv = uv_binary()
    env = service_environment(home, uv)
    env["HYPOTHESIS_STORAGE_DIRECTORY"] = str(scratch / "hypothesis")
    env["UV_PROJECT_ENVIRONMENT"] = str(venv)  # uv sync's, outside the service's tree
    steps = install_steps(work, venv, uv)
    if isinstance(steps, str):
        log.write_text(steps, encoding="utf-8")
        return False
    steps.append([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"])
    with log.open("w", encoding="utf-8") as output:
        for step in steps:
            output.write(f"$ {' '.join(step)}\n")
            output.flush()
            try:
                result = subprocess.run(
                    step, cwd=work, env=env, stdout=output, stderr=subprocess.STDOUT,
                    text=True, timeout=TIMEOUT, check=False,
                )  # fmt: skip
            except subprocess.TimeoutExpired:
                output.write(f"timed out after {TIMEOUT} s\n")
                return False
            if result.returncode != 0:
                return False
    return True
