"""Baking the template and running what was baked."""

import json
import subprocess
from pathlib import Path

from cookiecutter.main import cookiecutter

from testkit import TEMPLATE
from testkit.commands import clean_env, python


def bake(output_dir: Path, template: Path = TEMPLATE, **answers) -> Path:
    """Bake ``template`` (this one) with ``answers`` through cookiecutter's API."""
    return Path(
        cookiecutter(
            str(template),
            no_input=True,
            extra_context=answers,
            output_dir=str(output_dir),
        )
    )


def bake_pythonpath(project: Path) -> dict[str, str]:
    """Environment for a process that imports a bake's package from its ``src/``.

    Bakes are never installed into the shared .venv (many share one package
    name), so the processes that serve or probe one find it on PYTHONPATH
    (and bench.py, which imports it in-process, puts it on sys.path). This is
    the only path the tests and benchmarks set, and it is the bake's: our own
    helpers come from the installed ``testkit``.
    """
    return {"PYTHONPATH": str(project / "src")}


def baked_pytest(
    project: Path, *tests: str, check: bool = True, thorough: bool = False
) -> subprocess.CompletedProcess:
    """The baked project's own test suite (or ``tests``, files of it), in this shared environment.

    It finds its package through its own pytest ``pythonpath = ["src"]``. Its
    property tests run briefly unless ``thorough`` (many bakes run them), and
    Hypothesis keeps its example database beside the project, not in it, so
    the project's tree stays as baked.
    """
    return python(
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-n",
        "0",
        *tests,
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


def live_headers(project: Path, package: str) -> dict:
    """What the baked app really sends, keyed by "scheme path" (see testkit.probe)."""
    result = python(
        "-m",
        "testkit.probe",
        package,
        cwd=project,
        env=clean_env(**bake_pythonpath(project)),
    )
    return json.loads(result.stdout)
