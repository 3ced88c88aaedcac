"""The baked pre-commit config works for real, with hooks installed from PyPI."""

import pytest

from testkit import TEMPLATE
from testkit.commands import pre_commit_env, python, run
from testkit.template_copy import template_repository

pytestmark = pytest.mark.xdist_group(
    "pre-commit"
)  # one worker builds any missing hook environment, while the others test on


def pre_commit_all_files(project):
    run("git", "init", "-q", cwd=project)
    run("git", "add", "-A", cwd=project)
    return python(
        "-m",
        "pre_commit",
        "run",
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
