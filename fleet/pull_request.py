"""What an update branch says: its commit message, and PR.md for the pull request."""

import re

from fleet.changelog import what_to_do

MARKERS = (
    "`<<<<<<< <file> (this service)`, `=======`, `>>>>>>> <file> (the new release)`"
)


def commit_message(
    baseline: str | None, release: str, sections: list[str], conflicts: list[str]
) -> str:
    lines = [f"Baseline {release} (from {baseline or 'no release'})", ""]
    lines += [f"{section}\n" for section in sections]
    if conflicts:
        lines.append(
            "Conflicts left as git conflict markers, to resolve before merging:"
        )
        lines += [f"- {path}" for path in conflicts]
    return "\n".join(lines).rstrip() + "\n"


def demoted(section: str) -> str:
    """A changelog section one heading level down, to sit under PR.md's own headings."""
    return re.sub(r"^(#+) ", r"#\1 ", section, flags=re.M)


def pull_request(
    name: str,
    template: str,
    baseline: str | None,
    release: str,
    sections: list[str],
    tests: str | None,
    conflicts: list[str],
    lock_reason: str | None = None,
) -> str:
    """PR.md; ``lock_reason`` is why ``uv.lock`` could not be locked for the branch."""
    todo = [
        f"- {section.splitlines()[0][3:]}: {what_to_do(section)}"
        for section in sections
    ]
    if conflicts and tests in (None, "off"):
        result = "Not run: resolve the conflicts below first; this branch's CI runs them then."
    elif lock_reason and tests is None:
        result = "Not run: `uv.lock` is to be locked first (see the top); this branch's CI runs them then."
    elif tests == "off":
        result = "Not run here: the fleet file sets `test = false` for this service; this branch's CI runs them."
    elif tests is None:
        result = "Not run here (`python -m fleet update --test` runs them on a CI runner); this branch's CI runs them."
    else:
        result = f"The service's own tests {tests} on this branch, in a fresh virtual environment."
    if conflicts:
        conflict_text = (
            "These files keep git's conflict markers where the team's edit and the release "
            f"changed the same lines ({MARKERS}): keep what each side needs, delete the markers, "
            "run the tests, and push to this branch.\n\n"
            + "\n".join(f"- `{path}`" for path in conflicts)
        )
        if "pyproject.toml" in conflicts:
            conflict_text += (
                "\n\nThen lock for the resolved `pyproject.toml`: `uv lock`, and "
                "commit `uv.lock` with it."
            )
    else:
        conflict_text = "None: the release merged cleanly into the service's files."
    parts = [
        f"# Baseline {release} for {name}",
        *([unlocked(lock_reason)] if lock_reason else []),
        f"This branch, `baseline/{release}`, takes {name} from "
        f"{baseline or 'no release'} to {release} of the template {template}: the "
        "template's files as the release has them, merged with the service's own, and "
        "`.cruft.json` moved to the release.",
        "## What changed",
        *map(demoted, sections),
        "## What you may have to do",
        "\n".join(todo),
        "## Tests",
        result,
        "## Conflicts",
        conflict_text,
    ]
    return "\n\n".join(parts) + "\n"


def unlocked(reason: str) -> str:
    return (
        "**Run `uv lock` on this branch, and commit `uv.lock`, before merging.** "
        f"The lock could not be made here: {reason.rstrip('.')}. This branch's `uv.lock` is the "
        "release's, not locked for its `pyproject.toml`, so `uv sync --locked` (CI, the "
        "image) refuses it until then."
    )
