"""git, run quietly, never prompting: a bad URL fails at once."""

import os
import subprocess
from pathlib import Path


class GitError(Exception):
    """A git command failed; the message is git's last line of complaint."""


ENVIRONMENT = {
    **os.environ,
    "GIT_TERMINAL_PROMPT": "0",  # no password prompt for a repository that needs one
    "GIT_ASKPASS": "true",
    "SSH_ASKPASS": "true",
    "GIT_SSH_COMMAND": "ssh -o BatchMode=yes",
    "LC_ALL": "C",
}


def git(
    *args: str | Path,
    cwd: Path | None = None,
    check: bool = True,
    input: str | None = None,
) -> str:
    result = subprocess.run(
        ["git", *map(str, args)],
        cwd=cwd,
        input=input,
        capture_output=True,
        text=True,
        env=ENVIRONMENT,
        check=False,
    )
    if check and result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        if not lines:
            raise GitError(f"git {args[0]} exited {result.returncode}")
        raise GitError(lines[-1].removeprefix("fatal: "))
    return result.stdout


def shallow_clone(repo: str, destination: Path) -> Path:
    """The default branch's newest commit (a local path is cloned by hard links)."""
    git("clone", "--quiet", "--depth", "1", "--no-tags", repo, destination)
    return destination
