"""An update branch's ``uv.lock``, locked again for the merged ``pyproject.toml``.

A lock is made, not merged: when a release changes the baked lock and the
service's dependencies differ from the release's, ``uv lock`` runs in the
branch's clone. It starts from the release's lock with the service's own
entries for the packages the release does not lock, so the release's pins
hold for what it locks, the team's for what they added, and only what no
longer fits is resolved again.

Locking reads package metadata from the index and the service's
``pyproject.toml``; it runs no code of the service's or of any package: uv
builds nothing (``--no-build``), and a ``pyproject.toml`` whose own metadata
would have to be built (``dynamic`` fields), or that takes packages from
elsewhere than the index (``[tool.uv.sources]``, a workspace), is refused.
"""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from fleet.render import Files

LOCK = "uv.lock"
PYPROJECT = "pyproject.toml"
TIMEOUT = 300  # seconds for one service's lock
SEPARATOR = "\n\n[[package]]\n"
NAME = re.compile(r'name = "([^"]+)"')


class LockError(Exception):
    """Why the branch's uv.lock could not be made, in one line."""


def needs_lock(base: Files, theirs: Files, merged: Files, conflicts: list[str]) -> bool:
    """Whether the branch's lock must be made again: the release changed the lock,
    and the service's dependency files are not the release's own pair."""
    if LOCK not in theirs or base.get(LOCK) == theirs[LOCK] or PYPROJECT in conflicts:
        return False
    return any(merged.get(path) != theirs.get(path) for path in (PYPROJECT, LOCK))


def starting_lock(ours: bytes | None, theirs: bytes) -> bytes:
    """The release's lock, plus the service's entries for packages it does not lock."""
    if ours is None:
        return theirs

    def entries(text: bytes) -> tuple[str, dict[str, str]]:
        header, *rest = text.decode().rstrip("\n").split(SEPARATOR)
        return header, {
            found[1]: entry for entry in rest if (found := NAME.match(entry))
        }

    header, released = entries(theirs)
    try:
        _, own = entries(ours)
    except UnicodeDecodeError:
        return theirs
    added = [entry for name, entry in own.items() if name not in released]
    return (SEPARATOR.join([header, *released.values(), *added]) + "\n").encode()


def refusal(pyproject: bytes) -> str | None:
    """Why locking this pyproject.toml could run code or reach past the index, if it could."""
    try:
        data = tomllib.loads(pyproject.decode())
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return f"pyproject.toml is not TOML ({error})"
    if data.get("project", {}).get("dynamic"):
        return "pyproject.toml has dynamic metadata, which only a build can tell"
    uv = data.get("tool", {}).get("uv", {})
    for key, what in (
        ("sources", "[tool.uv.sources]"),
        ("workspace", "a uv workspace"),
    ):
        if uv.get(key):
            return f"pyproject.toml uses {what}, which locking would have to build or fetch"
    return None


def uv_binary() -> str | None:
    found = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    return found if Path(found).exists() else None


def lock_again(
    work: Path, ours: bytes | None, theirs: bytes, env: dict[str, str]
) -> bytes:
    """``uv lock`` in ``work`` (its pyproject.toml already merged); the lock it makes."""
    pyproject = work / PYPROJECT
    why = (
        refusal(pyproject.read_bytes()) if pyproject.is_file() else "no pyproject.toml"
    )
    uv = uv_binary()
    if why or not uv:
        reason = why or "uv is not installed (pip install uv)"
        raise LockError(
            f"cannot lock uv.lock again: {reason}; run uv lock on the branch"
        )
    (work / LOCK).write_bytes(starting_lock(ours, theirs))
    command = [uv, "lock", "--quiet", "--no-build", "--python", sys.executable]
    try:
        result = subprocess.run(
            command, cwd=work, env=env, capture_output=True, text=True,
            timeout=TIMEOUT, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise LockError(f"uv lock took over {TIMEOUT} s") from None
    if result.returncode != 0:
        raise LockError(f"uv lock failed: {uv_said(result.stderr)}")
    return (work / LOCK).read_bytes()


def uv_said(stderr: str) -> str:
    """uv's error and its first cause, on one line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [i for i, line in enumerate(lines) if line.startswith("error:")]
    if not errors:
        return lines[-1] if lines else "no output"
    said = [lines[errors[0]].removeprefix("error: ")]
    causes = [line for line in lines[errors[0] + 1 :] if line.startswith("cause: ")]
    said += [cause.removeprefix("cause: ") for cause in causes[:1]]
    return ": ".join(said)
