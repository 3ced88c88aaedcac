"""``python -m fleet merge``: the shards' JSON joined into the one report.

Each row is read back as the Row it was written from, field for field, so a
field the report gains travels through unchanged; the fleet file gives the
minimum and the services, and every service must be in exactly one part. The
rows are then put in the whole report's order, so the table, JSON, page and
exit status are those of ``fleet report`` over the whole fleet.
"""

import json
from dataclasses import fields
from pathlib import Path

from fleet.fleet_file import Fleet, FleetFileError
from fleet.report import Report, Row, worst_first


def join(fleet: Fleet, parts: list[Path]) -> Report:
    """The report over ``fleet`` from the parts' rows; one line when they do not add up."""
    listed = {service.name for service in fleet.services}
    found: dict[str, Path] = {}
    rows = []
    for part in parts:
        for data in read_part(part):
            name = data.get("name") if isinstance(data, dict) else None
            if not isinstance(name, str):
                raise FleetFileError(
                    f"{part}: not a fleet report's JSON (a row without a name)"
                )
            if name in found:
                raise FleetFileError(
                    f"service {name!r} is in {found[name]} and again in {part}: "
                    "give each shard's JSON once, all from one --shard K/N split"
                )
            if name not in listed:
                raise FleetFileError(
                    f"{part}: service {name!r} is not in the fleet file: "
                    "merge with the fleet file the shards were run with"
                )
            found[name] = part
            rows.append(row(part, data))
    missing = [s.name for s in fleet.services if s.name not in found]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise FleetFileError(
            f"no part has service {missing[0]!r}{more}: give every shard's JSON "
            "(a shard that failed has none; run it again)"
        )
    newest = {row.latest for row in rows}
    if len(newest) > 1:
        raise FleetFileError(
            "the parts saw different newest releases "
            f"({', '.join(sorted(map(str, newest)))}): a release came between the "
            "shards' runs; run them again"
        )
    try:  # a value of the wrong kind (edited by hand?) is the parts' fault: say so
        report = Report(fleet, worst_first(rows, fleet.minimum))
        report.summary()
    except (TypeError, ValueError, AttributeError):
        raise FleetFileError(
            "the parts are not a fleet report's JSON: a row has a value of the wrong "
            "kind (a text where --json writes a number, say)"
        ) from None
    return report


def read_part(part: Path) -> list:
    try:
        data = json.loads(part.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FleetFileError(f"{part}: no such file") from None
    except OSError as error:
        raise FleetFileError(f"cannot read {part}: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise FleetFileError(f"{part} is not JSON: {error}") from None
    if not isinstance(data, list):
        raise FleetFileError(
            f"{part}: not a fleet report's JSON (a list of rows, as --json writes)"
        )
    return data


def row(part: Path, data: dict) -> Row:
    """The Row as the report made it: exactly its fields, no more, no fewer."""
    names = [field.name for field in fields(Row)]
    unknown = [key for key in data if key not in names]
    absent = [key for key in names if key not in data]
    if unknown or absent:
        what = ", ".join(
            [f"unknown {key!r}" for key in unknown] + [f"no {key!r}" for key in absent]
        )
        raise FleetFileError(
            f"{part}: the row of service {data['name']!r} does not match this fleet "
            f"tool's rows ({what}): merge with the version that wrote the parts"
        )
    return Row(**data)
