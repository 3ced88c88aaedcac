"""The repositories of one shard's services, for the GitHub App token's scope.

    .venv/bin/python .github/scripts/shard_repositories.py FLEET.toml K/N OWNER

Prints their names, comma-separated, as actions/create-github-app-token's
``repositories`` takes them: the token then reaches this shard's services and
nothing else of the installation. The split is fleet's own (``--shard K/N``).
A service that is not a repository of OWNER on GitHub is refused in one line
(exit 2): one App installation covers one owner.
"""

import sys
from pathlib import Path

from pull_requests import Failed, repository

from fleet import shard
from fleet.fleet_file import FleetFileError, load


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(f"usage: {Path(__file__).name} FLEET.toml K/N OWNER", file=sys.stderr)
        return 2
    fleet_file, given, owner = argv
    try:
        share = shard.parse(given)
        services = shard.select(load(Path(fleet_file)), *share).services
        names = []
        for service in services:
            full = repository(service.repo)
            if full.count("/") != 1 or full.split("/")[0].lower() != owner.lower():
                raise Failed(
                    f"service {service.name!r} is {service.repo}, not a repository "
                    f"of {owner} on github.com: the App's token covers one owner's"
                )
            names.append(full.split("/")[1])
    except (FleetFileError, Failed) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(",".join(names))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
