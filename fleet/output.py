"""The report for people (a table), for machines (JSON) and for a browser (one HTML page)."""

import json
from html import escape

from fleet.report import Report, Row
from fleet.update import Outcome

COLUMNS = [
    "name",
    "baseline",
    "latest",
    "behind",
    "owned_changed",
    "exceptions",
    "update",
    "conflicts",
    "error",
    "live",
    "live_findings",
]


def cell(row: Row, column: str) -> str:
    value = getattr(row, column)
    if column == "exceptions":
        if row.error:
            return ""
        return "unreadable" if value is None else ", ".join(value) or "none"
    if column == "live_findings":
        return "; ".join(value)  # each is a sentence, commas and all
    if isinstance(value, list):
        return ", ".join(value)
    return "" if value is None else str(value)


def page_cell(row: Row, column: str) -> str:
    """As in the table, but each exception with its reason: the register, in full."""
    if column == "exceptions" and row.exceptions:
        return "; ".join(f"{key}: {why}" for key, why in row.exceptions.items())
    return cell(row, column)


def fixed_width(cells: list[list[str]]) -> list[str]:
    """Rows of cells as lines, each column as wide as its widest cell."""
    widths = [max(len(line[i]) for line in cells) for i in range(len(cells[0]))]
    return [
        "  ".join(
            text.ljust(width) for text, width in zip(line, widths, strict=True)
        ).rstrip()
        for line in cells
    ]


def table(report: Report) -> str:
    """A fixed-width table, worst first, one line per service, then the counts."""
    cells = [[column.replace("_", " ") for column in COLUMNS]]
    cells += [[cell(row, column) for column in COLUMNS] for row in report.rows]
    counts = ", ".join(f"{count} {what}" for what, count in report.summary().items())
    return "\n".join(
        [*fixed_width(cells), "", f"minimum {report.fleet.minimum}: {counts}"]
    )


def as_json(report: Report) -> str:
    return json.dumps([row.as_json() for row in report.rows], indent=2) + "\n"


STYLE = """
body { font: 15px/1.4 system-ui, sans-serif; margin: 2em; color: #1b1b1b; }
dl { display: flex; gap: 1.5em; flex-wrap: wrap; }
dl div { border: 1px solid #ccc; border-radius: 6px; padding: .5em 1em; }
dt { font-size: 90%; color: #555; } dd { margin: 0; font-size: 180%; font-weight: bold; }
table { border-collapse: collapse; } th, td { text-align: left; padding: .3em .7em; border-bottom: 1px solid #ddd; vertical-align: top; }
tr.error { background: #fde2e1; } tr.attention { background: #fff4d6; } tr.ok { background: #e6f4ea; }
code { font-size: 90%; }
"""
# No external anything: the page says so to the browser, which would log any attempt.
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def html(report: Report) -> str:
    summary = "".join(
        f'<div><dt>{escape(what)}</dt><dd data-count="{escape(what)}">{count}</dd></div>'
        for what, count in report.summary().items()
    )
    header = "".join(f"<th>{column.replace('_', ' ')}</th>" for column in COLUMNS)
    body = "".join(
        f'<tr class="{state(report, row)}">'
        + "".join(
            f"<td>{escape(page_cell(row, column), quote=False)}</td>"
            for column in COLUMNS
        )
        + "</tr>"
        for row in report.rows
    )
    title = f"Fleet on {escape(report.fleet.template)}"
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{PAGE_POLICY}">'
        '<link rel="icon" href="data:,">'
        f"<title>{title}</title><style>{STYLE}</style></head><body>"
        f"<h1>{title}</h1><p>Minimum release: <code>{escape(report.fleet.minimum)}</code>; "
        f"newest: <code>{escape(report.rows[0].latest or 'none') if report.rows else 'none'}</code>.</p>"
        f"<dl>{summary}</dl><table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"
        "</body></html>\n"
    )


def state(report: Report, row: Row) -> str:
    if row.error or row.live == "unreachable":
        return "error"
    if (
        row.below(report.fleet.minimum)
        or row.owned_changed
        or row.update == "conflict"
        or row.behind
        or row.live in ("differs", "below-floor")
    ):
        return "attention"
    return "ok"


UPDATE_COLUMNS = [
    "name",
    "baseline",
    "release",
    "branch",
    "merge",
    "lock",
    "tests",
    "pushed",
    "conflicts",
    "error",
]


def update_table(outcomes: list[Outcome], out) -> str:
    """One line per service: its branch and what became of it."""
    cells = [UPDATE_COLUMNS]
    for outcome in outcomes:
        values = [getattr(outcome, column) for column in UPDATE_COLUMNS]
        cells.append(
            [
                "" if v is None else ", ".join(v) if isinstance(v, list) else str(v)
                for v in values
            ]
        )
    branches = sum(outcome.branch is not None for outcome in outcomes)
    return "\n".join(
        [
            *fixed_width(cells),
            "",
            f"{branches} branches; each service's clone and PR.md in {out}/<name>/",
        ]
    )
