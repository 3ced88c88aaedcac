"""Is this service on the template's newest release? One line says, exit 1 if not.

Run weekly by .github/workflows/baseline.yml (and by hand: python
.github/baseline_check.py). Releases are the template's tags vMAJOR.MINOR.PATCH;
``cruft check`` against the newest one decides. The template owns this file.
"""

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

RELEASE = re.compile(r"refs/tags/v(\d+)\.(\d+)\.(\d+)")


class CannotCheck(Exception):
    """The check cannot be made; the message is the one line to print."""


def newest_release(template: str) -> str | None:
    listed = subprocess.run(  # noqa: S603 (the template's URL, from .cruft.json)
        ["git", "ls-remote", "--tags", "--refs", template],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode != 0:
        # git's first "fatal:" line says why; what follows it is advice.
        said = [line for line in listed.stderr.splitlines() if line.strip()]
        fatal = [line for line in said if line.startswith("fatal: ")] or said[-1:]
        why = (
            fatal[0].removeprefix("fatal: ")
            if fatal
            else f"git exited {listed.returncode}"
        )
        raise CannotCheck(f"cannot read the template {template}: {why}")
    versions = [
        tuple(int(part) for part in match.groups())
        for line in listed.stdout.splitlines()
        if (match := RELEASE.fullmatch(line.split("\t")[-1]))
    ]
    return "v{}.{}.{}".format(*max(versions)) if versions else None


def main() -> int:
    try:
        return weekly_check()
    except CannotCheck as error:
        print(f"error: {error}")
        return 2


def cruft_state(path: Path) -> dict[str, Any]:
    """cruft's .cruft.json, which links a service to its template (a URL in it)."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CannotCheck(
            "this service is not linked to its template (no .cruft.json): link it with "
            "cruft link <the template's URL> --checkout <the release it was baked from>"
        ) from None
    except (OSError, ValueError) as error:
        raise CannotCheck(f"cannot read .cruft.json: {error}") from None
    if not isinstance(state, dict) or not state.get("template"):
        raise CannotCheck(
            ".cruft.json names no template: link it again with cruft link"
        )
    return state


def weekly_check() -> int:
    state = cruft_state(Path(".cruft.json"))
    newest = newest_release(state["template"])
    if newest is None:
        print(f"error: {state['template']} has no release tag vX.Y.Z")
        return 1
    check = subprocess.run(  # noqa: S603 (a tag name the template gave)
        [sys.executable, "-m", "cruft", "check", "--checkout", newest, "--not-strict"],
        capture_output=True,
        text=True,
        check=False,
    )
    here = state.get("checkout") or str(state.get("commit", ""))[:12]
    if check.returncode == 0:
        print(f"on the template's newest release, {newest}")
        return 0
    said = (check.stdout + check.stderr).strip().splitlines() or ["no output"]
    if "out of date" not in check.stdout + check.stderr:  # cruft itself failed
        print(f"error: cruft check {newest} failed: {said[-1]}")
        return 2
    print(
        f"error: behind the template's newest release {newest} (this service has {here}): "
        f"run cruft update --checkout {newest}, or merge the platform team's baseline/{newest} branch"
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
