"""The CHANGELOG sections a service takes with a release: what changed, what to do."""

import re

from fleet.releases import version

HEADING = re.compile(r"^## (\d+\.\d+\.\d+)\s*$", re.M)


def sections(changelog: str) -> dict[str, str]:
    """Release tag (``vX.Y.Z``) -> its section, heading included, as written."""
    found = list(HEADING.finditer(changelog))
    ends = [match.start() for match in found[1:]] + [len(changelog)]
    return {
        f"v{match.group(1)}": changelog[match.start() : end].strip()
        for match, end in zip(found, ends, strict=True)
    }


def between(changelog: str, baseline: str | None, release: str) -> list[str]:
    """The sections after ``baseline`` up to and including ``release``, newest first."""
    return [
        text
        for tag, text in sorted(
            sections(changelog).items(), key=lambda item: version(item[0]), reverse=True
        )
        if version(tag) <= version(release)
        and (baseline is None or version(tag) > version(baseline))
    ]


def what_to_do(section: str) -> str:
    """The section's "What a service may have to change:" paragraph, on one line
    (its opening line may say more before the colon: "... after `cruft update`:")."""
    match = re.search(
        r"^What a service may have to change[^\n:]*:(.*?)(?=\n\n|\Z)",
        section,
        re.M | re.S,
    )
    if match is None:
        return "the section does not say."
    return " ".join(match.group(1).split())
