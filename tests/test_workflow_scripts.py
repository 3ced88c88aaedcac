"""The scripts the Release workflow's update job runs (.github/scripts): one pull
request per update branch, a shard's repositories. The release's gate and its
GitHub release are test_workflow_release.py's.

The release and pull request scripts run with the standard library alone
(``python -I -S``: no venv, no site-packages), as the workflows run them.
GitHub is out of reach here, so `gh` is a fake on PATH (``fake_github``, for
both files) that keeps what it was asked, and a little of GitHub's state
(releases, pull requests), in files.
"""

import json
import sys
from pathlib import Path

import pytest

from fleet import shard
from fleet.fleet_file import load
from testkit import TEMPLATE
from testkit.commands import clean_env, run

SCRIPTS = TEMPLATE / ".github/scripts"

FAKE_GH = """#!{python} -IS
import json, os, sys
from pathlib import Path

args = sys.argv[1:]
with open(os.environ["FAKE_GH_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
state_file = Path(os.environ["FAKE_GH_STATE"])
state = json.loads(state_file.read_text()) if state_file.exists() else {{"releases": {{}}, "prs": []}}


def option(name):
    return args[args.index(name) + 1]


command = args[:2]
if command == ["release", "view"]:
    if args[2] not in state["releases"]:
        sys.exit("release not found")
elif command in (["release", "create"], ["release", "edit"]):
    state["releases"][args[2]] = Path(option("--notes-file")).read_text()
elif command == ["pr", "list"]:
    found = [pr for pr in state["prs"] if (pr["repo"], pr["head"]) == (option("--repo"), option("--head"))]
    print(json.dumps([{{"number": pr["number"], "state": pr["state"]}} for pr in found]))
elif command == ["pr", "create"]:
    if option("--repo").endswith("/locked"):
        sys.exit("pull request create failed: GraphQL: Resource not accessible by integration (createPullRequest)")
    number = len(state["prs"]) + 1
    state["prs"].append({{"number": number, "repo": option("--repo"), "head": option("--head"),
                         "state": "OPEN", "title": option("--title"),
                         "body": Path(option("--body-file")).read_text()}})
    print(f"https://github.com/{{option('--repo')}}/pull/{{number}}")
elif command == ["pr", "edit"]:
    (pr,) = [pr for pr in state["prs"] if pr["number"] == int(args[2])]
    pr["title"], pr["body"] = option("--title"), Path(option("--body-file")).read_text()
else:
    sys.exit(f"fake gh: {{args}} is not what the scripts ask")
state_file.write_text(json.dumps(state))
"""


def fake_github(tmp_path: Path):
    """A fake gh first on PATH; returns (its calls, GitHub's state) readers and the env."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(FAKE_GH.format(python=sys.executable))
    gh.chmod(0o755)
    log, state = tmp_path / "gh-calls.jsonl", tmp_path / "gh-state.json"
    env = clean_env(
        PATH=f"{bin_dir}:/usr/bin:/bin",
        FAKE_GH_LOG=str(log),
        FAKE_GH_STATE=str(state),
    )

    class GitHub:
        def calls(self) -> list[list[str]]:
            lines = log.read_text().splitlines() if log.exists() else []
            log.unlink(missing_ok=True)
            return [json.loads(line) for line in lines]

        def state(self) -> dict:
            return json.loads(state.read_text())

    GitHub.env = env
    return GitHub()


@pytest.fixture
def github(tmp_path):
    return fake_github(tmp_path)


# Pull requests, one per pushed branch ---------------------------------------------

FLEET = """template = "https://github.com/org/cookiecutter-flask-baseline"
minimum = "v1.0.0"
"""
SERVICES = {
    "payments": "https://github.com/org/payments",
    "ledger": "git@github.com:org/ledger.git",
    "search": "https://github.com/org/search.git",
    "current": "https://github.com/org/current",
    "unpushed": "https://github.com/org/unpushed",
    "locked": "https://github.com/org/locked",
}


def fleet_toml(services: dict[str, str]) -> str:
    return FLEET + "".join(
        f'\n[[service]]\nname = "{name}"\nrepo = "{repo}"\n'
        for name, repo in services.items()
    )


def outcome(name, pushed, branch="baseline/v1.1.0"):
    return {
        "name": name,
        "baseline": "v1.0.0",
        "release": "v1.1.0",
        "branch": branch,
        "merge": "clean",
        "conflicts": [],
        "tests": None,
        "pushed": pushed,
        "error": None,
    }


@pytest.fixture
def updated(tmp_path):
    """What `fleet update --push --json` leaves: its JSON and each branch's PR.md."""
    (tmp_path / "FLEET.toml").write_text(fleet_toml(SERVICES))
    outcomes = [
        outcome("payments", "pushed"),
        outcome("ledger", "unchanged"),  # on the remote from a run before
        outcome("search", "pushed"),
        outcome("current", None, branch=None) | {"merge": "current"},
        outcome("unpushed", None),  # its push failed: no branch to ask for
    ]
    (tmp_path / "update.json").write_text(json.dumps(outcomes))
    for name in ("payments", "ledger", "search", "unpushed"):
        (tmp_path / "out" / name).mkdir(parents=True)
        (tmp_path / "out" / name / "PR.md").write_text(
            f"# Baseline v1.1.0 for {name}\n\nWhat changed.\n"
        )
    return tmp_path


