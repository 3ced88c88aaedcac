"""`fleet update`: a branch ``baseline/vX.Y.Z`` on every service behind the newest release.

Each branch starts at the service's default branch and holds one commit: the
release merged into the service's files (fleet.merge: conflicts keep git's
markers), its ``.cruft.json`` moved to the release, and a message carrying
the CHANGELOG sections in between. Nothing leaves the machine without
``--push``; nothing of a service runs without ``--test``.
"""

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from fleet.changelog import between
from fleet.fleet_file import Fleet, FleetFileError, Service
from fleet.git import GitError, git
from fleet.merge import apply_release
from fleet.pull_request import commit_message, pull_request
from fleet.releases import Template
from fleet.render import Files, Renderer
from fleet.report import Unreadable, fetch, read_row, render
from fleet.service import Clone
from fleet.service_tests import run_service_tests

# Who the update commits are from when git has no identity configured.
BOT = {"user.name": "Template baseline", "user.email": "baseline@localhost"}


@dataclass
class Outcome:
    name: str
    baseline: str | None = None
    release: str | None = None
    branch: str | None = None
    merge: str | None = None  # clean, conflict; current, not-linked: no branch
    conflicts: list[str] = field(default_factory=list)
    tests: str | None = None  # passed, failed; None when not run (or in conflict)
    pushed: str | None = None  # pushed, unchanged; None without --push
    error: str | None = None

    @property
    def exit_status(self) -> int:
        if self.error:
            return 2
        return 1 if self.conflicts or self.tests == "failed" else 0


def update_fleet(fleet: Fleet, out: Path, push: bool, test: bool) -> list[Outcome]:
    out = out.resolve()
    with tempfile.TemporaryDirectory(prefix="fleet-") as directory:
        scratch = Path(directory)
        try:
            template = Template.clone_from(fleet.template, scratch / "template.git")
        except GitError as error:
            raise FleetFileError(
                f"cannot read the template {fleet.template}: {error}"
            ) from None
        if not template.latest:
            raise FleetFileError(
                f"{fleet.template} has no release (annotated tag vX.Y.Z)"
            )
        renderer = Renderer(template.clone, scratch)
        outcomes = []
        for service in fleet.services:
            place = out / service.name
            shutil.rmtree(place, ignore_errors=True)
            place.mkdir(parents=True)
            clone = fetch(service, place / "repo")
            if isinstance(clone, str):
                outcomes.append(Outcome(service.name, error=clone))
                continue
            try:
                outcome = update_service(
                    service, clone, place, template, renderer, push, test, scratch
                )
            except (Unreadable, GitError) as error:
                outcome = Outcome(service.name, error=str(error))
            outcomes.append(outcome)
    return outcomes


def update_service(
    service: Service,
    clone: Clone,
    place: Path,
    template: Template,
    renderer: Renderer,
    push: bool,
    test: bool,
    scratch: Path,
) -> Outcome:
    name = service.name
    row = read_row(service, clone, template, renderer)
    outcome = Outcome(
        name, baseline=row.baseline, release=template.latest, merge=row.update
    )
    if row.update in ("current", "not-linked"):
        return outcome
    release = template.latest or ""
    commit = template.commit_of(clone.commit or "") or ""
    latest = template.commit_of(release) or ""
    base = render(renderer, commit, clone.answers)
    theirs = render(renderer, latest, clone.answers)
    merged, outcome.conflicts = apply_release(clone.files, base, theirs)
    merged[".cruft.json"] = moved_cruft_state(
        clone.files[".cruft.json"], latest, release
    )
    work = place / "repo"
    write_changes(work, clone.files, merged)
    outcome.branch = f"baseline/{release}"
    outcome.merge = "conflict" if outcome.conflicts else "clean"
    changelog = git("show", f"{latest}:CHANGELOG.md", cwd=template.clone)
    sections = between(changelog, row.baseline, release)
    git("checkout", "--quiet", "-B", outcome.branch, cwd=work)
    git("add", "--all", cwd=work)
    identity = (
        []
        if git("config", "user.email", cwd=work, check=False).strip()
        else [arg for key, value in BOT.items() for arg in ("-c", f"{key}={value}")]
    )
    message = commit_message(row.baseline, release, sections, outcome.conflicts)
    git(
        *identity,
        "commit",
        "--quiet",
        "--no-verify",
        "--file",
        "-",
        cwd=work,
        input=message,
    )
    # A branch with conflict markers has no code to test yet: resolve them first.
    if test and not outcome.conflicts:
        outcome.tests = (
            "passed"
            if run_service_tests(work, scratch / "venvs" / name, place / "tests.log")
            else "failed"
        )
    (place / "PR.md").write_text(
        pull_request(
            name,
            template.location,
            row.baseline,
            release,
            sections,
            outcome.tests,
            outcome.conflicts,
        ),
        encoding="utf-8",
    )
    if push:
        outcome.pushed = push_branch(work, outcome.branch)
    return outcome


def moved_cruft_state(text: bytes, commit: str, release: str) -> bytes:
    """The service's .cruft.json at the release, written as cruft writes it."""
    state = json.loads(text)
    state["commit"] = commit
    state["checkout"] = release
    state.setdefault("context", {}).setdefault("cookiecutter", {})["_commit"] = commit
    return (
        json.dumps(state, ensure_ascii=False, indent=2, separators=(",", ": ")) + "\n"
    ).encode()


def write_changes(work: Path, before: Files, after: Files) -> None:
    for path in before.keys() - after.keys():
        (work / path).unlink()
    for path, content in after.items():
        if before.get(path) != content:
            (work / path).parent.mkdir(parents=True, exist_ok=True)
            (work / path).write_bytes(content)


def push_branch(work: Path, branch: str) -> str:
    """Push unless the remote's branch already holds the same change on the same base."""
    listed = git("ls-remote", "origin", f"refs/heads/{branch}", cwd=work).split()
    if listed:
        remote = listed[0]
        git(
            "fetch",
            "--quiet",
            "--depth",
            "2",
            "origin",
            f"refs/heads/{branch}",
            cwd=work,
        )
        same = [
            git(
                "rev-parse", f"{ref}^{{tree}}", f"{ref}^", cwd=work, check=False
            ).split()
            for ref in ("FETCH_HEAD", "HEAD")
        ]
        if same[0] == same[1]:
            return "unchanged"
        lease = [f"--force-with-lease=refs/heads/{branch}:{remote}"]
    else:
        lease = []
    git("push", "--quiet", *lease, "origin", f"HEAD:refs/heads/{branch}", cwd=work)
    return "pushed"
