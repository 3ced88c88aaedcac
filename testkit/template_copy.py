"""A copy of this template in a git repository of its own, as cruft and pre-commit need."""

import shutil
from pathlib import Path

from testkit import TEMPLATE
from testkit.commands import git, run


def tracked_files(source: Path) -> list[str]:
    """What git tracks in ``source``, as it is in the working tree.

    Untracked files (a ``ci.log`` left at the root, say) are not the template
    and must not reach the copy; uncommitted edits to tracked files are the
    change under test and must. A tracked file deleted in the working tree is
    left out.
    """
    listed = run("git", "ls-files", "-z", "--cached", cwd=source).stdout
    names = dict.fromkeys(filter(None, listed.split("\0")))  # once, even mid-merge
    return [name for name in names if (source / name).is_file()]


def template_repository(destination: Path, source: Path = TEMPLATE) -> Path:
    """``source`` (this template) as it is now, committed in a git repository of its own."""
    for name in tracked_files(source):
        (destination / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / name, destination / name)
    git("init", "-q", cwd=destination)
    git("add", "-A", cwd=destination)
    git("commit", "-qm", "Template v1", cwd=destination)
    return destination
