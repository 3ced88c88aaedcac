"""The template repository's own workflows (.github/workflows at the top, never
baked): linted as a bake's are, pinned, least privilege, and wired to what they run."""

import base64
import re

import pytest

from testkit import TEMPLATE
from testkit.commands import clean_env, run
from tests.test_production_files import (
    CI_PYTHONS,
    actions_used,
    lint_workflows,
    workflow,
)

WORKFLOWS = ["tests.yml", "release.yml", "fleet.yml"]
SHARDS = "${{ fromJSON(vars.FLEET_SHARDS || '[1, 2, 3, 4]') }}"  # the one setting
SHARD = "${{ matrix.shard }}/${{ strategy.job-total }}"  # K/N, N from the list


def text(name: str) -> str:
    return (TEMPLATE / ".github/workflows" / name).read_text()


def commands(job: dict) -> str:
    return "\n".join(step["run"] for step in job["steps"] if "run" in step)


def step_using(job: dict, action: str) -> dict:
    (step,) = [s for s in job["steps"] if s.get("uses", "").startswith(f"{action}@")]
    return step


def test_every_workflow_is_listed_here():
    found = sorted(p.name for p in (TEMPLATE / ".github/workflows").iterdir())
    assert found == sorted(WORKFLOWS)


def test_they_are_valid_and_pass_zizmor():
    lint_workflows(TEMPLATE, *WORKFLOWS)


@pytest.mark.parametrize("name", WORKFLOWS)
def test_actions_are_pinned_to_a_commit_with_its_version_beside_it(name):
    used = actions_used(TEMPLATE, name)
    assert used
    for action in used:
        assert re.search(
            rf"uses: {re.escape(action)} # v\d+\.\d+\.\d+\n", text(name)
        ), f"{action} has no '# vX.Y.Z' comment"


@pytest.mark.parametrize("name", WORKFLOWS)
def test_least_privilege_no_stored_credentials_and_a_timeout_on_every_job(name):
    flow = workflow(TEMPLATE, name)
    assert "permissions" in flow  # set at the top: none, or read-only
    assert flow["permissions"] in ({}, {"contents": "read"})
    for job_name, job in flow["jobs"].items():
        rights = job.get("permissions", flow["permissions"])
        assert set(rights.values()) <= {"read", "write"}, job_name
        if "write" in rights.values():
            assert (name, job_name, rights) == (
                "release.yml",
                "release",
                {"contents": "write"},  # the GitHub release, and nothing else
            )
        assert 0 < job["timeout-minutes"] <= 60, job_name
        checkout = step_using(job, "actions/checkout")
        assert checkout["with"]["persist-credentials"] is False, job_name
    # The one secret any of them reads is the GitHub App's key: never a person's token.
    assert set(re.findall(r"secrets\.(\w+)", text(name))) <= {"FLEET_APP_PRIVATE_KEY"}


def test_tests_run_make_test_on_every_supported_python_in_debian():
    flow = workflow(TEMPLATE, "tests.yml")
    assert set(flow[True]) == {"pull_request", "push"}  # YAML 1.1 reads `on` as True
    assert flow[True]["push"] == {"branches": ["main"]}
    (job,) = flow["jobs"].values()
    assert job["strategy"]["matrix"] == {"python-version": CI_PYTHONS}
    assert job["strategy"]["fail-fast"] is False
    assert job["container"] == "python:${{ matrix.python-version }}-slim-bookworm"
    assert job["steps"][-1]["run"] == "make test"  # which installs Chromium and nginx


def app_token(job: dict) -> dict:
    return step_using(job, "actions/create-github-app-token")


def test_release_checks_the_tag_publishes_then_updates_every_shard():
    flow = workflow(TEMPLATE, "release.yml")
    assert flow[True] == {"push": {"tags": ["v*.*.*"]}}
    release, update = flow["jobs"]["release"], flow["jobs"]["update"]
    fetch, check = [step for step in release["steps"] if "run" in step]
    # The tags as pushed (checkout may have made one lightweight) and the
    # default branch, fetched before the check reads them (test below).
    assert fetch["env"] == {
        "BRANCH": "${{ github.event.repository.default_branch }}",
        "TOKEN": "${{ github.token }}",  # the job's own, contents: write
    }
    assert check["run"].split() == [
        "python3", ".github/scripts/release.py", '"$TAG"', "--branch", '"$BRANCH"',
        "\\", "--notes", '"$RUNNER_TEMP/notes.md"', "--publish",
        "--output", '"$GITHUB_OUTPUT"',
    ]  # fmt: skip
    assert check["env"]["TAG"] == "${{ github.ref_name }}"
    for step in (fetch, check):
        assert step["env"]["BRANCH"] == "${{ github.event.repository.default_branch }}"
    assert step_using(release, "actions/checkout")["with"]["fetch-depth"] == 0
    assert update["needs"] == "release"
    # Only the newest release updates the services (release.py says which).
    assert release["outputs"] == {"newest": "${{ steps.release.outputs.newest }}"}
    assert check["id"] == "release"
    assert update["if"] == "${{ needs.release.outputs.newest == 'true' }}"
    # Runs of the update job go one after the other, never racing a push.
    assert update["concurrency"] == {
        "group": "release-update-${{ matrix.shard }}",
        "cancel-in-progress": False,
    }
    assert update["strategy"]["matrix"]["shard"] == SHARDS
    run = commands(update)
    assert '-m fleet update "$FLEET_FILE" --push --shard "$SHARD"' in run
    assert "--test" not in run  # a service's code never runs beside the App's token
    assert "pull_requests.py" in run.split("--json build/update.json")[1]
    token = app_token(update)
    assert token["with"]["repositories"] == "${{ steps.shard.outputs.repositories }}"
    assert {k: v for k, v in token["with"].items() if k.startswith("permission-")} == {
        "permission-contents": "write",
        "permission-pull-requests": "write",
    }
    assert flow["concurrency"]["cancel-in-progress"] is False


