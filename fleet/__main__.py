"""``python -m fleet report FLEET.toml [--json FILE] [--html FILE]``."""

import argparse
import sys
from pathlib import Path

from fleet.fleet_file import FleetFileError, load
from fleet.output import as_json, html, table
from fleet.report import build_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fleet", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser(
        "report",
        help="every service's release, drift, exceptions and update preview",
        description="Exit status: 0 every service at or above the minimum with no "
        "owned file changed, 1 any is not, 2 any could not be read.",
    )
    report.add_argument("fleet", type=Path, help="the fleet file (TOML)")
    report.add_argument(
        "--json", type=Path, metavar="FILE", help="also write the rows as JSON"
    )
    report.add_argument(
        "--html", type=Path, metavar="FILE", help="also write one HTML page"
    )
    arguments = parser.parse_args(argv)
    try:
        result = build_report(load(arguments.fleet))
    except FleetFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(table(result))
    for path, text in (
        (arguments.json, as_json(result)),
        (arguments.html, html(result)),
    ):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return result.exit_status


if __name__ == "__main__":
    sys.exit(main())
