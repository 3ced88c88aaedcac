"""The CSP violation receiver: browsers POST reports here; each becomes one log line.

It takes both formats browsers send: ``application/csp-report`` (report-uri)
and ``application/reports+json`` (report-to, the Reporting API), and either
as ``application/json``. Each violation is logged as one JSON object at
WARNING, the level gunicorn's default logging shows, through the app's
logger (``<package>.csp``). Values come from the sender, so they are cut to
a length and JSON-encoded: a report cannot forge a log line. Bad input gets
a 4xx and nothing else, and never a 500, whatever the body holds.
"""

import json
from collections.abc import Mapping
from typing import IO, Any

from flask import Blueprint, Flask, Response, abort, current_app, request

REPORT_TYPES = frozenset(
    {"application/csp-report", "application/reports+json", "application/json"}
)
MAX_REPORT_BYTES = 64 * 1024  # refused (413) before the body is read
MAX_VALUE_CHARS = 300  # a URL or sample longer than this is cut
MAX_LOGGED = 100  # violations per request; a batch is rarely more than a few

# Our name -> the field of each format that holds it (the first one present).
CSP_REPORT_FIELDS = {
    "document": ("document-uri",),
    "directive": ("effective-directive", "violated-directive"),
    "blocked": ("blocked-uri",),
    "disposition": ("disposition",),
    "sample": ("script-sample",),
}
REPORTING_API_FIELDS = {
    "document": ("documentURL",),
    "directive": ("effectiveDirective",),
    "blocked": ("blockedURL",),
    "disposition": ("disposition",),
    "sample": ("sample",),
}


def register_receiver(app: Flask, path: str) -> None:
    """The receiver at ``path``, POST only; its answers get the headers like any other."""
    blueprint = Blueprint("security", __name__)
    blueprint.add_url_rule(path, "csp_report", receive, methods=["POST"])
    app.register_blueprint(blueprint)


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
        return [fields(body, CSP_REPORT_FIELDS)] if isinstance(body, dict) else None
    batch = payload if isinstance(payload, list) else [payload]
    if not batch or not all(
        isinstance(report, dict)
        and isinstance(report.get("type"), str)
        and isinstance(report.get("body"), dict)
        for report in batch
    ):
        return None
    return [
        fields(report["body"], REPORTING_API_FIELDS)
        for report in batch
        if report["type"] == "csp-violation"
    ]


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
    logger = current_app.logger.getChild("csp")
    user_agent = cut(request.headers.get("User-Agent"))
    for violation in found[:MAX_LOGGED]:
        line = {"event": "csp-violation", **violation, "user_agent": user_agent}
        logger.warning("%s", json.dumps(line))
    if len(found) > MAX_LOGGED:
        skipped = {
            "event": "csp-violations-not-logged",
            "count": len(found) - MAX_LOGGED,
        }
        logger.warning("%s", json.dumps(skipped))
    return Response(status=204)
