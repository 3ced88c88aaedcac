"""``python -m fleet report FLEET.toml [--json FILE] [--html FILE]``
and ``python -m fleet update FLEET.toml [--push] [--test] [--out DIR]``."""

import argparse
import sys
from pathlib import Path

from fleet.fleet_file import FleetFileError, load
from fleet.output import as_json, html, table, update_table
from fleet.report import build_report
from fleet.update import update_fleet


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
    arguments = parser.parse_args(argv)
    try:
        fleet = load(arguments.fleet)
        if arguments.command == "update":
            outcomes = update_fleet(
                fleet, arguments.out, arguments.push, arguments.test
            )
            print(update_table(outcomes, arguments.out))
            return max((outcome.exit_status for outcome in outcomes), default=0)
        result = build_report(fleet)
    except FleetFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(table(result))
    for path, text in (
        (arguments.json, as_json(result)),
        (arguments.html, html(result)),
    ):
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
            except OSError as error:
                print(f"error: cannot write {path}: {error.strerror}", file=sys.stderr)
                return 2
    return result.exit_status


if __name__ == "__main__":
    sys.exit(main())
