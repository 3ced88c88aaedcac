"""`fleet update`: a branch ``baseline/vX.Y.Z`` on every service behind the newest release.

Each branch starts at the service's default branch and holds one commit: the
release merged into the service's files (fleet.merge: conflicts keep git's
markers), its ``uv.lock`` locked again where its dependencies are its own
(fleet.lock: when the service's pyproject.toml cannot be locked here, the
release's lock, and PR.md says to run ``uv lock``; when locking fails on the
fleet's side, no branch), its ``.cruft.json`` moved to the release, and a
message carrying the CHANGELOG sections in between. Nothing leaves the machine
without ``--push``; nothing of a service runs without ``--test``.
"""

import json
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from fleet.changelog import between
from fleet.fleet_file import Fleet, FleetFileError, Service
from fleet.git import GitError, git
from fleet.lock import (
    LOCK,
    PYPROJECT,
    UV_TOML,
    LockError,
    LockFailure,
    lock_again,
    needs_lock,
    uv_binary,
)
from fleet.merge import apply_release
from fleet.pull_request import commit_message, pull_request
from fleet.releases import Template
from fleet.render import Files, Renderer
from fleet.report import Unreadable, clone_template, fetch, read_row, render
from fleet.service import Clone
from fleet.service_tests import run_service_tests, service_environment

TESTS_AT_ONCE = os.cpu_count() or 1  # each suite mostly waits on one CPU
# Who the update commits are from when git has no identity configured.
BOT = {"user.name": "Template baseline", "user.email": "baseline@localhost"}
NEEDS_LOCK = "needs-uv-lock"  # the branch has the release's uv.lock: its team locks it


@dataclass
class Outcome:
    name: str
    baseline: str | None = None
    release: str | None = None
    branch: str | None = None
    merge: str | None = None  # clean, conflict; current, not-linked: no branch
    conflicts: list[str] = field(default_factory=list)
    lock: str | None = None  # locked, needs-uv-lock; None: the lock as merged
    lock_reason: str | None = None  # why it needs uv lock, in one line
    tests: str | None = None  # passed, failed, off (test = false); None when not run
    pushed: str | None = None  # pushed, unchanged; None without --push
    error: str | None = None

    @property
    def exit_status(self) -> int:
        if self.error:
            return 2
        needs_person = self.conflicts or self.lock == NEEDS_LOCK
        return 1 if needs_person or self.tests == "failed" else 0


def update_fleet(fleet: Fleet, out: Path, push: bool, test: bool) -> list[Outcome]:
    out = out.resolve()
    with tempfile.TemporaryDirectory(prefix="fleet-") as directory:
        scratch = Path(directory)
        template = clone_template(fleet, scratch)
        if not template.latest:
            raise FleetFileError(
                f"{fleet.template} has no release (annotated tag vX.Y.Z)"
            )
        renderer = Renderer(template.clone, scratch)
        outcomes: list[Outcome] = []
        branches: list[tuple[Outcome, Branch]] = []
        for service in fleet.services:
            place = out / service.name
            emptied(place, out)
            clone = fetch(service, place / "repo")
            if isinstance(clone, str):
                outcomes.append(Outcome(service.name, error=clone))
                continue
            try:
                outcome, branch = make_branch(service, clone, place, template, renderer)
            except (Unreadable, GitError) as error:
                outcome, branch = Outcome(service.name, error=str(error)), None
            except OSError as error:
                message = (
                    f"cannot write the branch in {place}: {error.strerror or error}"
                )
                outcome, branch = Outcome(service.name, error=message), None
            outcomes.append(outcome)
            if branch:
                branches.append((outcome, branch))
                if not branch.test:
                    outcome.tests = "off"
        if test:
            test_branches(branches, scratch / "tests")
        for outcome, branch in branches:
            write_pull_request(outcome, branch, template.location)
            if push:
                try:
                    outcome.pushed = push_branch(
                        branch.work, branch.name, branch.commit
                    )
                except GitError as error:
                    outcome.error = f"cannot push {branch.name}: {error}"
    return outcomes


def emptied(place: Path, out: Path) -> None:
    """``place`` made empty, refusing any that is not a folder inside ``out``."""
    resolved = place.resolve()
    if place.is_symlink() or resolved == out or not resolved.is_relative_to(out):
        raise FleetFileError(f"{place} is not a folder inside {out}; not removing it")
    shutil.rmtree(place, ignore_errors=True)
    try:
        place.mkdir(parents=True)
    except OSError as error:
        raise FleetFileError(f"cannot make {place}: {error.strerror}") from None


@dataclass
class Branch:
    """A service's update branch, made in its clone, waiting to be tested and pushed."""

    name: str
    work: Path
    place: Path
    baseline: str | None
    release: str
    sections: list[str]
    commit: str  # what is pushed, whatever the clone's HEAD has become since
    test: bool  # the fleet file's test = (false: its own CI runs them, not --test)


