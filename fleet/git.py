"""git, run quietly, never prompting: a bad URL fails at once."""

import functools
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

# A clone's own config and hooks may have been written by the service's code:
# nothing they name runs. Credential helpers are reset, then the user's and the
# system's (never the clone's) are named again. (A remote's uploadpack and
# receivepack keep the first value found: name them on the command line.)
NEUTRALISED = [
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "core.sshCommand=ssh -o BatchMode=yes",
    "protocol.ext.allow=never",
]


@functools.cache
def options() -> list[str]:
    settings = [*NEUTRALISED, *trusted_credential_helpers()]
    return [arg for setting in settings for arg in ("-c", setting)]


def trusted_credential_helpers() -> list[str]:
    """The credential helpers of the user's and the system's git config."""
    helpers = []
    for scope in ("--system", "--global"):
        listed = subprocess.run(
            ["git", "config", scope, "--get-all", "credential.helper"],
            capture_output=True, text=True, env=ENVIRONMENT, check=False,
        )  # fmt: skip
        helpers += [line for line in listed.stdout.splitlines() if line]
    return ["credential.helper=", *(f"credential.helper={h}" for h in helpers)]


def git(
    *args: str | Path,
    cwd: Path | None = None,
    check: bool = True,
    input: str | None = None,
) -> str:
    result = subprocess.run(
        ["git", *options(), *map(str, args)],
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


def archive(clone: Path) -> bytes:
    """HEAD's files as a tar archive, with nothing of ``.git``."""
    result = subprocess.run(
        ["git", *options(), "archive", "--format=tar", "HEAD"],
        cwd=clone, capture_output=True, env=ENVIRONMENT, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise GitError(result.stderr.decode(errors="replace").strip().splitlines()[-1])
    return result.stdout
