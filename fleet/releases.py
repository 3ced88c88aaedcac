"""Releases are the template's annotated tags vMAJOR.MINOR.PATCH on its
default branch whose version is the newest CHANGELOG section at the tag, read
from git: the tags the release workflow publishes (.github/scripts/release.py
refuses any other, and its code is never run here)."""

from dataclasses import dataclass
from pathlib import Path

from fleet.fleet_file import RELEASE
from fleet.git import GitError, git


def version(tag: str) -> tuple[int, ...]:
    match = RELEASE.fullmatch(tag)
    if match is None:
        raise ValueError(f"{tag!r} is not a release tag vMAJOR.MINOR.PATCH")
    return tuple(map(int, match.groups()))


@dataclass
class Template:
    """A bare clone of the template: its releases, and any commit by hash."""

    location: str
    clone: Path
    releases: list[str]  # oldest first

    @classmethod
    def clone_from(cls, location: str, destination: Path) -> "Template":
        git("clone", "--quiet", "--bare", location, destination)
        tags = release_tags(destination, "--merged", "HEAD")
        return cls(location, destination, published(destination, tags))

    @property
    def latest(self) -> str | None:
        return self.releases[-1] if self.releases else None

    def commit_of(self, revision: str) -> str | None:
        try:
            return git(
                "rev-parse",
                "--verify",
                "--quiet",
                f"{revision}^{{commit}}",
                cwd=self.clone,
            ).strip()
        except GitError:
            return None

    def release_at(self, commit: str) -> str | None:
        """The newest release at or before ``commit``."""
        merged = [
            tag
            for tag in release_tags(self.clone, "--merged", commit)
            if tag in self.releases
        ]
        return merged[-1] if merged else None

    def merged(self, commit: str) -> bool:
        """Whether ``commit`` is on the default branch (every release is):
        only such commits' code is ever run. A side branch's may be anyone's,
        even under a tag; what reached the default branch was reviewed."""
        try:
            git("merge-base", "--is-ancestor", commit, "HEAD", cwd=self.clone)
        except GitError:
            return False
        return True

    def later_commits(self, commit: str, changing: str) -> list[str]:
        """The default branch's commits after ``commit`` that change the file
        ``changing``, nearest first."""
        try:
            listed = git(
                "rev-list", "--reverse", "--ancestry-path", f"{commit}..HEAD",
                "--", changing, cwd=self.clone,
            )  # fmt: skip
        except GitError:
            return []
        return listed.split()

    def newer_than(self, release: str | None) -> list[str]:
        if release is None:
            return list(self.releases)
        return [tag for tag in self.releases if version(tag) > version(release)]


def published(clone: Path, tags: list[str]) -> list[str]:
    """The ``tags`` whose version is the newest CHANGELOG section at the tag."""
    from fleet.changelog import sections  # which reads versions from here

    kept = []
    for tag in tags:
        try:
            changelog = git("show", f"{tag}:CHANGELOG.md", cwd=clone)
        except GitError:
            continue
        found = sections(changelog)
        newest = max(found, key=version) if found else None
        if newest == tag and found[tag].partition("\n")[2].strip():
            kept.append(tag)  # a section with something in it, as the gate asks
    return kept


def release_tags(clone: Path, *selection: str) -> list[str]:
    """Annotated tags named like a release, oldest first (a lightweight tag is no release)."""
    listed = git(
        "for-each-ref",
        *selection,
        "--sort=v:refname",
        "--format=%(objecttype) %(refname:strip=2)",
        "refs/tags/v*",
        cwd=clone,
    )
    return [
        tag
        for kind, tag in (line.split(" ", 1) for line in listed.splitlines())
        if kind == "tag" and RELEASE.fullmatch(tag)
    ]
