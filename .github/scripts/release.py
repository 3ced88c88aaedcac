"""The release workflow's gate and its GitHub release.

    python .github/scripts/release.py vX.Y.Z [--branch main] [--notes FILE] [--publish]
                                             [--output FILE]

A release is an annotated tag vX.Y.Z on a commit of the default branch (as
origin/BRANCH has it: what was reviewed and merged) whose version is the
newest section of CHANGELOG.md as the tag has it: the fleet tool reads
releases from exactly these. Anything else is refused in one line (exit 1)
before anything is published. --notes writes that section, its body without
the heading (the release's title is the tag); --publish makes the GitHub
release with gh, or, when a re-run finds it made, sets its notes again.

A release is the newest unless a release (as above) with a higher version is
on the default branch already; only the newest one updates the services (its
branches carry every section since each service's release), so an older one
says which is newer, is published without GitHub's "Latest" mark, and
--output FILE (the workflow's $GITHUB_OUTPUT) gets newest=false rather than
newest=true. Runs from the repository's root, with the standard library and
git (and gh to publish).
"""

import argparse
import re
import subprocess
import sys
from pathlib import Path

TAG = re.compile(r"v(\d+)\.(\d+)\.(\d+)")
HEADING = re.compile(r"^## (\d+)\.(\d+)\.(\d+)[ \t]*$", re.M)  # as fleet.changelog


class Refused(Exception):
    """Not a release; the message is the one line to print."""


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=False)


def release_notes(tag: str, branch: str = "main") -> str:
    """The CHANGELOG.md section of release ``tag``, if ``tag`` is a release."""
    match = TAG.fullmatch(tag)
    if match is None:
        raise Refused(
            f"{tag!r} is not a release tag: give vMAJOR.MINOR.PATCH, e.g. v3.2.0"
        )
    number = ".".join(match.groups())
    kind = run("git", "cat-file", "-t", f"refs/tags/{tag}")
    if kind.returncode != 0:
        raise Refused(f"there is no tag {tag} in this clone")
    if kind.stdout.strip() != "tag":
        raise Refused(
            f"{tag} is a lightweight tag, not a release: replace it with an annotated one "
            f"(git tag -d {tag} && git tag -a {tag} -m 'Baseline {number}' && "
            f"git push --force origin {tag})"
        )
    on_branch(tag, branch, number)
    shown = run("git", "show", f"{tag}:CHANGELOG.md")
    if shown.returncode != 0:
        raise Refused(f"{tag} has no CHANGELOG.md")
    changelog = shown.stdout
    headings = list(HEADING.finditer(changelog))
    if not headings:
        raise Refused(f"CHANGELOG.md at {tag} has no release section (## {number})")
    newest = max(headings, key=lambda heading: tuple(map(int, heading.groups())))
    wanted, found = tuple(map(int, match.groups())), tuple(map(int, newest.groups()))
    if found != wanted:
        fix = (
            f"add its ## {number} section on top, commit, and tag that commit"
            if wanted > found
            else f"tag the commit whose newest section is ## {number}"
        )
        raise Refused(
            f"{tag} is not the newest section of CHANGELOG.md at {tag} "
            f"(## {'.'.join(newest.groups())} is): {fix}"
        )
    ends = [heading.start() for heading in headings if heading.start() > newest.start()]
    body = changelog[newest.end() : min(ends, default=len(changelog))].strip()
    if not body:
        raise Refused(f"the ## {number} section of CHANGELOG.md at {tag} is empty")
    return body + "\n"


def newer_release(tag: str, branch: str = "main") -> str | None:
    """The highest release above ``tag`` on ``branch``, if there is one: an
    annotated vX.Y.Z tag that origin/BRANCH holds and this gate lets through
    (one it refuses published nothing and updated no service)."""
    listed = run(
        "git", "for-each-ref", "--merged", f"refs/remotes/origin/{branch}",
        "--format=%(objecttype) %(refname:strip=2)", "refs/tags/v*",
    )  # fmt: skip
    if listed.returncode != 0:
        said = (listed.stderr.strip().splitlines() or ["no message"])[-1]
        raise Refused(f"cannot list the release tags on {branch}: {said}")
    wanted = version_of(tag)
    listed_tags = (line.split(" ", 1) for line in listed.stdout.splitlines())
    higher = [
        name
        for kind, name in listed_tags
        if kind == "tag" and TAG.fullmatch(name) and version_of(name) > wanted
    ]
    for name in sorted(higher, key=version_of, reverse=True):
        try:
            release_notes(name, branch)
        except Refused:
            continue
        return name
    return None


def version_of(tag: str) -> tuple[int, ...]:
    return tuple(map(int, TAG.fullmatch(tag).groups()))


def on_branch(tag: str, branch: str, number: str) -> None:
    """Refuse a tag whose commit is not on ``branch`` as the remote has it."""
    tracked = f"refs/remotes/origin/{branch}"
    if run("git", "rev-parse", "--verify", "--quiet", tracked).returncode != 0:
        raise Refused(
            f"there is no origin/{branch} in this clone: "
            f"git fetch origin {branch}, or give --branch the default branch"
        )
    merged = run("git", "merge-base", "--is-ancestor", f"refs/tags/{tag}", tracked)
    if merged.returncode != 0:
        raise Refused(
            f"{tag} is on a commit that is not on {branch}: merge it first, then tag "
            f"the commit of {branch} whose newest section is ## {number}"
        )


def publish(tag: str, notes: Path, newest: bool = True) -> str:
    """The GitHub release of ``tag`` with ``notes``: made, or its notes set again.
    GitHub marks a new release "Latest" unless told otherwise: an older one is not."""
    if run("gh", "release", "view", tag, "--json", "tagName").returncode == 0:
        command = ["gh", "release", "edit", tag, "--notes-file", str(notes)]
        done = "notes refreshed"
    else:
        command = ["gh", "release", "create", tag, "--verify-tag", "--title", tag,
                   "--notes-file", str(notes)]  # fmt: skip
        if not newest:
            command.append("--latest=false")
        done = "published"
    made = run(*command)
    if made.returncode != 0:
        said = (made.stderr.strip().splitlines() or ["no message"])[-1]
        raise Refused(f"{' '.join(command[:3])} failed: {said}")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tag", help="the pushed tag, vX.Y.Z")
    parser.add_argument(
        "--branch",
        default="main",
        help="the default branch, whose commits alone may be released (main)",
    )
    parser.add_argument(
        "--notes", type=Path, metavar="FILE", help="write the section here"
    )
    parser.add_argument(
        "--publish", action="store_true", help="make the GitHub release (needs --notes)"
    )
    parser.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="append newest=true or newest=false here ($GITHUB_OUTPUT)",
    )
    arguments = parser.parse_args(argv)
    if arguments.publish and arguments.notes is None:
        parser.error("--publish needs --notes FILE")
    tag = arguments.tag
    try:
        notes = release_notes(tag, arguments.branch)
        newer = newer_release(tag, arguments.branch)
        if arguments.notes is not None:
            arguments.notes.parent.mkdir(parents=True, exist_ok=True)
            arguments.notes.write_text(notes, encoding="utf-8")
        done = (
            publish(tag, arguments.notes, newer is None)
            if arguments.publish
            else "checked"
        )
    except Refused as refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 1
    if arguments.output is not None:
        with arguments.output.open("a", encoding="utf-8") as output:
            output.write(f"newest={'false' if newer else 'true'}\n")
    if newer:
        done += (
            f"; {newer} is newer: no update branches for {tag} "
            f"({newer}'s carry its section)"
        )
    print(f"{tag}: {done}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
