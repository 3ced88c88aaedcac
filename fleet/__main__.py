"""``python -m fleet report FLEET.toml [--json FILE] [--html FILE] [--shard K/N]``,
``python -m fleet update FLEET.toml [--push] [--test] [--out DIR] [--json FILE] [--shard K/N]``
and ``python -m fleet merge FLEET.toml PART.json... [--json FILE] [--html FILE]``."""

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from fleet import shard
from fleet.fleet_file import FleetFileError, load
from fleet.join import join
from fleet.output import as_json, html, table, update_table
from fleet.report import build_report
from fleet.update import update_fleet

SHARD_HELP = "only this share of the services (a stable split by name), e.g. 2/4"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fleet", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser(
        "report",
        help="every service's release, drift, exceptions, update preview and live headers",
        description="Exit status: 0 every service at or above the minimum with no "
        "owned file changed and its url (if any) live as its repository says, "
        "1 any is not, 2 any could not be read (its url included).",
    )
    report.add_argument("fleet", type=Path, help="the fleet file (TOML)")
    report.add_argument(
        "--json", type=Path, metavar="FILE", help="also write the rows as JSON"
    )
    report.add_argument(
        "--html", type=Path, metavar="FILE", help="also write one HTML page"
    )
    report.add_argument("--shard", metavar="K/N", help=SHARD_HELP)
    update = commands.add_parser(
        "update",
        help="a branch baseline/vX.Y.Z on every service behind the newest release",
        description="Exit status: 0 every branch made cleanly (and its tests passed, "
        "with --test, or are off: test = false in the fleet file), 1 any has conflicts "
        "or failed tests, 2 any service could not be read.",
    )
    update.add_argument("fleet", type=Path, help="the fleet file (TOML)")
    update.add_argument(
        "--push", action="store_true", help="push each branch to the service's remote"
    )
    update.add_argument(
        "--test",
        action="store_true",
        help="run each service's tests on its branch in a fresh venv (runs its code: use a CI runner)",
    )
    update.add_argument(
        "--out", type=Path, default=Path("build/fleet-update"), metavar="DIR",
        help="where each service's clone, PR.md and tests.log go (default: %(default)s)",
    )  # fmt: skip
    update.add_argument(
        "--json", type=Path, metavar="FILE", help="also write the table's rows as JSON"
    )
    update.add_argument("--shard", metavar="K/N", help=SHARD_HELP)
    merge = commands.add_parser(
        "merge",
        help="the report over the whole fleet from its shards' --json",
        description="The table, JSON, page and exit status of `report` over the whole "
        "fleet file, from the JSON of `report --shard K/N` for every K.",
    )
    merge.add_argument("fleet", type=Path, help="the fleet file the shards read")
    merge.add_argument("parts", type=Path, nargs="+", metavar="PART.json")
    merge.add_argument("--json", type=Path, metavar="FILE", help="also write the rows")
    merge.add_argument("--html", type=Path, metavar="FILE", help="also write the page")
    arguments = parser.parse_args(argv)
    try:
        given = getattr(arguments, "shard", None)  # a bad K/N is refused first
        share = None if given is None else shard.parse(given)
        fleet = load(arguments.fleet)
        if share is not None:
            fleet = shard.select(fleet, *share)
        if arguments.command == "update":
            outcomes = update_fleet(
                fleet, arguments.out, arguments.push, arguments.test
            )
            print(update_table(outcomes, arguments.out))
            rows = [asdict(outcome) for outcome in outcomes]
            written = write(arguments.json, json.dumps(rows, indent=2) + "\n")
            status = max((outcome.exit_status for outcome in outcomes), default=0)
            return status if written else 2
        if arguments.command == "merge":
            result = join(fleet, arguments.parts)
        else:
            result = build_report(fleet)
    except FleetFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(table(result))
    if not write(arguments.json, as_json(result)) or not write(
        arguments.html, html(result)
    ):
        return 2
    return result.exit_status


def write(path: Path | None, text: str) -> bool:
    """``text`` into ``path``, if one is given; False, with one line said, if it cannot be."""
    if path is None:
        return True
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        print(f"error: cannot write {path}: {error.strerror}", file=sys.stderr)
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
