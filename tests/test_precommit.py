"""The baked pre-commit config works for real, with hooks installed from PyPI."""

from conftest import clean_env, python, run


def test_pre_commit_passes_on_a_fresh_bake_changing_nothing(
    baked_defaults, tmp_path_factory
):
    env = clean_env(PRE_COMMIT_HOME=str(tmp_path_factory.mktemp("pre-commit-home")))
    run("git", "init", "-q", cwd=baked_defaults)
    run("git", "add", "-A", cwd=baked_defaults)
    result = python(
        "-m",
        "pre_commit",
        "run",
        "--all-files",
        cwd=baked_defaults,
        env=env,
        timeout=600,
    )
    assert "ruff check" in result.stdout
    assert "Failed" not in result.stdout
    run("git", "diff", "--exit-code", cwd=baked_defaults)


def test_pre_commit_catches_a_lint_error(baked_defaults, tmp_path_factory):
    env = clean_env(PRE_COMMIT_HOME=str(tmp_path_factory.mktemp("pre-commit-home")))
    routes = baked_defaults / "src" / "example_service" / "routes.py"
    routes.write_text(routes.read_text() + "\nUNDEFINED = not_defined_anywhere\n")
    run("git", "init", "-q", cwd=baked_defaults)
    run("git", "add", "-A", cwd=baked_defaults)
    result = python(
        "-m",
        "pre_commit",
        "run",
        "--all-files",
        cwd=baked_defaults,
        env=env,
        check=False,
        timeout=600,
    )
    assert result.returncode == 1
    assert "F821" in result.stdout
