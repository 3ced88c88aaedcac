"""Helpers for baking the template and checking what it baked."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
PROBE = Path(__file__).with_name("probe.py")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a baked project's tools: no FLASK_* leaking in."""
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
    return run(sys.executable, *args, cwd=cwd, **kwargs)


def baked_pytest(
    project: Path, check: bool = True, thorough: bool = False
) -> subprocess.CompletedProcess:
    """The baked project's own test suite, in this shared environment.

    Its property tests run briefly unless ``thorough`` (many bakes run them),
    and Hypothesis keeps its example database beside the project, not in it,
    so the project's tree stays as baked."""
    return python(
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-n",
        "0",
        cwd=project,
        check=check,
        env=clean_env(
            HYPOTHESIS_STORAGE_DIRECTORY=str(project.parent / ".hypothesis"),
            HYPOTHESIS_PROFILE="thorough" if thorough else "quick",
        ),
    )


def baked_lint(project: Path) -> None:
    """The baked project's ruff checks, as its CI and pre-commit run them."""
    python("-m", "ruff", "check", "--no-cache", ".", cwd=project)
    python("-m", "ruff", "format", "--check", "--no-cache", ".", cwd=project)


def bake(output_dir: Path, **answers) -> Path:
    """Bake the template with ``answers`` through cookiecutter's API."""
    return Path(
        cookiecutter(
            str(TEMPLATE),
            no_input=True,
            extra_context=answers,
            output_dir=str(output_dir),
        )
    )


def live_headers(project: Path, package: str) -> dict:
    """What the baked app really sends, keyed by "scheme path"."""
    return json.loads(python(PROBE, project, package, cwd=project).stdout)


GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def git(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return run("git", *args, cwd=cwd, env=clean_env(**GIT_IDENTITY))


def template_repository(destination: Path) -> Path:
    """This template as it is now, committed in a git repository of its own."""
    listed = run(
        "git",
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
        cwd=TEMPLATE,
    )
    for name in filter(None, listed.stdout.split("\0")):
        if (TEMPLATE / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(TEMPLATE / name, destination / name)
    git("init", "-q", cwd=destination)
    git("add", "-A", cwd=destination)
    git("commit", "-qm", "Template v1", cwd=destination)
    return destination


@pytest.fixture(autouse=True, scope="session")
def isolated_cookiecutter_config(tmp_path_factory):
    """Keep cookiecutter's replay files and clones out of the home directory."""
    home = tmp_path_factory.mktemp("cookiecutter-home")
    config = home / "config.yaml"
    config.write_text(
        f"replay_dir: {home / 'replay'}\ncookiecutters_dir: {home / 'clones'}\n"
    )
    os.environ["COOKIECUTTER_CONFIG"] = str(config)


@pytest.fixture
def baked_defaults(tmp_path: Path) -> Path:
    return bake(tmp_path)
