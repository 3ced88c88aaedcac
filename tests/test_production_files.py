"""The container, CI workflow and dependency files a bake ships, linted and read."""

import re
import sys
from pathlib import Path

import pytest
import yaml

from testkit.bake import bake
from testkit.commands import run

BIN = Path(sys.executable).parent  # the linters come with the test environment
CI_PYTHONS = ["3.11", "3.12", "3.13", "3.14"]  # what the baked workflow tests on


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return bake(tmp_path_factory.mktemp("production"))


def dockerfile_instructions(project: Path) -> list[tuple[str, str]]:
    text = (project / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        tuple(line.split(None, 1))
        for line in lines
        if line and not line.startswith("#")
    ]


def test_dockerfile_passes_hadolint(project):
    run(BIN / "hadolint", "Dockerfile", cwd=project)


def test_dockerfile_runs_gunicorn_as_a_non_root_user(project):
    instructions = dockerfile_instructions(project)
    users = [arg for op, arg in instructions if op == "USER"]
    assert users == ["10001"]
    user_index = instructions.index(("USER", "10001"))
    cmd_index = next(i for i, (op, _) in enumerate(instructions) if op == "CMD")
    assert user_index < cmd_index
    assert instructions[cmd_index][1] == '["gunicorn", "--config", "gunicorn.conf.py"]'
    assert instructions[0][1].startswith("python:3.11-slim")


def test_dockerfile_installs_locked_dependencies_before_the_code(project):
    instructions = dockerfile_instructions(project)
    order = [f"{op} {arg}" for op, arg in instructions]
    lock_install = next(i for i, s in enumerate(order) if "--require-hashes" in s)
    code_copy = order.index("COPY src ./src")
    assert order.index("COPY requirements.txt ./") < lock_install < code_copy


def test_dockerfile_healthcheck_hits_healthz(project):
    healthchecks = [
        arg for op, arg in dockerfile_instructions(project) if op == "HEALTHCHECK"
    ]
    assert len(healthchecks) == 1
    assert "http://127.0.0.1:8000/healthz" in healthchecks[0]


def test_dockerignore_keeps_secrets_and_environments_out(project):
    ignored = (project / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".env", "tests"} <= set(ignored)


WORKFLOWS = ["ci.yml", "baseline.yml"]


def workflow(project: Path, name: str = "ci.yml") -> dict:
    return yaml.safe_load((project / ".github/workflows" / name).read_text())


def test_every_workflow_is_listed_here(project):
    assert sorted(p.name for p in (project / ".github/workflows").iterdir()) == sorted(
        WORKFLOWS
    )


def lint_workflows(root: Path, *names: str) -> None:
    """GitHub's schema, then zizmor's audits (offline), over the workflows named."""
    paths = [f".github/workflows/{name}" for name in names]
    run(
        BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *paths,
        cwd=root,
    )  # fmt: skip
    run(BIN / "zizmor", "--offline", *paths, cwd=root)


@pytest.mark.parametrize("name", WORKFLOWS)
def test_workflow_is_valid_and_passes_zizmor(project, name):
    lint_workflows(project, name)


def test_dependabot_config_is_valid(project):
    run(
        BIN / "check-jsonschema",
        "--builtin-schema",
        "vendor.dependabot",
        ".github/dependabot.yml",
        cwd=project,
    )


def test_workflow_runs_lint_and_tests_on_push_and_pull_request(project):
    ci = workflow(project)
    assert set(ci[True]) == {"push", "pull_request"}  # YAML 1.1 reads `on` as True
    assert ci["permissions"] == {"contents": "read"}
    steps = ci["jobs"]["test"]["steps"]
    commands = "\n".join(step.get("run", "") for step in steps)
    for command in (
        "--require-hashes --requirement requirements.txt",
        "ruff check .",
        "ruff format --check .",
        "mypy",
        "pytest",
    ):
        assert command in commands


def test_baseline_workflow_checks_the_template_weekly_with_read_only_rights(project):
    baseline = workflow(project, "baseline.yml")
    triggers = baseline[True]  # YAML 1.1 reads `on` as True
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    assert len(triggers["schedule"]) == 1
    *_, day, month, weekday = triggers["schedule"][0]["cron"].split()
    assert (day, month) == ("*", "*")
    assert weekday.isdigit()  # once a week
    assert baseline["permissions"] == {}
    (job,) = baseline["jobs"].values()
    assert job["permissions"] == {"contents": "read"}
    commands = [step.get("run", "") for step in job["steps"]]
    assert "python .github/baseline_check.py" in commands
    assert any(
        re.fullmatch(r"python -m pip install cruft==[\d.]+", c) for c in commands
    )


def test_workflow_tests_every_supported_python(project):
    job = workflow(project)["jobs"]["test"]
    assert job["strategy"]["matrix"] == {"python-version": CI_PYTHONS}
    assert job["strategy"]["fail-fast"] is False
    setup = [
        step
        for step in job["steps"]
        if step.get("uses", "").startswith("actions/setup-python@")
    ]
    assert [step["with"] for step in setup] == [
        {"python-version": "${{ matrix.python-version }}"}
    ]
    requires = (project / "pyproject.toml").read_text()
    assert f'requires-python = ">={CI_PYTHONS[0]}"' in requires


def actions_used(root: Path, name: str) -> list[str]:
    """Every step's ``uses:``, each asserted pinned to a full commit."""
    uses = [
        step["uses"]
        for job in workflow(root, name)["jobs"].values()
        for step in job["steps"]
        if "uses" in step
    ]
    for action in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), action
    return uses


@pytest.mark.parametrize("name", WORKFLOWS)
def test_workflow_actions_are_pinned_to_commits(project, name):
    assert actions_used(project, name)


def test_dependabot_watches_pip_and_actions(project):
    config = yaml.safe_load((project / ".github/dependabot.yml").read_text())
    assert {u["package-ecosystem"] for u in config["updates"]} == {
        "pip",
        "github-actions",
    }


def pinned_versions(project: Path) -> dict[str, str]:
    text = (project / "requirements.txt").read_text()
    return dict(re.findall(r"^([a-z0-9-]+)==([\w.]+) \\$", text, re.MULTILINE))


@pytest.mark.parametrize("python_version", CI_PYTHONS)
def test_lock_installs_with_its_hashes_on_every_python_ci_tests(
    project, tmp_path, python_version
):
    """The lock installs on each Python the workflow tests: every pin has a wheel
    for it on the runner (x86_64 Linux), pure Python or built for that version,
    and that wheel's hash is in the lock. A pin with only an sdist would need a
    compiler in CI; a wheel published after the lock was made fails
    --require-hashes."""
    run(
        BIN / "python",
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        "--platform",
        "manylinux_2_17_x86_64",
        "--require-hashes",
        "--requirement",
        "requirements.txt",
        "--dest",
        tmp_path,
        cwd=project,
    )
    wheels = sorted(path.name for path in tmp_path.glob("*.whl"))
    assert len(wheels) == len(pinned_versions(project)), wheels


def test_lock_pins_every_runtime_dependency_with_hashes(project):
    text = (project / "requirements.txt").read_text()
    pinned = pinned_versions(project)
    assert {
        "flask",
        "werkzeug",
        "gunicorn",
        "jinja2",
        "markupsafe",
        "itsdangerous",
        "click",
        "blinker",
    } <= set(pinned)
    for name in pinned:
        block = text.split(f"{name}==", 1)[1].split("\n    # via", 1)[0]
        assert "--hash=sha256:" in block, name
    assert "file:" not in text
    assert not re.search(r"^--(extra-)?index-url", text, re.MULTILINE)
