"""The baked pre-commit config works for real, with hooks installed from PyPI."""

import pytest

from testkit import TEMPLATE
from testkit.commands import pre_commit_env, python, run
from testkit.template_copy import template_repository

pytestmark = pytest.mark.xdist_group(
    "pre-commit"
)  # one worker builds any missing hook environment, while the others test on


def pre_commit_all_files(project, *hook: str):
    run("git", "init", "-q", cwd=project)
    run("git", "add", "-A", cwd=project)
    return python(
        "-m",
        "pre_commit",
        "run",
        *hook,
        "--all-files",
        cwd=project,
        env=pre_commit_env(),
        check=False,
        timeout=600,
    )


def test_pre_commit_passes_on_a_fresh_bake_changing_nothing(baked_defaults):
    result = pre_commit_all_files(baked_defaults)
    assert result.returncode == 0, result.stdout + result.stderr
    for hook in (
        "ruff check",
        "ruff format",
        "hadolint",
        "check github workflows",
        "zizmor (workflow security)",
        "uv.lock in step with pyproject.toml",
    ):
        assert f"{hook}..." in result.stdout
    assert "Failed" not in result.stdout
    run("git", "diff", "--exit-code", cwd=baked_defaults)


def test_pre_commit_catches_a_lint_error(baked_defaults):
    routes = baked_defaults / "src" / "example_service" / "routes.py"
    routes.write_text(routes.read_text() + "\nUNDEFINED = not_defined_anywhere\n")
    result = pre_commit_all_files(baked_defaults)
    assert result.returncode == 1
    assert "F821" in result.stdout


def test_pre_commit_refuses_a_lock_out_of_step_with_pyproject(baked_defaults):
    """A dependency added to pyproject.toml by hand, without ``uv lock``."""
    pyproject = baked_defaults / "pyproject.toml"
    text = pyproject.read_text()
    assert '"gunicorn>=23.0,<28"]' in text
    pyproject.write_text(
        text.replace('"gunicorn>=23.0,<28"]', '"gunicorn>=23.0,<28", "blinker>=1.9"]')
    )
    result = pre_commit_all_files(baked_defaults, "uv-lock")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "The lockfile at `uv.lock` needs to be updated" in result.stdout


def test_the_template_repository_passes_its_own_pre_commit(tmp_path):
    copy = template_repository(tmp_path)
    result = python(
        "-m",
        "pre_commit",
        "run",
        "--all-files",
        cwd=copy,
        env=pre_commit_env(),
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ruff check..." in result.stdout
    assert (TEMPLATE / ".pre-commit-config.yaml").is_file()