def pull_requests(where, env):
    return run(
        sys.executable, "-IS", SCRIPTS / "pull_requests.py", where / "FLEET.toml",
        where / "update.json", "--out", where / "out", cwd=where, check=False, env=env,
    )  # fmt: skip


def test_one_pull_request_per_pushed_branch_and_a_rerun_refreshes_it(updated, github):
    first = pull_requests(updated, github.env)
    assert (first.returncode, first.stderr) == (0, "")
    assert first.stdout.splitlines() == [
        "payments baseline/v1.1.0: opened https://github.com/org/payments/pull/1",
        "ledger baseline/v1.1.0: opened https://github.com/org/ledger/pull/2",
        "search baseline/v1.1.0: opened https://github.com/org/search/pull/3",
    ]
    body = str(updated / "out/payments/PR.md")
    assert github.calls()[:2] == [
        ["pr", "list", "--repo", "org/payments", "--head", "baseline/v1.1.0",
         "--state", "all", "--json", "number,state"],
        ["pr", "create", "--repo", "org/payments", "--head", "baseline/v1.1.0",
         "--title", "Baseline v1.1.0 for payments", "--body-file", body],
    ]  # fmt: skip
    (updated / "out/payments/PR.md").write_text(
        "# Baseline v1.1.0 for payments\n\nNow.\n"
    )
    again = pull_requests(updated, github.env)
    assert again.returncode == 0
    assert [line.split(": ")[1] for line in again.stdout.splitlines()] == [
        "refreshed #1",
        "refreshed #2",
        "refreshed #3",
    ]
    asked = github.calls()
    assert [call[:2] for call in asked] == [["pr", "list"], ["pr", "edit"]] * 3
    assert asked[1] == [
        "pr", "edit", "1", "--repo", "org/payments",
        "--title", "Baseline v1.1.0 for payments", "--body-file", body,
    ]  # fmt: skip
    prs = github.state()["prs"]
    assert [(pr["repo"], pr["state"]) for pr in prs] == [
        ("org/payments", "OPEN"),
        ("org/ledger", "OPEN"),
        ("org/search", "OPEN"),
    ]
    assert prs[0]["body"] == "# Baseline v1.1.0 for payments\n\nNow.\n"


def test_a_pull_request_the_team_closed_is_left_closed(updated, github):
    pull_requests(updated, github.env)
    state = github.state()
    state["prs"][0]["state"] = "CLOSED"
    Path(github.env["FAKE_GH_STATE"]).write_text(json.dumps(state))
    github.calls()
    again = pull_requests(updated, github.env)
    assert again.stdout.splitlines()[0] == (
        "payments baseline/v1.1.0: left as it is: #1 is closed"
    )
    assert ["pr", "create"] not in [call[:2] for call in github.calls()]
    assert len(github.state()["prs"]) == 3


def test_where_gh_fails_one_line_says_so_and_the_others_still_get_theirs(
    updated, github
):
    outcomes = json.loads((updated / "update.json").read_text())
    (updated / "update.json").write_text(
        json.dumps([outcome("locked", "pushed"), *outcomes])
    )
    (updated / "out/locked").mkdir()
    (updated / "out/locked/PR.md").write_text("# Baseline v1.1.0 for locked\n")
    result = pull_requests(updated, github.env)
    assert result.returncode == 1
    assert result.stderr == (
        "error: locked (baseline/v1.1.0): gh pr create failed: pull request create "
        "failed: GraphQL: Resource not accessible by integration (createPullRequest)\n"
    )
    assert len(result.stdout.splitlines()) == 3
    assert len(github.state()["prs"]) == 3


# A shard's repositories, for the App token --------------------------------------


def shard_repositories(fleet_file, given, owner="org"):
    return run(
        sys.executable, SCRIPTS / "shard_repositories.py", fleet_file, given, owner,
        cwd=fleet_file.parent, check=False,
    )  # fmt: skip


def test_each_shard_names_exactly_its_services_repositories(tmp_path):
    services = {f"service-{i}": f"https://github.com/org/repo-{i}" for i in range(12)}
    fleet_file = tmp_path / "FLEET.toml"
    fleet_file.write_text(fleet_toml(services))
    named = []
    for k in (1, 2, 3):
        result = shard_repositories(fleet_file, f"{k}/3")
        assert result.returncode == 0, result.stderr
        listed = result.stdout.strip().split(",")
        in_shard = shard.select(load(fleet_file), k, 3).services
        assert listed == [s.repo.rsplit("/", 1)[1] for s in in_shard]
        named += listed
    assert sorted(named) == sorted(url.rsplit("/", 1)[1] for url in services.values())


@pytest.mark.parametrize(
    ("repo", "message"),
    [
        (
            "https://github.com/elsewhere/payments",
            "service 'payments' is https://github.com/elsewhere/payments, not a repository "
            "of org on github.com: the App's token covers one owner's",
        ),
        (
            "https://gitlab.example.com/org",
            "https://gitlab.example.com/org is not a GitHub repository URL "
            "(https://github.com/OWNER/REPO)",
        ),
    ],
    ids=["another-owner", "not-github"],
)
def test_a_service_the_token_cannot_cover_is_refused_in_one_line(
    tmp_path, repo, message
):
    fleet_file = tmp_path / "FLEET.toml"
    fleet_file.write_text(fleet_toml({"payments": repo}))
    result = shard_repositories(fleet_file, "1/1")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"error: {message}\n"
