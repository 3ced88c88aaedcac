"""The container, CI workflow and dependency files a bake ships, linted and read."""

import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from testkit import TEMPLATE
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


def stages(project: Path) -> list[list[str]]:
    """The Dockerfile's stages, each as its instructions ("OP args"), FROM first."""
    found: list[list[str]] = []
    for op, arg in dockerfile_instructions(project):
        if op == "FROM":
            found.append([])
        found[-1].append(f"{op} {arg}")
    return found


def test_dockerfile_builds_the_lock_with_uv_and_runs_without_it(project):
    """The build stage installs exactly uv.lock (uv pinned, from PyPI), the
    dependencies before the code so code changes reuse that layer; the runtime
    stage takes only the environment and gunicorn's settings."""
    build, runtime = stages(project)
    assert build[0] == "FROM python:3.11-slim AS build"
    assert f"RUN pip install --no-cache-dir uv=={uv_pins(project)[0]}" in build
    sync = [i for i, s in enumerate(build) if " uv sync " in s]
    assert [build[i].split(" uv ", 1)[1] for i in sync] == [
        "sync --locked --no-dev --no-install-project",
        "sync --locked --no-dev --no-editable",
    ]
    assert build.index("COPY pyproject.toml uv.lock ./") < sync[0]
    assert sync[0] < build.index("COPY src ./src") < sync[1]
    assert runtime[0] == "FROM python:3.11-slim"
    copies = [s for s in runtime if s.startswith("COPY")]
    assert copies == [
        "COPY --from=build /app/.venv ./.venv",
        "COPY gunicorn.conf.py ./",
    ]
    assert not [s for s in runtime if s.startswith("RUN") and "useradd" not in s]
    assert any(
        s.startswith("ENV ") and 'PATH="/app/.venv/bin:$PATH"' in s for s in runtime
    )


def uv_pins(project: Path) -> list[str]:
    """Every uv version the bake pins: the image's, CI's and pre-commit's."""
    texts = [
        (project / name).read_text()
        for name in (
            "Dockerfile",
            ".github/workflows/ci.yml",
            ".pre-commit-config.yaml",
        )
    ]
    return [pin for text in texts for pin in re.findall(r"\buv==([\w.]+)", text)]


def test_one_uv_version_everywhere_the_same_as_the_templates(project):
    pins = uv_pins(project)
    assert len(pins) == 3, pins
    makefile = (TEMPLATE / "Makefile").read_text()
    assert set(pins) == set(re.findall(r"^UV_VERSION := ([\w.]+)$", makefile, re.M))


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
        'uv sync --locked --python "$(command -v python)"',
        "uv run --no-sync ruff check .",
        "uv run --no-sync ruff format --check .",
        "uv run --no-sync mypy",
        "uv run --no-sync pytest",
    ):
        assert command in commands
    assert "requirements" not in commands


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


def test_dependabot_watches_the_uv_lock_and_actions(project):
    config = yaml.safe_load((project / ".github/dependabot.yml").read_text())
    assert {u["package-ecosystem"] for u in config["updates"]} == {
        "uv",
        "github-actions",
    }


def runtime_requirements(project: Path, destination: Path) -> Path:
    """The runtime part of uv.lock as a requirements file, as ``uv export`` writes one."""
    exported = destination / "requirements.txt"
    run(
        BIN / "uv", "export", "--frozen", "--no-dev", "--no-emit-project", "--quiet",
        "--format", "requirements-txt", "--output-file", exported, cwd=project,
    )  # fmt: skip
    return exported


def pinned_versions(requirements: Path) -> dict[str, str]:
    text = requirements.read_text()
    return dict(re.findall(r"^([a-z0-9-]+)==([\w.]+) \\$", text, re.MULTILINE))


@pytest.mark.parametrize("python_version", CI_PYTHONS)
def test_lock_installs_with_its_hashes_on_every_python_ci_tests(
    project, tmp_path, python_version
):
    """The lock's runtime part installs on each Python the workflow tests: every
    pin has a wheel for it on the runner (x86_64 Linux), pure Python or built for
    that version, and that wheel's hash is in the lock. A pin with only an sdist
    would need a compiler in the image; a wheel that is not the locked one fails
    --require-hashes."""
    requirements = runtime_requirements(project, tmp_path)
    run(
        BIN / "python", "-m", "pip", "download", "--quiet", "--no-deps",
        "--only-binary=:all:", "--implementation", "cp",
        "--python-version", python_version, "--platform", "manylinux_2_17_x86_64",
        "--require-hashes", "--requirement", requirements, "--dest", tmp_path / "wheels",
        cwd=project,
    )  # fmt: skip
    wheels = sorted(path.name for path in (tmp_path / "wheels").glob("*.whl"))
    assert len(wheels) == len(pinned_versions(requirements)), wheels


def test_the_lock_pins_every_package_with_hashes_from_pypi_alone(project):
    lock = tomllib.loads((project / "uv.lock").read_text())
    packages = {p["name"]: p for p in lock["package"]}
    assert {
        "flask", "werkzeug", "gunicorn", "jinja2", "markupsafe", "itsdangerous",
        "click", "blinker", "pytest", "ruff", "mypy", "hypothesis", "trustme",
    } <= set(packages)  # fmt: skip
    own = packages.pop(project.name)
    assert own["source"] == {"editable": "."}
    for name, package in packages.items():
        assert package["source"] == {"registry": "https://pypi.org/simple"}, name
        files = [*package.get("wheels", []), *filter(None, [package.get("sdist")])]
        assert files, name
        for file in files:
            assert file["hash"].startswith("sha256:"), name
            assert file["url"].startswith("https://files.pythonhosted.org/"), name
    assert not list(project.glob("requirements*.txt"))  # no second lock
