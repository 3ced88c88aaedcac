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


# Kept between runs and clones, outside the checkout: what is slow to build
# and the same every time. Remove it to start from nothing.
CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    / "cookiecutter-flask-baseline"
)


def pre_commit_env(**extra: str) -> dict[str, str]:
    """The environment for pre-commit, whose hook environments are built once.

    Building them from PyPI is most of what pre-commit costs (about 50 s), so
    its store is in CACHE: each environment is built once per pin (pre-commit
    keys them by config and additional_dependencies, so a changed pin builds
    anew) and reused by later runs and clones; pre-commit locks the store
    while it installs, so tests in parallel may share it. The mypy hook keeps
    its cache there too, so it reads Flask's and pytest's types once (each
    bake's own files are new, and checked anew).
    """
    return clean_env(
        PRE_COMMIT_HOME=str(CACHE / "pre-commit"),
        MYPY_CACHE_DIR=str(CACHE / "pre-commit-mypy"),
        **extra,
    )


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
