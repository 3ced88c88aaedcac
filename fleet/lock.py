"""An update branch's ``uv.lock``, locked again for the merged ``pyproject.toml``.

A lock is made, not merged: when a release changes the baked lock and the
service's dependencies differ from the release's, ``uv lock`` makes it. It
starts from the release's lock with the service's own entries (from the
index) for the packages the release does not lock, so the release's pins hold
for what it locks, the team's for what they added, and only what no longer
fits is resolved again.

Locking reads package metadata from the index (PyPI, the one the template's
lock names) and the service's ``pyproject.toml``, and nothing else of the
service: uv runs in a scratch folder holding only that file and the starting
lock, never in the clone that is pushed, reads no configuration file
(``--no-config``: no ``uv.toml`` or ``[tool.uv]`` setting of the service's,
the user's or the system's) and builds nothing (``--no-build``). A
``pyproject.toml`` that locking would have to build (``dynamic`` metadata),
that names another place for packages than the index (``[tool.uv.sources]``,
a workspace, an index or find-links of its own, a ``name @ URL`` requirement),
or that sets a uv setting (``resolution``, ``exclude-newer``, ...: uv records
them in the lock, and ``--no-config`` drops them, so the team's ``uv lock
--check`` would refuse the lock) is refused before uv runs, as is a service
with a ``uv.toml``: its team locks it (LockError). So is any other error uv
gives about the pyproject (no resolution for its requirements, a malformed
requirement or group). What stops uv on the fleet's side (uv missing, a
timeout, the index unreachable, uv's cache or the disk, the fleet's Python)
is the fleet's failure, not the team's (LockFailure).
"""

import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fleet.lockfile import LockfileError, read, written
from fleet.render import Files

LOCK = "uv.lock"
PYPROJECT = "pyproject.toml"
UV_TOML = "uv.toml"  # the team's uv reads its settings; the fleet's does not
INDEX = "https://pypi.org/simple"  # the template's uv.lock is made from it too
TIMEOUT = 300  # seconds for one service's lock
# What of the environment uv sees while locking: where its cache is and
# whether it may go online; never an index, find-links or config file.
UV_KEPT = frozenset({"UV_CACHE_DIR", "UV_NO_CACHE", "UV_OFFLINE", "UV_NATIVE_TLS"})
# [tool.uv] keys that name other places for packages than the index.
ELSEWHERE = {
    "index": "[[tool.uv.index]]",
    "index-url": "[tool.uv] index-url",
    "extra-index-url": "[tool.uv] extra-index-url",
    "find-links": "[tool.uv] find-links",
}
# The [tool.uv] keys that are the project's metadata, which uv reads from
# pyproject.toml with --no-config too (checked with uv 0.13.8: each is in the
# lock made with --no-config, or an error there, and the team's `uv lock
# --check`, reading its configuration, takes that lock). Every other key is
# one of uv's settings, which --no-config drops: uv records many of them in
# the lock (resolution, prerelease, exclude-newer, ...), and refuses to run
# at all where required-version says.
PROJECT_METADATA = frozenset(
    {
        "build-backend", "build-constraint-dependencies", "conflicts",
        "constraint-dependencies", "default-groups", "dependency-groups",
        "dev-dependencies", "environments", "exclude-dependencies", "managed",
        "minimum-libc-version", "override-dependencies", "package",
        "required-environments", "cache-keys",
        "index", "sources", "workspace",  # refused above unless empty
    }
)  # fmt: skip
# A PEP 508 direct reference: the name (and extras), then "@ URL".
DIRECT_REFERENCE = re.compile(r"\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")


class LockError(Exception):
    """Why the service's uv.lock cannot be made here, in one line: its team locks it."""


class LockFailure(Exception):
    """What failed on the fleet's side while locking, in one line: nothing of the team's."""


def needs_lock(base: Files, theirs: Files, merged: Files, conflicts: list[str]) -> bool:
    """Whether the branch's lock must be made again: the release changed the lock,
    and the service's dependency files are not the release's own pair."""
    if LOCK not in theirs or base.get(LOCK) == theirs[LOCK] or PYPROJECT in conflicts:
        return False
    return any(merged.get(path) != theirs.get(path) for path in (PYPROJECT, LOCK))


def starting_lock(ours: bytes | None, theirs: bytes) -> bytes:
    """The release's lock, plus every entry of the service's from the index for a
    package the release does not lock (all of that package's entries, forks and all)."""
    if ours is None:
        return theirs
    try:
        header, released = read(theirs.decode())
        _, own = read(ours.decode())
    except (UnicodeDecodeError, LockfileError):
        return theirs
    locked = {entry.name for entry in released}
    added = [
        entry
        for entry in own
        if entry.name not in locked and entry.source == {"registry": INDEX}
    ]
    return written(header, [*released, *added]).encode()


