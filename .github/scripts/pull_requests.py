"""One pull request per update branch that `fleet update --push` pushed.

    python .github/scripts/pull_requests.py FLEET.toml UPDATE.json [--out DIR]

UPDATE.json is what `python -m fleet update FLEET.toml --push --json
UPDATE.json` wrote; DIR its --out (default build/fleet-update), where each
service's PR.md is. For every branch on a service's remote (pushed now, or
unchanged since a run before) it opens a pull request with PR.md as its body,
or, when the branch has one open already, refreshes its title and body: a
re-run never opens a second. One closed without merging is left closed (the
team said no; reopening is theirs to do). gh reads its token from GH_TOKEN: a
GitHub App installation token, never a person's. Exit status 0 when every
branch has its pull request, 1 when gh failed for any (one line each).
"""

import argparse
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ON_REMOTE = ("pushed", "unchanged")  # what `fleet update --push` says of a branch
GITHUB = re.compile(
    r"(?:https://|ssh://git@|git@)(?P<host>[\w.-]+)[/:](?P<owner>[\w.-]+)/(?P<name>[\w.-]+?)(?:\.git)?/?"
)


class Failed(Exception):
    """gh could not do it; the message is the one line to print."""


def repository(url: str) -> str:
    """[HOST/]OWNER/REPO, as gh's --repo takes it, from the fleet file's git URL."""
    match = GITHUB.fullmatch(url)
    if match is None:
        raise Failed(
            f"{url} is not a GitHub repository URL (https://github.com/OWNER/REPO)"
        )
    where = "" if match["host"] == "github.com" else f"{match['host']}/"
    return f"{where}{match['owner']}/{match['name']}"


def gh(*args: str) -> str:
    done = subprocess.run(["gh", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise Failed(f"gh {' '.join(args[:2])} failed: {said}")
    return done.stdout


def open_or_refresh(repo: str, branch: str, body: Path) -> str:
    """The pull request from ``branch``: opened, refreshed, or left closed."""
    title = body.read_text(encoding="utf-8").splitlines()[0].lstrip("# ").strip()
    found = gh("pr", "list", "--repo", repo, "--head", branch, "--state", "all",
               "--json", "number,state")  # fmt: skip
    listed = json.loads(found)
    open_ = [pr["number"] for pr in listed if pr["state"] == "OPEN"]
    if open_:
        gh("pr", "edit", str(open_[0]), "--repo", repo, "--title", title,
           "--body-file", str(body))  # fmt: skip
        return f"refreshed #{open_[0]}"
    if listed:
        return f"left as it is: #{listed[0]['number']} is {listed[0]['state'].lower()}"
    made = gh("pr", "create", "--repo", repo, "--head", branch, "--title", title,
              "--body-file", str(body))  # fmt: skip
    return f"opened {made.strip()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("fleet", type=Path, help="the fleet file")
    parser.add_argument("update", type=Path, help="fleet update's --json")
    parser.add_argument("--out", type=Path, default=Path("build/fleet-update"))
    arguments = parser.parse_args(argv)
    try:
        services = tomllib.loads(arguments.fleet.read_text(encoding="utf-8"))["service"]
        repos = {service["name"]: service["repo"] for service in services}
        outcomes = json.loads(arguments.update.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(
            f"error: cannot read the fleet file or fleet update's JSON: {error}",
            file=sys.stderr,
        )
        return 1
    status = 0
    for outcome in outcomes:
        if not outcome.get("branch") or outcome.get("pushed") not in ON_REMOTE:
            continue
        name, branch = outcome["name"], outcome["branch"]
        try:
            done = open_or_refresh(
                repository(repos[name]), branch, arguments.out / name / "PR.md"
            )
        except (Failed, OSError, ValueError) as error:
            print(f"error: {name} ({branch}): {error}", file=sys.stderr)
            status = 1
            continue
        print(f"{name} {branch}: {done}")
    return status


if __name__ == "__main__":
    sys.exit(main())
