"""The baked pre-commit config works for real, with hooks installed from PyPI."""

import os
from pathlib import Path

import pytest

from testkit import TEMPLATE
from testkit.commands import clean_env, python, run
from testkit.template_copy import template_repository

pytestmark = pytest.mark.xdist_group(
    "pre-commit"
)  # one worker builds any missing hook environment, while the others test on


CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    / "cookiecutter-flask-baseline"
)


def pre_commit_home() -> Path:
    """pre-commit's store for these tests: outside the clone, kept between runs.

    Building the hook environments from PyPI is most of these tests' time, so
    they are built once per pin (pre-commit keys each by its config and
    additional_dependencies: a changed pin builds anew) and reused by every
    later run and clone. pre-commit locks its store while it installs, so
    runs in parallel are safe. It is apart from the store a developer's own
    pre-commit uses (~/.cache/pre-commit); remove it to rebuild from nothing.
    """
    return CACHE / "pre-commit"


@pytest.fixture(scope="module")
def pre_commit_env() -> dict[str, str]:
    """pre-commit's store, and a mypy cache for what the mypy hook reads.

    pre-commit-uv (in .venv) builds the environments with uv, told to compile
    their bytecode as pip would: where nothing writes bytecode on import
    (PYTHONDONTWRITEBYTECODE), every hook would otherwise compile its imports
    on every run. The mypy cache spares the hook re-reading Flask's and
    pytest's types for every bake (mypy checks each bake's own files anew:
    they are new files).
    """
    return clean_env(
        PRE_COMMIT_HOME=str(pre_commit_home()),
        UV_COMPILE_BYTECODE="1",
        MYPY_CACHE_DIR=str(CACHE / "pre-commit-mypy"),
    )


def pre_commit_all_files(project, env):
    run("git", "init", "-q", cwd=project)
    run("git", "add", "-A", cwd=project)
    return python(
        "-m",
        "pre_commit",
        "run",
        "--all-files",
        cwd=project,
        env=env,
        check=False,
        timeout=600,
    )


def test_pre_commit_passes_on_a_fresh_bake_changing_nothing(
    baked_defaults, pre_commit_env
):
    result = pre_commit_all_files(baked_defaults, pre_commit_env)
    assert result.returncode == 0, result.stdout + result.stderr
    for hook in (
        "ruff check",
        "ruff format",
        "hadolint",
        "check github workflows",
        "zizmor (workflow security)",
    ):
        assert f"{hook}..." in result.stdout
    assert "Failed" not in result.stdout
    run("git", "diff", "--exit-code", cwd=baked_defaults)


def test_pre_commit_catches_a_lint_error(baked_defaults, pre_commit_env):
    routes = baked_defaults / "src" / "example_service" / "routes.py"
    routes.write_text(routes.read_text() + "\nUNDEFINED = not_defined_anywhere\n")
    result = pre_commit_all_files(baked_defaults, pre_commit_env)
    assert result.returncode == 1
    assert "F821" in result.stdout


def test_the_template_repository_passes_its_own_pre_commit(tmp_path, pre_commit_env):
    copy = template_repository(tmp_path)
    result = python(
        "-m",
        "pre_commit",
        "run",
        "--all-files",
        cwd=copy,
        env=pre_commit_env,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ruff check..." in result.stdout
    assert (TEMPLATE / ".pre-commit-config.yaml").is_file()