def table(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def requirements(data: dict) -> Iterator[tuple[str, str]]:
    """Every requirement string in the pyproject, with where it is."""
    project = table(data.get("project"))
    uv = table(table(data.get("tool")).get("uv"))
    lists = [("[project] dependencies", project.get("dependencies"))]
    for heading, groups in (
        ("[project.optional-dependencies]", project.get("optional-dependencies")),
        ("[dependency-groups]", data.get("dependency-groups")),
    ):
        lists += [
            (f"{heading} {name}", listed) for name, listed in table(groups).items()
        ]
    for key in (
        "dev-dependencies", "constraint-dependencies", "override-dependencies",
        "build-constraint-dependencies",
    ):  # fmt: skip
        lists.append((f"[tool.uv] {key}", uv.get(key)))
    for where, listed in lists:
        if isinstance(listed, list):
            yield from ((where, item) for item in listed if isinstance(item, str))


def refusal(pyproject: bytes, uv_toml: bool = False) -> str | None:
    """Why locking this pyproject.toml could run code, reach past the index or
    make a lock the team's uv would not, if it could."""
    if uv_toml:
        return f"the service has a {UV_TOML}, whose uv settings the fleet's lock does not apply"
    try:
        data = tomllib.loads(pyproject.decode())
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return f"pyproject.toml is not TOML ({error})"
    if table(data.get("project")).get("dynamic"):
        return "pyproject.toml has dynamic metadata, which only a build can tell"
    uv = table(table(data.get("tool")).get("uv"))
    for key, what in (
        ("sources", "[tool.uv.sources]"),
        ("workspace", "a uv workspace"),
    ):
        if uv.get(key):
            return f"pyproject.toml uses {what}, which locking would have to build or fetch"
    for key, what in ELSEWHERE.items():
        if uv.get(key):
            return f"pyproject.toml sets {what}: packages from elsewhere than the index"
    if uv.get("managed") is False:
        return "pyproject.toml sets [tool.uv] managed = false: uv does not lock it"
    settings = [key for key in uv if key not in PROJECT_METADATA]
    if settings:
        what = "uv settings" if settings[1:] else "a uv setting"
        return (
            f"pyproject.toml sets [tool.uv] {', '.join(settings)}, {what} that the "
            "fleet's lock does not apply (uv lock --no-config)"
        )
    for where, requirement in requirements(data):
        if DIRECT_REFERENCE.match(requirement):
            return (
                f"pyproject.toml takes a package from a URL, not the index "
                f"({where}: {requirement!r})"
            )
    return None


def uv_binary() -> str | None:
    found = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    return found if Path(found).exists() else None


def locking_environment(env: dict[str, str]) -> dict[str, str]:
    """``env`` without uv's settings, but for its cache and offline mode."""
    kept = {
        name: value
        for name, value in env.items()
        if not name.startswith("UV_") or name in UV_KEPT
    }
    return {**kept, "UV_NO_CONFIG": "1"}


def lock_again(
    pyproject: bytes | None,
    ours: bytes | None,
    theirs: bytes,
    env: dict[str, str],
    uv_toml: bool = False,
) -> bytes:
    """The lock ``uv lock`` makes for ``pyproject`` (merged) in a scratch folder,
    starting from the release's lock (``theirs``) and the service's (``ours``);
    ``uv_toml``: the service has a uv.toml."""
    why = "no pyproject.toml" if pyproject is None else refusal(pyproject, uv_toml)
    if why:
        raise LockError(why)
    uv = uv_binary()
    if not uv:
        raise LockFailure("uv is not installed (pip install uv)")
    command = [
        uv, "lock", "--quiet", "--no-build", "--no-config",
        "--default-index", INDEX, "--python", sys.executable,
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="fleet-lock-") as scratch:
        project = Path(scratch)
        (project / PYPROJECT).write_bytes(pyproject or b"")
        (project / LOCK).write_bytes(starting_lock(ours, theirs))
        try:
            result = subprocess.run(
                command, cwd=project, env=locking_environment(env),
                capture_output=True, text=True, timeout=TIMEOUT, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise LockFailure(f"uv lock took over {TIMEOUT} s") from None
        except OSError as error:
            raise LockFailure(f"cannot run {uv}: {error.strerror or error}") from None
        if result.returncode != 0:
            raise failure(result.stderr)
        return (project / LOCK).read_bytes()


# What uv says when the failure is the fleet's: the network, uv's cache (when
# offline, or not writable), the disk (an OS error: the fleet wrote every file
# uv reads), the fleet's own Python. Any other error is about the
# pyproject.toml (no versions satisfy it, it does not parse, a requirement or
# group is malformed): the team's.
FLEETS_SIDE = re.compile(
    r"^\s*(?:error|cause|Caused by|hint):.*(?:Failed to fetch|error sending request"
    r"|Failed to initialize cache|\(os error \d+\)"
    r"|failed to (?:connect|lookup)|dns error|timed out|Could not connect"
    r"|The requested interpreter resolved to|No interpreter found"
    r"|Failed to (?:download|query) Python)",
    re.M | re.IGNORECASE,
)


def failure(stderr: str) -> LockError | LockFailure:
    """The fleet's when uv could not reach the index, its cache or a Python;
    the team's for anything else uv says of the pyproject.toml."""
    said = f"uv lock failed: {uv_said(stderr)}"
    if "the network was disabled" in stderr:  # uv's hint when offline
        return LockFailure(f"{said} (offline: UV_OFFLINE, from uv's cache)")
    if FLEETS_SIDE.search(stderr):
        return LockFailure(said)
    return LockError(said)


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
