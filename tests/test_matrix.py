"""Every valid answer set bakes a project that passes its own checks.

The expected headers are written out per answer set, not computed by the code
under test: a template change that alters what a service sends must show up
here as a changed row.
"""

import re
import sys
import tomllib
from pathlib import Path
from typing import NamedTuple

import pytest

from testkit.bake import bake, baked_lint, baked_pytest, live_headers
from testkit.commands import CACHE, python, run
from testkit.lock import LOCK, UV_LOCK, templated
from tests.expected import (
    CSP_NONE,
    CSP_SELF,
    HTTPS_ONLY,
    INTEGRITY_POLICY,
    INTEGRITY_POLICY_OVER_HTTPS,
    OVER_HTTPS,
    SAME_FOR_EVERY_ANSWER,
)


class Row(NamedTuple):
    answers: dict
    package: str
    x_frame_options: str
    content_security_policy: str
    hsts: str | None  # on https; never on http


YEAR = "max-age=31536000"

ON, OFF = True, False
PKG = "example_service"

MATRIX = {
    # hsts on: includeSubDomains x preload (preload only where valid)
    "hsts-on-subdomains-SAMEORIGIN": Row(
        {}, PKG, "SAMEORIGIN", CSP_SELF, f"{YEAR}; includeSubDomains"
    ),
    "hsts-on-subdomains-DENY": Row(
        {"frame_policy": "DENY"}, PKG, "DENY", CSP_NONE, f"{YEAR}; includeSubDomains"
    ),
    "hsts-on-SAMEORIGIN": Row(
        {"hsts_include_subdomains": OFF}, PKG, "SAMEORIGIN", CSP_SELF, YEAR
    ),
    "hsts-on-DENY": Row(
        {"hsts_include_subdomains": OFF, "frame_policy": "DENY"},
        PKG,
        "DENY",
        CSP_NONE,
        YEAR,
    ),
    "hsts-on-subdomains-preload-SAMEORIGIN": Row(
        {"hsts_preload": ON},
        PKG,
        "SAMEORIGIN",
        CSP_SELF,
        f"{YEAR}; includeSubDomains; preload",
    ),
    "hsts-on-subdomains-preload-DENY": Row(
        {"hsts_preload": ON, "frame_policy": "DENY"},
        PKG,
        "DENY",
        CSP_NONE,
        f"{YEAR}; includeSubDomains; preload",
    ),
    # hsts off: the subdomain answer has no effect, preload is refused
    "hsts-off-subdomains-SAMEORIGIN": Row(
        {"hsts": OFF}, PKG, "SAMEORIGIN", CSP_SELF, None
    ),
    "hsts-off-subdomains-DENY": Row(
        {"hsts": OFF, "frame_policy": "DENY"}, PKG, "DENY", CSP_NONE, None
    ),
    "hsts-off-SAMEORIGIN": Row(
        {"hsts": OFF, "hsts_include_subdomains": OFF}, PKG, "SAMEORIGIN", CSP_SELF, None
    ),
    "hsts-off-DENY": Row(
        {"hsts": OFF, "hsts_include_subdomains": OFF, "frame_policy": "DENY"},
        PKG,
        "DENY",
        CSP_NONE,
        None,
    ),
    # other names everywhere, a two-year max-age
    "naming-payments-api": Row(
        {
            "project_name": "Payments API",
            "project_slug": "payments-gateway",
            "package_name": "payments_core",
            "description": "Takes card payments.",
            "author_name": "Payments Team",
            "author_email": "payments@example.org",
            "hsts_max_age": "63072000",
            "hsts_preload": ON,
            "frame_policy": "DENY",
        },
        "payments_core",
        "DENY",
        CSP_NONE,
        "max-age=63072000; includeSubDomains; preload",
    ),
}

# What each response's own Cache-Control is; the baseline's no-store elsewhere.
CACHE_CONTROL = {
    "/cache": "public, max-age=60",
    "/static/style.css": "no-cache",  # Flask's static view sets its own
    "/favicon.ico": "no-cache",  # served by send_from_directory, likewise
}
STATUS = {"/no-such-page": 404}


