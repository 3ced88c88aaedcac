"""A service's own tests on its update branch, in a fresh virtual environment.

This runs the service's code: do it on a CI runner, never where the platform
team's credentials are.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

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


def service_environment() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if name in PASSED or name.startswith(PASSED_PREFIXES)
    }


def run_service_tests(work: Path, venv: Path, log: Path) -> bool:
    """Install the service with its dev extras into ``venv`` and run its pytest.

    Every step's output goes to ``log``, for the team to read.
    """
    env = service_environment()
    env["HYPOTHESIS_STORAGE_DIRECTORY"] = str(venv.parent / f"{venv.name}-hypothesis")
    python = venv / "bin" / "python"
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if Path(uv).exists():
        steps = [
            [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
            [uv, "pip", "install", "--quiet", "--python", str(python), f"{work}[dev]"],
        ]
    else:
        steps = [
            [sys.executable, "-m", "venv", str(venv)],
            [str(python), "-m", "pip", "install", "--quiet", f"{work}[dev]"],
        ]
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
