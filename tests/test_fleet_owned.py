"""What the template owns is data baked into the service; the docs and the fleet tool read it.

Also: the README's bake commands name the newest release, and a service's
exception register is read from config.py without running it.
"""

import json
import re
import sys
import tomllib

import pytest

from fleet.render import changed, is_owned, owned_patterns, read_tree
from fleet.service import Clone, security_exceptions
from testkit import TEMPLATE
from testkit.commands import run
from testkit.services import (
    bake_service,
    commit_and_push,
    edit,
    fleet_toml,
    newest_changelog_release,
)


@pytest.fixture(scope="module")
def baked(tmp_path_factory):
    from testkit.bake import bake

    return bake(tmp_path_factory.mktemp("owned"), project_name="Ledger")


def test_the_owned_list_is_data_in_the_bakes_pyproject(baked):
    listed = tomllib.loads((baked / "pyproject.toml").read_text())["tool"]["baseline"]
    assert listed["owned"] == owned_patterns(read_tree(baked))
    assert "src/ledger/security/" in listed["owned"]


def test_it_covers_the_security_package_and_pinned_tests_new_files_too(baked):
    patterns = owned_patterns(read_tree(baked))
    files = read_tree(baked)
    security = [p for p in files if p.startswith("src/ledger/security/")]
    pinned = [p for p in files if re.fullmatch(r"tests/test_security_\w+\.py", p)]
    assert len(security) >= 5
    assert len(pinned) >= 3
    for path in [
        *security,
        *pinned,
        "src/ledger/security/a_module_added_later.py",
        "tests/test_security_added_later.py",
        "gunicorn.conf.py",
        "Dockerfile",
        ".dockerignore",
        ".github/workflows/ci.yml",
        ".pre-commit-config.yaml",
        "deploy/nginx.conf",
    ]:
        assert is_owned(path, patterns), path
    for path in [
        "src/ledger/config.py",
        "src/ledger/routes.py",
        "src/ledger/templates/index.html",
        "tests/test_routes.py",
        "tests/conftest.py",
        "pyproject.toml",
        "README.md",
        "src/ledger/security_notes.md",
    ]:
        assert not is_owned(path, patterns), path


def test_the_baked_readme_lists_exactly_the_owned_patterns(baked):
    readme = (baked / "README.md").read_text()
    start = readme.index("`[tool.baseline] owned`")
    section = readme[start : readme.index("Everything else is yours", start)]
    bullets = "\n".join(
        line for line in section.splitlines() if line.startswith(("- ", "  "))
    )
    named = set(re.findall(r"`([^`\s]+)`", bullets)) - {"override", "EDIT"}
    assert named == set(owned_patterns(read_tree(baked)))


def test_the_template_docs_point_to_the_list():
    for doc in ("README.md", "CONTRIBUTING.md"):
        assert "`[tool.baseline] owned`" in (TEMPLATE / doc).read_text(), doc


def test_the_readmes_bake_commands_name_the_newest_release():
    newest = newest_changelog_release()
    readme = (TEMPLATE / "README.md").read_text()
    for command in ("cruft create", "cookiecutter gh:"):
        (line,) = [line for line in readme.splitlines() if line.startswith(command)]
        assert line.endswith(f"--checkout v{newest}"), line
    assert set(re.findall(r"--checkout (v[\d.]*\d)", readme)) == {f"v{newest}"}


def config_clone(source: str | None) -> Clone:
    files = {} if source is None else {"src/pkg/config.py": source.encode()}
    return Clone(files, commit="c0ffee", answers={}, package="pkg")


@pytest.mark.parametrize(
    ("source", "register"),
    [
        ('SECURITY_EXCEPTIONS: dict[str, str] = {"a": "why"}\n', {"a": "why"}),
        ('SECURITY_EXCEPTIONS = {"a": "why", "b": "because"}\n', {"a": "why", "b": "because"}),
        ("SECURITY_EXCEPTIONS: dict[str, str] = {}\n", {}),
        ("HSTS = True\n", {}),  # not set: the baked default, none
        ('WHY = "w"\nSECURITY_EXCEPTIONS = {"a": WHY}\n', None),
        ('SECURITY_EXCEPTIONS = {}\nSECURITY_EXCEPTIONS["a"] = "why"\n', None),
        ("SECURITY_EXCEPTIONS = load()\n", None),
        ('SECURITY_EXCEPTIONS = {"a": 1}\n', None),
        ('import os\nif os.environ:\n    SECURITY_EXCEPTIONS = {"a": "b"}\n', None),
        ("SECURITY_EXCEPTIONS = {\n", None),  # not Python
        (None, None),  # no config.py
    ],
    ids=[
        "annotated", "plain", "empty", "unset", "a-name", "item-set-later",
        "a-call", "not-text", "in-a-branch", "syntax-error", "no-config",
    ],
)  # fmt: skip
def test_the_exception_register_is_read_as_a_literal_or_not_at_all(source, register):
    assert security_exceptions(config_clone(source)) == register


