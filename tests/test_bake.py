"""The default bake and the command line people actually type."""

from pathlib import Path

import pytest

from testkit import TEMPLATE
from testkit.bake import bake_pythonpath, baked_pytest, live_headers
from testkit.commands import clean_env, python

BAKED_FILES = {
    ".dockerignore",
    ".github/baseline_check.py",
    ".github/dependabot.yml",
    ".github/workflows/baseline.yml",
    ".github/workflows/ci.yml",
    ".gitignore",
    "Dockerfile",
    "gunicorn.conf.py",
    ".pre-commit-config.yaml",
    "README.md",
    "docs/baseline.md",
    "uv.lock",
    "deploy/kubernetes.yaml",
    "deploy/nginx.conf",
    "pyproject.toml",
    "src/example_service/__init__.py",
    "src/example_service/config.py",
    "src/example_service/routes.py",
    "src/example_service/security/__init__.py",
    "src/example_service/security/check.py",
    "src/example_service/security/cli.py",
    "src/example_service/security/compare.py",
    "src/example_service/security/cross_origin.py",
    "src/example_service/security/csp.py",
    "src/example_service/security/fetch.py",
    "src/example_service/security/floor.py",
    "src/example_service/security/integrity.py",
    "src/example_service/security/live.py",
    "src/example_service/security/nonce.py",
    "src/example_service/security/policy.py",
    "src/example_service/security/aggregate.py",
    "src/example_service/security/reports.py",
    "src/example_service/static/favicon.svg",
    "src/example_service/static/style.css",
    "src/example_service/templates/index.html",
    "src/example_service/wsgi.py",
    "tests/__init__.py",
    "tests/conftest.py",
    "tests/test_production.py",
    "tests/test_routes.py",
    "tests/test_security_check.py",
    "tests/test_security_cross_origin.py",
    "tests/test_security_cross_origin_settings.py",
    "tests/test_security_csp.py",
    "tests/test_security_headers.py",
    "tests/test_security_integrity.py",
    "tests/test_security_live.py",
    "tests/test_security_policy.py",
    "tests/test_security_report_log.py",
    "tests/test_security_reports.py",
}


def test_defaults_bake_the_service_layout(baked_defaults):
    files = {
        p.relative_to(baked_defaults).as_posix()
        for p in baked_defaults.rglob("*")
        if p.is_file()
    }
    assert baked_defaults.name == "example-service"
    assert files == BAKED_FILES


def test_command_line_bakes_hsts_off_and_deny_and_says_what_next(tmp_path):
    result = python(
        "-m",
        "cookiecutter",
        "--no-input",
        TEMPLATE,
        "-o",
        tmp_path,
        "project_name=Payments API",
        "hsts=no",
        "frame_policy=DENY",
        cwd=tmp_path,
    )
    project = (tmp_path / "payments-api").resolve()
    assert (
        f"\nBaked {project}. Next, in that directory:\n  uv sync\n  uv run pytest\n"
        in result.stderr
    )
    report = live_headers(tmp_path / "payments-api", "payments_api")
    https = dict(report["https /"]["headers"])
    assert https["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none';" in https["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in https


def baked_tests_after_editing(
    project: Path, module: str, old: str, new: str, *tests: str
):
    """Break a baked security module on purpose, then run the baked tests that catch it.

    Only the files named: when they fail, the whole suite a team runs fails.
    The property test is left out: it fails too, and Hypothesis would then
    spend seconds shrinking its example, for a failure no assert here reads.
    """
    path = project / "src/example_service/security" / module
    source = path.read_text()
    assert old in source
    path.write_text(source.replace(old, new))
    return baked_pytest(project, *tests, "--deselect", PROPERTY_TEST, check=False)


PROPERTY_TEST = "tests/test_security_headers.py::test_the_hook_adds_each_missing_header_once_and_keeps_the_views"


def test_baked_tests_catch_a_weakened_policy(baked_defaults):
    result = baked_tests_after_editing(
        baked_defaults,
        "policy.py",
        '("X-Content-Type-Options", "nosniff"),',
        "",
        "tests/test_security_headers.py",
        "tests/test_security_live.py",
    )
    assert result.returncode == 1
    assert "X-Content-Type-Options" in result.stdout


def test_baked_tests_catch_trusted_types_or_integrity_weakened(baked_defaults):
    project = baked_defaults
    pinned = ("tests/test_security_headers.py", "-k", "baseline_exactly")
    result = baked_tests_after_editing(
        project,
        "integrity.py",
        'BLOCKED = "blocked-destinations=(script)"',
        'BLOCKED = "blocked-destinations=()"',
        *pinned,
    )
    assert result.returncode == 1
    assert "AssertionError: assert ['blocked-destinations=()" in result.stdout
    result = baked_tests_after_editing(
        project,
        "csp.py",
        '"trusted-types": ("\'none\'",),',
        '"trusted-types": ("*",),',
        *pinned,
    )
    assert result.returncode == 1
    assert "trusted-types *" in result.stdout


def test_baked_tests_catch_a_clobbering_hook(baked_defaults):
    result = baked_tests_after_editing(
        baked_defaults,
        "__init__.py",
        "if lowered not in present:",
        "if True:",
        "tests/test_security_headers.py",
        "tests/test_security_live.py",
        "tests/test_routes.py",
    )
    assert result.returncode == 1
    assert "test_a_views_own_header_wins" in result.stdout
    assert "test_cache_is_public_for_a_minute" in result.stdout


@pytest.mark.parametrize("command", [["security", "show"], ["run", "--port", "0"]])
def test_flask_commands_stop_in_one_line_on_a_policy_below_the_floor(
    baked_defaults, command
):
    result = python(
        "-m",
        "flask",
        "--app",
        "example_service",
        *command,
        cwd=baked_defaults,
        check=False,
        timeout=60,
        env=clean_env(
            **bake_pythonpath(baked_defaults),
            FLASK_SECRET_KEY="test-only-secret",  # noqa: S106
            FLASK_CSP_EXTEND='{"script-src": ["*"]}',
        ),
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: CSP_EXTEND: script-src * is refused: * allows every origin; to allow "
        'it anyway, add SECURITY_EXCEPTIONS["script-src *"] = "<the reason>"'
    ]
