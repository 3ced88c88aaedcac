"""What applying a release would do to a service's files: a three-way merge, files only."""

import subprocess
import tempfile
from pathlib import Path

from fleet.render import Files


def conflicting_files(ours: Files, base: Files, theirs: Files) -> list[str]:
    """Paths where the template's change from ``base`` to ``theirs`` meets the team's own.

    As ``cruft update`` would see it: a file the release leaves alone, or the
    team left as baked, merges cleanly; otherwise ``git merge-file`` decides.
    """
    conflicts = []
    for path in sorted(base.keys() | theirs.keys()):
        old, new, mine = base.get(path), theirs.get(path), ours.get(path)
        if old == new or mine in (new, old):
            continue
        if mine is None or new is None or not merges_cleanly(mine, old or b"", new):
            conflicts.append(path)
    return conflicts


def merges_cleanly(ours: bytes, base: bytes, theirs: bytes) -> bool:
    with tempfile.TemporaryDirectory(prefix="fleet-merge-") as scratch:
        paths = []
        for name, content in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(scratch) / name
            path.write_bytes(content)
            paths.append(str(path))
        result = subprocess.run(
            ["git", "merge-file", "-p", "--quiet", *paths],
            capture_output=True,
            check=False,
        )
    return result.returncode == 0
