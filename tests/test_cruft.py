"""A service baked with cruft takes a template policy change with `cruft update`."""

import json
import subprocess
import sys
from pathlib import Path

from testkit.bake import bake_pythonpath, baked_pytest
from testkit.commands import GIT_IDENTITY, clean_env, git, pre_commit_env, python, run
from testkit.services import CAMERA, CDN_AND_LEGACY_CHARTS, EXCEPTION, edit
from testkit.template_copy import template_repository

CRUFT = Path(sys.executable).parent / "cruft"
POLICY = (
    "{{cookiecutter.project_slug}}/src/{{cookiecutter.package_name}}/security/policy.py"
)
PINNED_TESTS = "{{cookiecutter.project_slug}}/tests/test_security_headers.py"


def cruft(
    *args: str | Path, cwd: Path, check: bool = True
) -> subprocess.CompletedProcess:
    return run(CRUFT, *args, cwd=cwd, env=clean_env(**GIT_IDENTITY), check=check)


def manual_cruft_hook(service: Path) -> subprocess.CompletedProcess:
    """The baked project's opt-in pre-commit hook (its env installs from PyPI)."""
    env = pre_commit_env(**GIT_IDENTITY)
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

    # The service team extends the policy in its settings and lets a partner
    # frame one new view, in files the template does not own.
    config = service / "src/example_service/config.py"
    for setting, value in (
        ("CSP_EXTEND: dict[str, list[str]]", CDN_AND_LEGACY_CHARTS),
        ("PERMISSIONS_ALLOW: dict[str, list[str]]", CAMERA),
        ("SECURITY_EXCEPTIONS: dict[str, str]", EXCEPTION),
    ):
        edit(config, f"{setting} = {{}}", f"{setting} = {value!r}")
    routes = service / "src/example_service/routes.py"
    routes.write_text(
        routes.read_text()
        + "\n\nfrom .security import override\n\n\n"
        + '@bp.get("/partner")\n'
        + '@override(frame_ancestors=["https://partner.example.com"])\n'
        + 'def partner() -> str:\n    return "ours"\n'
    )
    git("commit", "-qam", "Our CDN, and a page our partner frames", cwd=service)

    # The platform team adds a header to the baseline and to the tests that pin it.
    edit(
        template / POLICY,
        '            ("Cross-Origin-Resource-Policy", "same-origin"),\n',
        '            ("Cross-Origin-Resource-Policy", "same-origin"),\n            ("Origin-Agent-Cluster", "?1"),\n',
    )
    edit(
        template / PINNED_TESTS,
        '    "Cross-Origin-Resource-Policy": "same-origin",\n',
        '    "Cross-Origin-Resource-Policy": "same-origin",\n    "Origin-Agent-Cluster": "?1",\n',
    )
    edit(
        template / PINNED_TESTS,
        '    "Cross-Origin-Resource-Policy",\n',
        '    "Cross-Origin-Resource-Policy",\n    "Origin-Agent-Cluster",\n',
    )
    git("commit", "-qam", "Baseline: add Origin-Agent-Cluster", cwd=template)

    stale = cruft("check", cwd=service, check=False)
    assert stale.returncode == 1
    assert "out of date" in stale.stdout + stale.stderr
    assert manual_cruft_hook(service).returncode == 1

    cruft("update", "--skip-apply-ask", cwd=service)
    cruft("check", cwd=service)
    git("add", "-A", cwd=service)
    git("commit", "-qm", "Take the new baseline", cwd=service)
    assert manual_cruft_hook(service).returncode == 0
    assert (
        '("Origin-Agent-Cluster", "?1")'
        in (service / "src/example_service/security/policy.py").read_text()
    )
    assert '@bp.get("/partner")' in routes.read_text()
    assert repr(EXCEPTION) in config.read_text()

    baked_pytest(service)
    sent = python(
        "-c",
        "import json\n"
        "from example_service import create_app\n"
        "client = create_app({'TESTING': True}).test_client()\n"
        "page, partner = client.get('/'), client.get('/partner')\n"
        "print(json.dumps([dict(page.headers), dict(partner.headers), partner.text]))",
        cwd=service,
        env=clean_env(**bake_pythonpath(service)),
    )
    page, partner, text = json.loads(sent.stdout)
    assert page["Origin-Agent-Cluster"] == partner["Origin-Agent-Cluster"] == "?1"
    assert "img-src 'self' https://cdn.example.com" in page["Content-Security-Policy"]
    assert (
        "script-src 'self' 'unsafe-eval' 'report-sample'"
        in page["Content-Security-Policy"]
    )
    assert "camera=(self)" in page["Permissions-Policy"]
    assert page["X-Frame-Options"] == "SAMEORIGIN"
    assert (
        "frame-ancestors 'self' https://partner.example.com"
        in partner["Content-Security-Policy"]
    )
    assert "X-Frame-Options" not in partner
    assert text == "ours"