def test_the_release_fetch_authenticates_with_the_jobs_token_for_that_command_alone(
    tmp_path,
):
    """Its run text, run by bash with a fake git first on PATH: the token (from
    env, never ${{ }} in the script) goes as git's basic auth header, one -c for
    this command, none stored, its encoded form masked in the log; the tags and
    the default branch, forced."""
    (fetch,) = [
        step
        for step in workflow(TEMPLATE, "release.yml")["jobs"]["release"]["steps"]
        if step.get("name", "").startswith("Fetch")
    ]
    assert "${{" not in fetch["run"]
    fake = tmp_path / "git"
    fake.write_text('#!/bin/sh\nprintf "%s\\n" "$@" >> "$ARGS"\n')
    fake.chmod(0o755)
    token = "ghs_" + "x" * 60  # base64 of it is past 76 characters: no wrapping
    env = clean_env(
        PATH=f"{tmp_path}:/usr/bin:/bin", ARGS=str(tmp_path / "args"),
        TOKEN=token, BRANCH="trunk",
    )  # fmt: skip
    ran = run("bash", "-eo", "pipefail", "-c", fetch["run"], cwd=tmp_path, env=env)
    # One git command (no `git config` stores it), whose -c sets the header.
    config, header, *fetched = (tmp_path / "args").read_text().splitlines()
    assert config == "-c"
    name, basic = header.split("=", 1)
    assert name == "http.extraheader"
    scheme, encoded = basic.split(": basic ")
    assert scheme == "AUTHORIZATION"
    assert (
        base64.b64decode(encoded, validate=True).decode() == f"x-access-token:{token}"
    )
    assert ran.stdout == f"::add-mask::{encoded}\n"
    assert fetched == [
        "fetch", "--no-tags", "--force", "origin", "refs/tags/*:refs/tags/*",
        "refs/heads/trunk:refs/remotes/origin/trunk",
    ]  # fmt: skip


def test_fleet_reports_daily_in_shards_merged_into_one_page_that_can_fail():
    flow = workflow(TEMPLATE, "fleet.yml")
    triggers = flow[True]
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    (schedule,) = triggers["schedule"]
    minute, hour, *every_day = schedule["cron"].split()
    assert every_day == ["*", "*", "*"]
    assert minute.isdigit()
    assert hour.isdigit()
    report, merge = flow["jobs"]["report"], flow["jobs"]["merge"]
    assert report["strategy"]["matrix"]["shard"] == SHARDS
    # Internal URLs need a runner inside the network: one variable names it.
    assert report["runs-on"] == "${{ vars.FLEET_RUNNER || 'ubuntu-24.04' }}"
    assert merge["runs-on"] == "ubuntu-24.04"  # it reads the shards' JSON alone
    assert '-m fleet report "$FLEET_FILE" --shard "$SHARD" --json "$PART"' in commands(
        report
    )
    token = app_token(report)
    assert token["with"]["permission-contents"] == "read"
    assert [k for k in token["with"] if k.startswith("permission-")] == [
        "permission-contents"
    ]
    assert merge["needs"] == "report"
    assert (
        merge["if"] == "${{ !cancelled() }}"
    )  # a failed shard: merge names what is missing
    assert (
        '-m fleet merge "$FLEET_FILE" build/parts/*.json \\\n'
        "  --json build/fleet.json --html build/fleet.html"
    ) in commands(merge)
    kept = merge["steps"][-1]
    assert kept["uses"].startswith("actions/upload-artifact@")
    assert kept["if"] == "${{ !cancelled() }}"  # the page too when the report fails
    assert kept["with"]["path"].split() == ["build/fleet.html", "build/fleet.json"]


@pytest.mark.parametrize("name", ["release.yml", "fleet.yml"])
def test_a_shard_jobs_token_reaches_only_its_services(name):
    (job,) = [j for j in workflow(TEMPLATE, name)["jobs"].values() if "strategy" in j]
    names = [step.get("id") for step in job["steps"]]
    assert names.index("shard") < names.index("app")
    shard = job["steps"][names.index("shard")]
    assert shard["env"]["SHARD"] == SHARD
    assert ".github/scripts/shard_repositories.py" in shard["run"]
    token = app_token(job)
    assert token["if"] == "${{ steps.shard.outputs.repositories != '' }}"
    assert token["with"]["owner"] == "${{ github.repository_owner }}"
    for step in job["steps"]:
        if "${{ steps.app.outputs.token }}" in str(step.get("env", {})):
            assert "run" in step  # the token goes to gh and git, never to an action
