"""The scripts the template's workflows run (.github/scripts): the release's gate and
its GitHub release, one pull request per update branch, a shard's repositories.

The release and pull request scripts run with the standard library alone
(``python -I -S``: no venv, no site-packages), as the workflows run them.
GitHub is out of reach here, so `gh` is a fake on PATH that keeps what it was
asked, and a little of GitHub's state (releases, pull requests), in files.
"""

import json
import sys
from pathlib import Path

import pytest

from fleet import shard
from fleet.changelog import sections
from fleet.fleet_file import load
from fleet.releases import version
from testkit import TEMPLATE
from testkit.commands import clean_env, git, run

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


@pytest.fixture
def github(tmp_path):
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


# The release gate ----------------------------------------------------------------

CHANGELOG = """# Changelog

Newest first.

## 1.1.0

Referrer-Policy same-origin.

What a service may have to change: nothing.

## 1.0.0

The first release.
"""


def with_origin(repo: Path, *branches: str) -> Path:
    """``repo`` as a clone has it: a bare origin beside it holding ``branches``,
    and refs/remotes/origin/* for each, as the workflow's checkout fetches them."""
    origin = repo.parent / f"{repo.name}-origin.git"
    git("init", "-q", "--bare", str(origin), cwd=repo.parent)
    git("remote", "add", "origin", str(origin), cwd=repo)
    git("push", "-q", "origin", *branches, cwd=repo)
    return repo


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A repository whose main's CHANGELOG.md has 1.0.0 then 1.1.0 newest, tagged
    every way, beside a branch on origin, never merged, whose 2.0.0 is tagged too."""
    repo = tmp_path_factory.mktemp("template")
    git("init", "-q", "-b", "main", cwd=repo)
    newest, first = CHANGELOG.index("## 1.1.0"), CHANGELOG.index("## 1.0.0")
    (repo / "CHANGELOG.md").write_text(CHANGELOG[:newest] + CHANGELOG[first:])
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "1.0.0", cwd=repo)
    git("tag", "-a", "v1.0.0", "-m", "Baseline 1.0.0", cwd=repo)
    (repo / "CHANGELOG.md").write_text(CHANGELOG)
    git("commit", "-qam", "1.1.0", cwd=repo)
    git("tag", "-a", "v1.1.0", "-m", "Baseline 1.1.0", cwd=repo)
    git("tag", "v1.1.0-light", cwd=repo)  # a name that is no release
    git("tag", "-a", "v0.9.0", "-m", "Baseline 0.9.0", cwd=repo)
    git("tag", "-a", "v1.2.0", "-m", "Baseline 1.2.0", cwd=repo)
    git("tag", "v1.1.1", cwd=repo)  # lightweight
    # A pull request's branch, pushed for review and tagged before it was merged.
    git("switch", "-qc", "unreviewed", cwd=repo)
    (repo / "CHANGELOG.md").write_text(
        CHANGELOG.replace("## 1.1.0", "## 2.0.0\n\nNo CSP at all.\n\n## 1.1.0")
    )
    git("commit", "-qam", "2.0.0", cwd=repo)
    git("tag", "-a", "v2.0.0", "-m", "Baseline 2.0.0", cwd=repo)
    git("switch", "-q", "main", cwd=repo)
    return with_origin(repo, "main", "unreviewed")


def release(template, *args, env=None):
    return run(
        sys.executable, "-IS", SCRIPTS / "release.py", *args, cwd=template, check=False,
        env=env,
    )  # fmt: skip


def test_an_annotated_tag_on_the_newest_section_gives_that_section_as_notes(
    template, tmp_path
):
    notes = tmp_path / "notes.md"
    result = release(template, "v1.1.0", "--notes", notes)
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "v1.1.0: checked\n",
        "",
    )
    assert notes.read_text() == (
        "Referrer-Policy same-origin.\n\nWhat a service may have to change: nothing.\n"
    )


def test_its_notes_are_the_section_fleet_reads_from_this_templates_changelog(tmp_path):
    """The script (standard library only) and fleet.changelog read one format alike."""
    changelog = (TEMPLATE / "CHANGELOG.md").read_text()
    newest = max(sections(changelog), key=version)
    repo = tmp_path / "template"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    (repo / "CHANGELOG.md").write_text(changelog)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "release", cwd=repo)
    git("tag", "-a", newest, "-m", "release", cwd=repo)
    result = release(with_origin(repo, "main"), newest, "--notes", "notes.md")
    assert result.returncode == 0, result.stderr
    heading, body = sections(changelog)[newest].split("\n", 1)
    assert heading == f"## {newest[1:]}"
    assert (repo / "notes.md").read_text() == body.strip() + "\n"


def test_a_release_below_the_tip_of_main_is_still_one(template, tmp_path):
    """An older release whose section landed with newer ones is tagged where it was newest."""
    result = release(template, "v1.0.0", "--notes", tmp_path / "notes.md")
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "v1.0.0: checked\n",
        "",
    )
    assert (tmp_path / "notes.md").read_text() == "The first release.\n"


def test_the_default_branch_is_a_parameter(template):
    """--branch names the default branch; its commits alone are released."""
    on_it = release(template, "v2.0.0", "--branch", "unreviewed")
    assert (on_it.returncode, on_it.stdout) == (0, "v2.0.0: checked\n")
    off_it = release(template, "v1.1.0", "--branch", "trunk")
    assert (off_it.returncode, off_it.stdout) == (1, "")
    assert off_it.stderr == (
        "error: there is no origin/trunk in this clone: git fetch origin trunk, "
        "or give --branch the default branch\n"
    )


@pytest.fixture(scope="module")
def landed_together(tmp_path_factory) -> Path:
    """Three sections reaching main at once, as this template's 3.2.0, 4.0.0 and
    5.0.0 did: 1.1.0 on a branch merged last, 1.2.0 on main's first-parent line,
    1.3.0 on a branch merged before it; each tagged where its section is newest."""

    def changelog(*numbers: str) -> None:
        (repo / "CHANGELOG.md").write_text(
            "# Changelog\n"
            + "".join(f"\n## {number}\n\nRelease {number}.\n" for number in numbers)
        )

    def commit(number: str, *numbers: str, tag: bool = True) -> None:
        changelog(*numbers)
        git("add", "-A", cwd=repo)
        git("commit", "-qm", number, cwd=repo)
        if tag:
            git("tag", "-a", f"v{number}", "-m", f"Baseline {number}", cwd=repo)

    repo = tmp_path_factory.mktemp("landed-together")
    git("init", "-q", "-b", "main", cwd=repo)
    commit("1.0.0", "1.0.0", tag=False)
    git("switch", "-qc", "uv", cwd=repo)
    commit("1.1.0", "1.1.0", "1.0.0")
    git("switch", "-q", "main", cwd=repo)
    commit("1.2.0", "1.2.0", "1.0.0")
    git("switch", "-qc", "trusted-types", cwd=repo)
    changelog("1.3.0", "1.2.0", "1.0.0")
    git("commit", "-qam", "1.3.0", cwd=repo)
    git("switch", "-q", "main", cwd=repo)
    git("merge", "-q", "--no-ff", "--no-edit", "trusted-types", cwd=repo)
    git("merge", "-q", "--no-commit", "-s", "ours", "uv", cwd=repo)
    commit("1.3.0", "1.3.0", "1.2.0", "1.1.0", "1.0.0")  # the merge, sections joined
    return with_origin(repo, "main")


@pytest.mark.parametrize("number", ["1.1.0", "1.2.0", "1.3.0"])
def test_releases_that_landed_together_are_each_tagged_where_their_section_is_newest(
    landed_together, tmp_path, number
):
    repo = landed_together
    tip = git("rev-parse", "main", cwd=repo).stdout
    tagged = git("rev-list", "-n1", f"v{number}", cwd=repo).stdout
    assert (tagged == tip) == (number == "1.3.0")  # the older two are below main's tip
    result = release(repo, f"v{number}", "--notes", tmp_path / "notes.md")
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"v{number}: checked\n",
        "",
    )
    assert (tmp_path / "notes.md").read_text() == f"Release {number}.\n"


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        (
            "v1.1.1",
            "v1.1.1 is a lightweight tag, not a release: replace it with an annotated one "
            "(git tag -d v1.1.1 && git tag -a v1.1.1 -m 'Baseline 1.1.1' && "
            "git push --force origin v1.1.1)",
        ),
        (
            "v0.9.0",
            "v0.9.0 is not the newest section of CHANGELOG.md at v0.9.0 (## 1.1.0 is): "
            "tag the commit whose newest section is ## 0.9.0",
        ),
        (
            "v1.2.0",
            "v1.2.0 is not the newest section of CHANGELOG.md at v1.2.0 (## 1.1.0 is): "
            "add its ## 1.2.0 section on top, commit, and tag that commit",
        ),
        (
            "v2.0.0",
            "v2.0.0 is on a commit that is not on main: merge it first, then tag "
            "the commit of main whose newest section is ## 2.0.0",
        ),
        ("v1.3.0", "there is no tag v1.3.0 in this clone"),
        (
            "v1.1.0-light",
            "'v1.1.0-light' is not a release tag: give vMAJOR.MINOR.PATCH, e.g. v3.2.0",
        ),
    ],
    ids=[
        "lightweight",
        "older-than-the-newest",
        "no-section-yet",
        "not-on-main",
        "no-tag",
        "not-vX.Y.Z",
    ],
)
def test_anything_else_is_refused_in_one_line_before_anything_is_published(
    template, github, tag, message
):
    result = release(template, tag, "--notes", "notes.md", "--publish", env=github.env)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"error: {message}\n"
    assert github.calls() == []  # gh was never asked
    assert not (template / "notes.md").exists()


def test_the_release_is_published_once_and_a_rerun_refreshes_its_notes(
    template, github, tmp_path
):
    notes = tmp_path / "notes.md"
    first = release(template, "v1.1.0", "--notes", notes, "--publish", env=github.env)
    assert first.stdout == "v1.1.0: published\n"
    assert github.calls() == [
        ["release", "view", "v1.1.0", "--json", "tagName"],
        ["release", "create", "v1.1.0", "--verify-tag", "--title", "v1.1.0",
         "--notes-file", str(notes)],
    ]  # fmt: skip
    again = release(template, "v1.1.0", "--notes", notes, "--publish", env=github.env)
    assert again.stdout == "v1.1.0: notes refreshed\n"
    assert github.calls() == [
        ["release", "view", "v1.1.0", "--json", "tagName"],
        ["release", "edit", "v1.1.0", "--notes-file", str(notes)],
    ]
    assert github.state()["releases"] == {"v1.1.0": notes.read_text()}


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