def test_branches(branches: list[tuple[Outcome, Branch]], scratch: Path) -> None:
    """Each branch's own tests, a few at once; a branch with conflicts has no code
    to test yet, and one whose lock is not made cannot be installed from it."""
    testable = [
        (outcome, branch)
        for outcome, branch in branches
        if branch.test and not outcome.conflicts and outcome.lock != NEEDS_LOCK
    ]
    with ThreadPoolExecutor(TESTS_AT_ONCE) as pool:
        results = pool.map(
            lambda pair: run_service_tests(
                pair[1].work, scratch / pair[0].name, pair[1].place / "tests.log"
            ),
            testable,
        )
        for (outcome, _), passed in zip(testable, results, strict=True):
            outcome.tests = "passed" if passed else "failed"


def write_pull_request(outcome: Outcome, branch: Branch, template: str) -> None:
    text = pull_request(
        outcome.name,
        template,
        branch.baseline,
        branch.release,
        branch.sections,
        outcome.tests,
        outcome.conflicts,
        outcome.lock_reason,
    )
    (branch.place / "PR.md").write_text(text, encoding="utf-8")


def make_branch(
    service: Service, clone: Clone, place: Path, template: Template, renderer: Renderer
) -> tuple[Outcome, Branch | None]:
    """The release committed on ``baseline/<release>`` in the service's clone, if it is behind."""
    name = service.name
    row = read_row(service, clone, template, renderer)
    outcome = Outcome(
        name, baseline=row.baseline, release=template.latest, merge=row.update
    )
    if row.update in ("current", "not-linked"):
        return outcome, None
    release = template.latest or ""
    commit = template.commit_of(clone.commit or "") or ""
    latest = template.commit_of(release) or ""
    base = render(renderer, commit, clone.answers)
    theirs = render(renderer, latest, clone.answers)
    merged, outcome.conflicts = apply_release(clone.files, base, theirs)
    merged[".cruft.json"] = moved_cruft_state(
        clone.files[".cruft.json"], latest, release
    )
    if needs_lock(base, theirs, merged, outcome.conflicts):  # made, not merged
        outcome.conflicts = [path for path in outcome.conflicts if path != LOCK]
        try:
            merged[LOCK], outcome.lock, outcome.lock_reason = locked(
                merged, clone.files.get(LOCK), theirs[LOCK]
            )
        except LockFailure as error:  # no branch asking the team to fix it
            outcome.merge, outcome.conflicts = None, []
            outcome.error = f"no branch: uv.lock not made, on the fleet's side: {error}"
            return outcome, None
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
    made = git("rev-parse", "HEAD", cwd=work).strip()
    return outcome, Branch(
        outcome.branch, work, place, row.baseline, release, sections, made, service.test
    )


def locked(
    merged: Files, ours: bytes | None, theirs: bytes
) -> tuple[bytes, str, str | None]:
    """The branch's uv.lock, made again for its files, or the release's with why
    they cannot be locked here; LockFailure when the fleet's side failed."""
    with tempfile.TemporaryDirectory(prefix="fleet-lock-home-") as home:
        env = service_environment(Path(home), uv_binary())
        pyproject, uv_toml = merged.get(PYPROJECT), UV_TOML in merged
        try:
            made = lock_again(pyproject, ours, theirs, env, uv_toml)
            return made, "locked", None
        except LockError as error:
            return theirs, NEEDS_LOCK, str(error)


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
    """Write what changed into the clone, never through a link that leads out of it."""
    root = work.resolve()
    for path in sorted(
        before.keys() - after.keys() | {p for p in after if before.get(p) != after[p]}
    ):
        target = work / path
        if not target.parent.resolve().is_relative_to(root):
            raise Unreadable(
                f"{path}: a symbolic link in its folders leads out of the repository"
            )
        if target.is_symlink() or target.exists():
            target.unlink()
        if path in after:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(after[path])


def push_branch(work: Path, branch: str, commit: str) -> str:
    """Push ``commit`` unless the remote's branch already holds the same change on the same base."""
    upload = "--upload-pack=git-upload-pack"
    listed = git(
        "ls-remote", upload, "origin", f"refs/heads/{branch}", cwd=work
    ).split()
    if listed:
        remote = listed[0]
        git(
            "fetch",
            "--quiet",
            upload,
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
            for ref in ("FETCH_HEAD", commit)
        ]
        if same[0] == same[1]:
            return "unchanged"
        lease = [f"--force-with-lease=refs/heads/{branch}:{remote}"]
    else:
        lease = []
    git(
        "push", "--quiet", "--no-verify", "--receive-pack=git-receive-pack",
        *lease, "origin",
        f"{commit}:refs/heads/{branch}", cwd=work,
    )  # fmt: skip
    return "pushed"
