"""Running commands for the tests: a clean environment, and failures that show their output."""

import os
import subprocess
import sys
from pathlib import Path

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a baked project's tools: no FLASK_* or PYTEST_* leaking in."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "PYTEST_"))
    }
    env.update(extra)
    return env


def run(
    *args: str | Path, cwd: Path, check: bool = True, **kwargs
) -> subprocess.CompletedProcess:
    """Run a command; on failure the assertion shows its whole output."""
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=kwargs.pop("env", None) or clean_env(),
        timeout=kwargs.pop("timeout", 300),
        check=False,
        **kwargs,
    )
    if check:
        assert result.returncode == 0, (
            f"{' '.join(map(str, args))} exited {result.returncode} in {cwd}\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


def python(*args: str | Path, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    """This environment's Python, the one the baked projects share in the tests."""
    return run(sys.executable, *args, cwd=cwd, **kwargs)


def git(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """git with a fixed identity, so commits work on a machine with none set."""
    return run("git", *args, cwd=cwd, env=clean_env(**GIT_IDENTITY))