def test_cross_origin_protection_turned_off_is_in_the_register(baked):
    """Its exception is read like any other, from the baked config.py as a team edits it."""
    baked_config = (baked / "src/ledger/config.py").read_text()
    edited = baked_config.replace(
        "CROSS_ORIGIN_PROTECTION = True", "CROSS_ORIGIN_PROTECTION = False"
    ).replace(
        "SECURITY_EXCEPTIONS: dict[str, str] = {}",
        'SECURITY_EXCEPTIONS: dict[str, str] = {"CROSS_ORIGIN_PROTECTION=false": "SEC-77"}',
    )
    assert edited.count("SEC-77") == 1
    assert "CROSS_ORIGIN_PROTECTION = False" in edited
    register = security_exceptions(config_clone(edited))
    assert register == {"CROSS_ORIGIN_PROTECTION=false": "SEC-77"}


def test_reading_the_register_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    source = f'open({str(marker)!r}, "w")\nSECURITY_EXCEPTIONS = {{"a": "b"}}\n'
    assert security_exceptions(config_clone(source)) == {"a": "b"}
    assert not marker.exists()


FILLED_IN = [  # (as baked, as a team fills it in): the lines marked EDIT
    ("server app-1:8000", "server 10.0.0.11:8000"),
    (
        "server app-2:8000 max_fails=1 fail_timeout=10s;  # EDIT\n",
        "server 10.0.0.12:8000 max_fails=1 fail_timeout=10s;  # EDIT\n"
        "        server 10.0.0.13:8000 max_fails=1 fail_timeout=10s;  # EDIT\n",
    ),
    ("/etc/nginx/tls/fullchain.pem", "/run/secrets/chain.pem"),
    ("client_max_body_size 64k;", "client_max_body_size 10m;"),
]


@pytest.mark.xdist_group("fleet")  # the fleet is built once, on one worker
def test_the_lines_marked_edit_may_differ_and_no_other(fleet, tmp_path):
    newest = fleet.releases.tags[2]
    filled = bake_service(tmp_path, fleet.releases.template, "filled-in", newest)
    for old, new in FILLED_IN:
        edit(filled.work / "deploy/nginx.conf", old, new)
    edit(filled.work / "deploy/kubernetes.yaml", "registry.example.com/", "ghcr.io/")
    commit_and_push(filled, "Our replicas, certificate and registry")
    weakened = bake_service(tmp_path, fleet.releases.template, "weakened", newest)
    edit(
        weakened.work / "deploy/nginx.conf",
        "server app-1:8000",
        "server 10.0.0.11:8000",
    )
    edit(
        weakened.work / "deploy/nginx.conf", "TLSv1.2 TLSv1.3", "TLSv1 TLSv1.2 TLSv1.3"
    )
    commit_and_push(weakened, "Old clients")
    fleet_file = tmp_path / "FLEET.toml"
    fleet_file.write_text(fleet_toml(fleet.releases, [filled, weakened]))
    run(sys.executable, "-m", "fleet", "report", fleet_file, "--json", tmp_path / "rows.json",
        cwd=tmp_path, check=False)  # fmt: skip
    rows = {
        row["name"]: row for row in json.loads((tmp_path / "rows.json").read_text())
    }
    assert rows["filled-in"]["error"] is None
    assert rows["filled-in"]["owned_changed"] == []
    assert rows["weakened"]["owned_changed"] == ["deploy/nginx.conf"]


BAKED_LINES = b"a;\n    server a:1;  # EDIT\nc;\n"


@pytest.mark.parametrize(
    ("service", "drift"),
    [
        (BAKED_LINES, False),
        (b"a;\n    server 10.0.0.1:8000;  # EDIT\nc;\n", False),  # the team's value
        (b"a;\nc;\n", False),  # an EDIT line removed (one replica fewer)
        (b"a;\n    server a:1;  # EDIT\n    server b:1;  # EDIT\nc;\n", False),
        (b"a;\n    server b:1;\nc;\n", True),  # the marker dropped
        (b"a;\n    server a:1;  # EDIT\n    server b:1;\nc;\n", True),  # unmarked
        (b"a;\n    ssl_protocols TLSv1;  # EDIT\nc;\n", True),  # another directive
        (b"a;\n    server b:1; ssl_protocols TLSv1;  # EDIT\nc;\n", True),  # two
        (b"a;\n    server a:1;  # EDIT\nC;\n", True),
        (b"A;\n    server a:1;  # EDIT\nc;\n", True),
        (b"a;\n    server a:1;  # EDIT\nc;\nd;\n", True),
        (None, True),
    ],
)
def test_what_counts_as_changed(service, drift):
    assert changed(BAKED_LINES, service) is drift


def test_a_comment_that_mentions_edit_is_not_a_line_to_fill():
    baked = b"a;\n# EDIT: the certificate below.\nc;\n"
    assert changed(baked, b"a;\nadd_header Content-Security-Policy x;  # EDIT\nc;\n")
    assert changed(baked, b"a;\nc;\n")