# The row of cookiecutter's defaults is also in `make check`, the quick loop.
DEFAULTS = next(name for name, row in MATRIX.items() if not row.answers)


@pytest.fixture(
    params=[
        pytest.param(
            name, id=name, marks=[pytest.mark.check] if name == DEFAULTS else []
        )
        for name in MATRIX
    ],
    scope="module",
)
def combination(request, tmp_path_factory) -> tuple[Row, Path]:
    row = MATRIX[request.param]
    return row, bake(tmp_path_factory.mktemp(request.param), **row.answers)


def test_baked_test_suite_passes(combination):
    """The defaults' suite explores every property thoroughly (as a service's
    own CI does); the other rows briefly, as many copies of it run here."""
    row, project = combination
    result = baked_pytest(project, thorough=row is MATRIX[DEFAULTS])
    assert " passed" in result.stdout


def test_baked_code_is_lint_clean(combination):
    _, project = combination
    baked_lint(project)


def test_baked_code_passes_mypy_strict(combination, worker_id):
    """Every row, checked whole; the cache (kept between runs, one per xdist worker)
    spares re-reading Flask's and pytest's types, and each bake's files are new."""
    _, project = combination
    cache = CACHE / "mypy" / worker_id
    python("-m", "mypy", "--cache-dir", cache, cwd=project)


def test_the_lock_is_the_one_uv_makes_for_the_baked_pyproject(combination):
    """uv takes the baked lock as up to date for this bake's pyproject.toml
    (offline: the bake needs no network, and neither does this), its entries
    are in uv's order, and it is the template's lock with only the service's
    entry placed, so ``uv lock`` would write the same file: from the index the
    fleet locks update branches from, with no configuration file of anyone's."""
    _, project = combination
    run(*UV_LOCK, "--check", "--offline", "--python", sys.executable, cwd=project)
    lock = (project / "uv.lock").read_text()
    names = [package["name"] for package in tomllib.loads(lock)["package"]]
    assert names == sorted(names)
    assert project.name in names
    assert templated(lock, project.name) == LOCK.read_text()


def test_live_headers_match_the_answers(combination):
    row, project = combination
    report = live_headers(project, row.package)
    for request_line, response in report.items():
        scheme, path = request_line.split(" ", 1)
        expected = {
            **SAME_FOR_EVERY_ANSWER,
            "X-Frame-Options": row.x_frame_options,
            "Content-Security-Policy": row.content_security_policy
            + (OVER_HTTPS if scheme == "https" else ""),
            "Integrity-Policy": INTEGRITY_POLICY
            + (INTEGRITY_POLICY_OVER_HTTPS if scheme == "https" else ""),
            "Cache-Control": CACHE_CONTROL.get(path, "no-store, max-age=0"),
            "Strict-Transport-Security": row.hsts if scheme == "https" else None,
            **{
                name: value if scheme == "https" else None
                for name, value in HTTPS_ONLY.items()
            },
        }
        assert response["status"] == STATUS.get(path, 200), request_line
        for name, value in expected.items():
            sent = [v for k, v in response["headers"] if k.lower() == name.lower()]
            assert sent == ([value] if value else []), f"{request_line}: {name}"


GITHUB_EXPRESSION = re.compile(r"\$\{\{ [\w.-]+ \}\}")
# The baked manual and security package show how a page writes its nonce and
# a script's integrity, in Flask's Jinja.
JINJA_EXAMPLES = (
    "{{ csp_nonce() }}",
    "{{ sri('app.js') }}",
    "{{ url_for('static', filename='app.js') }}",
)


def test_no_template_syntax_is_left(combination):
    _, project = combination
    for path in project.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text()
        assert "cookiecutter" not in text, path
        if "templates" not in path.parts:  # Flask's own Jinja templates
            text = GITHUB_EXPRESSION.sub("", text)  # ${{ }} is the workflow's own
            for example in JINJA_EXAMPLES:
                text = text.replace(example, "")
            assert "{{" not in text, path
            assert "{%" not in text, path


def test_baked_package_has_the_chosen_name(combination):
    row, project = combination
    assert project.name == row.answers.get("project_slug", "example-service")
    assert (project / "src" / row.package / "security" / "__init__.py").is_file()
