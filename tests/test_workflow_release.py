"""The Release workflow's gate (.github/scripts/release.py): which tags are
releases, their notes, their GitHub release, and whether one is the newest
release, whose update job alone updates the services.

The script runs with the standard library alone (``python -I -S``), as the
workflow runs it, with test_workflow_scripts.py's fake `gh` on PATH.
"""

import sys
from pathlib import Path

import pytest

from fleet.changelog import between, sections
from fleet.pull_request import pull_request
from fleet.releases import version
from testkit import TEMPLATE
from testkit.commands import git, run
from tests.test_workflow_scripts import SCRIPTS, fake_github


@pytest.fixture
def github(tmp_path):
    return fake_github(tmp_path)


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
    notes, output = tmp_path / "notes.md", tmp_path / "output"
    output.write_text("before=kept\n")  # $GITHUB_OUTPUT: appended to
    result = release(template, "v1.1.0", "--notes", notes, "--output", output)
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "v1.1.0: checked\n",
        "",
    )
    assert notes.read_text() == (
        "Referrer-Policy same-origin.\n\nWhat a service may have to change: nothing.\n"
    )
    # The newest: v1.2.0, annotated on main too, is refused by the gate, no release.
    assert output.read_text() == "before=kept\nnewest=true\n"


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
    """A release on an older commit of main is one, but not the newest: the
    workflow publishes it and leaves the services to the newest one's branches."""
    output = tmp_path / "output"
    result = release(
        template, "v1.0.0", "--notes", tmp_path / "notes.md", "--output", output
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "v1.0.0: checked; v1.1.0 is newer: no update branches for v1.0.0 "
        "(v1.1.0's carry its section)\n",
        "",
    )
    assert output.read_text() == "newest=false\n"
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
    1.3.0 on a branch merged before it; each tagged where its section is newest.
    Above 1.3.0, no release: a lightweight v1.4.0 on main, an annotated v2.0.0
    on a branch never merged."""

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
    git("tag", "v1.4.0", cwd=repo)
    git("switch", "-qc", "unreviewed", cwd=repo)
    commit("2.0.0", "2.0.0", "1.3.0", "1.2.0", "1.1.0", "1.0.0")
    git("switch", "-q", "main", cwd=repo)
    return with_origin(repo, "main")


@pytest.mark.parametrize("number", ["1.1.0", "1.2.0", "1.3.0"])
def test_of_releases_that_landed_together_only_the_newest_updates_the_services(
    landed_together, tmp_path, number
):
    """Each older one is a release where its section is newest, below main's tip,
    and says so; the newest alone gets newest=true, for the update job."""
    repo = landed_together
    tip = git("rev-parse", "main", cwd=repo).stdout
    tagged = git("rev-list", "-n1", f"v{number}", cwd=repo).stdout
    assert (tagged == tip) == (number == "1.3.0")  # the older two are below main's tip
    output = tmp_path / "output"
    result = release(
        repo, f"v{number}", "--notes", tmp_path / "notes.md", "--output", output
    )
    newest = number == "1.3.0"
    said = "" if newest else (
        f"; v1.3.0 is newer: no update branches for v{number} "
        "(v1.3.0's carry its section)"
    )  # fmt: skip
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"v{number}: checked{said}\n",
        "",
    )
    assert (tmp_path / "notes.md").read_text() == f"Release {number}.\n"
    assert output.read_text() == f"newest={str(newest).lower()}\n"


def test_an_older_release_is_published_without_githubs_latest_mark(
    landed_together, github, tmp_path
):
    notes = tmp_path / "notes.md"
    older = release(
        landed_together, "v1.2.0", "--notes", notes, "--publish", env=github.env
    )
    assert older.stdout.startswith("v1.2.0: published; v1.3.0 is newer")
    assert github.calls()[-1] == [
        "release", "create", "v1.2.0", "--verify-tag", "--title", "v1.2.0",
        "--notes-file", str(notes), "--latest=false",
    ]  # fmt: skip
    newest = release(
        landed_together, "v1.3.0", "--notes", notes, "--publish", env=github.env
    )
    assert newest.stdout == "v1.3.0: published\n"
    assert "--latest=false" not in github.calls()[-1]


def test_the_newest_releases_pull_requests_carry_every_section_since_each_services():
    """Tagging only the newest of releases that landed together leaves nothing
    out: PR.md (fleet update's) has every section between the service's release
    and the newest, with what each asks a service to do."""
    changelog = (TEMPLATE / "CHANGELOG.md").read_text()
    tags = sorted(sections(changelog), key=version)
    newest, baseline = tags[-1], tags[-4]
    carried = tags[-3:]  # as 3.2.0, 4.0.0 and 5.0.0 landed together, one tagged
    text = pull_request(
        "payments", "gh:org/template", baseline, newest,
        between(changelog, baseline, newest), None, [],
    )  # fmt: skip
    changed = text.split("## What changed")[1].split("## What you may have to do")
    for tag in tags:
        heading = f"### {tag[1:]}\n"
        assert (heading in changed[0]) == (tag in carried), tag
        assert (f"\n- {tag[1:]}: " in changed[1]) == (tag in carried), tag


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
