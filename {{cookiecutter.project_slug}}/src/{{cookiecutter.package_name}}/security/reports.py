"""The violation receiver: browsers POST reports here; the log counts them.

It takes both formats browsers send: ``application/csp-report`` (report-uri)
and ``application/reports+json`` (report-to, the Reporting API), and either
as ``application/json``. A Reporting API batch may hold ``csp-violation``
reports (Trusted Types violations among them) and ``integrity-violation``
ones (a script that Integrity-Policy refused); both are logged. What it accepts goes to the app's ``Tally``
(``aggregate``), which writes JSON lines at WARNING, the level gunicorn's
default logging shows, through the app's logger (``<package>.csp``): the
first of identical violations at once, repeats and noise as counts, at most
CSP_REPORT_LOG_RATE lines a second. Every violation of a body is counted: at
most 64 KiB, so under 2,000 of them, a few ms of work. Values come from the
sender, so they are cut to a length and JSON-encoded: a report cannot forge a
log line. Bad input gets a 4xx and nothing else, and never a 500, whatever
the body holds.
"""

import atexit
import json
import logging
import weakref
from collections.abc import Mapping
from functools import partial
from typing import IO, Any

from flask import Blueprint, Flask, Response, abort, current_app, request

from .aggregate import Tally
from .floor import PolicyError

REPORT_TYPES = frozenset(
    {"application/csp-report", "application/reports+json", "application/json"}
)
MAX_REPORT_BYTES = 64 * 1024  # refused (413) before the body is read
MAX_VALUE_CHARS = 300  # a URL or sample longer than this is cut
DEFAULT_REPORT_WINDOW = 60  # seconds in which identical violations are one count
DEFAULT_REPORT_LOG_RATE = 10  # lines a second, per process
TALLY = "security.reports"  # its key in app.extensions
# Every tally of this process, for close_all() as it stops.
TALLIES: "weakref.WeakSet[Tally]" = weakref.WeakSet()

# Our name -> the field of each format that holds it (the first one present).
CSP_REPORT_FIELDS = {
    "document": ("document-uri",),
    "directive": ("effective-directive", "violated-directive"),
    "blocked": ("blocked-uri",),
    "disposition": ("disposition",),
    "sample": ("script-sample",),
    "source": ("source-file",),  # not logged: tells an extension's violation apart
}
REPORTING_API_FIELDS = {
    "document": ("documentURL",),
    "directive": ("effectiveDirective",),
    "blocked": ("blockedURL",),
    "disposition": ("disposition",),
    "sample": ("sample",),
    "source": ("sourceFile",),
}
# An integrity-violation's body: the page, the script's URL, its destination
# (logged as the directive), and reportOnly (logged as the disposition).
INTEGRITY_FIELDS = {
    "document": ("documentURL",),
    "directive": ("destination",),
    "blocked": ("blockedURL",),
    "disposition": (),
    "sample": (),
    "source": (),
}


def register_receiver(app: Flask, path: str) -> None:
    """The receiver at ``path``, POST only; its answers get the headers like any other."""
    tally = Tally(
        partial(write_line, app.logger.getChild("csp")),
        window=report_window(app.config),
        rate=log_rate(app.config),
    )
    app.extensions[TALLY] = tally
    TALLIES.add(tally)
    blueprint = Blueprint("security", __name__)
    blueprint.add_url_rule(path, "csp_report", receive, methods=["POST"])
    app.register_blueprint(blueprint)


def report_window(config: Mapping[str, Any]) -> float:
    value = config.get("CSP_REPORT_WINDOW", DEFAULT_REPORT_WINDOW)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise PolicyError(
            f"CSP_REPORT_WINDOW must be a number of seconds above 0, e.g. "
            f"{DEFAULT_REPORT_WINDOW}, got {value!r}"
        )
    return value


def log_rate(config: Mapping[str, Any]) -> int:
    value = config.get("CSP_REPORT_LOG_RATE", DEFAULT_REPORT_LOG_RATE)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PolicyError(
            f"CSP_REPORT_LOG_RATE must be a whole number of lines a second, 1 or "
            f"more, e.g. {DEFAULT_REPORT_LOG_RATE}, got {value!r}"
        )
    return value


def write_line(logger: logging.Logger, line: dict[str, Any]) -> None:
    logger.warning("%s", json.dumps(line))


@atexit.register
def close_all() -> None:
    """Write what every tally of this process holds: it is stopping.

    gunicorn.conf.py calls it from worker_exit; atexit covers other servers.
    """
    for tally in list(TALLIES):
        tally.close()


def cut(value: Any) -> str | None:
    """Text as sent, at most MAX_VALUE_CHARS of it; anything but text is dropped."""
    if not isinstance(value, str):
        return None
    return value if len(value) <= MAX_VALUE_CHARS else value[:MAX_VALUE_CHARS] + "…"


def fields(
    body: Mapping[str, Any], names: Mapping[str, tuple[str, ...]]
) -> dict[str, Any]:
    return {
        ours: cut(next((body[k] for k in theirs if k in body), None))
        for ours, theirs in names.items()
    }


def violations(payload: Any) -> list[dict[str, Any]] | None:
    """The violations in a report body, or None when it is no report at all.

    A Reporting API batch may carry other kinds of report: those are skipped.
    Only the top level is walked, so no nesting depth costs more than that.
    """
    if isinstance(payload, dict) and "csp-report" in payload:
        body = payload["csp-report"]
        if not isinstance(body, dict):
            return None
        return [{"event": "csp-violation", **fields(body, CSP_REPORT_FIELDS)}]
    batch = payload if isinstance(payload, list) else [payload]
    if not batch or not all(
        isinstance(report, dict)
        and isinstance(report.get("type"), str)
        and isinstance(report.get("body"), dict)
        for report in batch
    ):
        return None
    found = []
    for report in batch:
        kind, body = report["type"], report["body"]
        if kind == "csp-violation":
            found.append({"event": kind, **fields(body, REPORTING_API_FIELDS)})
        elif kind == "integrity-violation":
            violation = {"event": kind, **fields(body, INTEGRITY_FIELDS)}
            report_only = body.get("reportOnly")
            if isinstance(report_only, bool):
                violation["disposition"] = "report" if report_only else "enforce"
            found.append(violation)
    return found


def read_at_most(stream: IO[bytes], limit: int) -> bytes | None:
    """The whole body if it is at most ``limit`` bytes, else None (reading
    no more than one byte past it)."""
    chunks = []
    size = 0
    while size <= limit:
        chunk = stream.read(limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return None if size > limit else b"".join(chunks)


def receive() -> Response:
    """One report POST: 204 when it was a report, a 4xx otherwise."""
    if request.mimetype not in REPORT_TYPES:
        abort(415)
    # A Content-Length past the limit is refused before a byte is read. A
    # chunked body (which the server has terminated) is read one byte past
    # it at most: Werkzeug stops there, and so do we.
    if (request.content_length or 0) > MAX_REPORT_BYTES:
        abort(413)
    request.max_content_length = MAX_REPORT_BYTES + 1
    body = read_at_most(request.stream, MAX_REPORT_BYTES)
    if body is None:
        abort(413)
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep
        abort(400)
    found = violations(payload)
    if found is None:
        abort(400)
    tally: Tally = current_app.extensions[TALLY]
    tally.add(found, cut(request.headers.get("User-Agent")))
    return Response(status=204)
