"""A service baked with cruft takes a template policy change with `cruft update`."""

import json
import subprocess
import sys
from pathlib import Path

from testkit.bake import bake_pythonpath, baked_pytest
from testkit.commands import GIT_IDENTITY, clean_env, git, python, run
from testkit.template_copy import template_repository

CRUFT = Path(sys.executable).parent / "cruft"
SECURITY = "{{cookiecutter.project_slug}}/src/{{cookiecutter.package_name}}/security/__init__.py"
PINNED_TESTS = "{{cookiecutter.project_slug}}/tests/test_security_headers.py"


def cruft(
    *args: str | Path, cwd: Path, check: bool = True
) -> subprocess.CompletedProcess:
    return run(CRUFT, *args, cwd=cwd, env=clean_env(**GIT_IDENTITY), check=check)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def manual_cruft_hook(service: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    """The baked project's opt-in pre-commit hook (its env installs from PyPI)."""
    env = clean_env(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), **GIT_IDENTITY)
    return python(
        "-m",
        "pre_commit",
        "run",
        "--hook-stage",
        "manual",
        "cruft-check",
        cwd=service,
        env=env,
        check=False,
        timeout=600,
    )


def test_policy_change_reaches_a_service_through_cruft_update(tmp_path):
    template = template_repository(tmp_path / "template")
    services = tmp_path / "services"
    services.mkdir()
    cruft("create", template, "--no-input", "--output-dir", services, cwd=tmp_path)
    service = services / "example-service"
    assert json.loads((service / ".cruft.json").read_text())["template"] == str(
        template
    )
    git("init", "-q", cwd=service)
    git("add", "-A", cwd=service)
    git("commit", "-qm", "Baked", cwd=service)
    cruft("check", cwd=service)

    # The service team adds a route in a file the template does not own.
    routes = service / "src/example_service/routes.py"
    routes.write_text(
        routes.read_text()
        + '\n\n@bp.get("/team")\ndef team() -> str:\n    return "ours"\n'
    )
    git("commit", "-qam", "Our own route", cwd=service)

    # The platform team adds a header to the baseline and to the tests that pin it.
    edit(
        template / SECURITY,
        '        ("Cross-Origin-Resource-Policy", "same-origin"),\n',
        '        ("Cross-Origin-Resource-Policy", "same-origin"),\n        ("Origin-Agent-Cluster", "?1"),\n',
    )
    edit(
        template / PINNED_TESTS,
        '    "Cross-Origin-Resource-Policy": "same-origin",\n',
        '    "Cross-Origin-Resource-Policy": "same-origin",\n    "Origin-Agent-Cluster": "?1",\n',
    )
    git("commit", "-qam", "Baseline: add Origin-Agent-Cluster", cwd=template)

    stale = cruft("check", cwd=service, check=False)
    assert stale.returncode == 1
    assert "out of date" in stale.stdout + stale.stderr
    assert manual_cruft_hook(service, tmp_path).returncode == 1

    cruft("update", "--skip-apply-ask", cwd=service)
    cruft("check", cwd=service)
    git("add", "-A", cwd=service)
    git("commit", "-qm", "Take the new baseline", cwd=service)
    assert manual_cruft_hook(service, tmp_path).returncode == 0
    assert (
        '("Origin-Agent-Cluster", "?1")'
        in (service / "src/example_service/security/__init__.py").read_text()
    )
    assert '@bp.get("/team")' in routes.read_text()

    baked_pytest(service)
    sent = python(
        "-c",
        "from example_service import create_app\n"
        "client = create_app({'TESTING': True}).test_client()\n"
        "print(client.get('/').headers['Origin-Agent-Cluster'], client.get('/team').text)",
        cwd=service,
        env=clean_env(**bake_pythonpath(service)),
    )
    assert sent.stdout.split() == ["?1", "ours"]
