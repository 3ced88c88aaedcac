"""A release applied to a service's files: a three-way merge, files only.

The template's change (``base``, rendered at the service's commit, to
``theirs``, rendered at the release, both with the service's answers) is
merged into the service's files (``ours``) as ``cruft update`` would, but
where both changed the same lines the file keeps git's conflict markers for a
reviewer to resolve, instead of cruft's ``.rej`` files.
"""

import subprocess
import tempfile
from pathlib import Path

from fleet.render import Files


def apply_release(ours: Files, base: Files, theirs: Files) -> tuple[Files, list[str]]:
    """The service's files with the release in them, and the paths that conflict.

    A file the release leaves alone, or the team left as baked, takes the
    release's version; otherwise ``git merge-file`` merges, leaving markers.
    A file one side deleted and the other changed keeps the team's version
    and counts as a conflict.
    """
    merged = dict(ours)
    conflicts = []
    for path in sorted(base.keys() | theirs.keys()):
        old, new, mine = base.get(path), theirs.get(path), ours.get(path)
        if old == new or mine == new:
            continue
        if mine == old:
            if new is None:
                merged.pop(path, None)
            else:
                merged[path] = new
            continue
        if mine is None or new is None:
            conflicts.append(path)
            continue
        text, clean = merge_file(mine, old or b"", new, path)
        merged[path] = text
        if not clean:
            conflicts.append(path)
    return merged, conflicts


def conflicting_files(ours: Files, base: Files, theirs: Files) -> list[str]:
    return apply_release(ours, base, theirs)[1]


def merge_file(
    ours: bytes, base: bytes, theirs: bytes, path: str
) -> tuple[bytes, bool]:
    """``git merge-file``'s result, markers labelled with what each side is."""
    with tempfile.TemporaryDirectory(prefix="fleet-merge-") as scratch:
        paths = []
        for name, content in (("ours", ours), ("base", base), ("theirs", theirs)):
            file = Path(scratch) / name
            file.write_bytes(content)
            paths.append(str(file))
        result = subprocess.run(
            [
                "git", "merge-file", "-p",
                "-L", f"{path} (this service)",
                "-L", f"{path} (as baked)",
                "-L", f"{path} (the new release)",
                *paths,
            ],
            capture_output=True,
            check=False,
        )  # fmt: skip
    if result.returncode < 0 or result.returncode > 127:
        raise RuntimeError(f"git merge-file failed on {path}: {result.stderr.decode()}")
    return result.stdout, result.returncode == 0
