"""Script integrity: the Integrity-Policy header, and ``sri()`` for the pages.

Under ``Integrity-Policy: blocked-destinations=(script)`` browsers run no
script that was loaded without Subresource Integrity, so a script whose bytes
change under the page (a compromised static host or CDN) is refused. A page
gives each ``<script src>`` its integrity and ``crossorigin="anonymous"``
(browsers refuse a script fetched without CORS under this policy, even from
this origin):

    {% raw %}<script src="{{ url_for('static', filename='app.js') }}"
            integrity="{{ sri('app.js') }}" crossorigin="anonymous"></script>{% endraw %}

The template owns this module. The header is decided once per app, with the
rest of the policy (``policy.build``); ``sri()`` hashes each static file once
per app and keeps the value.
"""

import base64
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import current_app
from werkzeug.security import safe_join

from .floor import Floor, PolicyError, required_on

ENFORCED = "Integrity-Policy"
TRIAL = "Integrity-Policy-Report-Only"
# What is refused without integrity: scripts, the destination browsers support.
BLOCKED = "blocked-destinations=(script)"
SRI_CACHE = "security.sri"  # its key in app.extensions: path -> (stat, value)


def integrity_header(config: Mapping[str, Any], floor: Floor) -> str | None:
    """Which header to send: the policy, its report-only trial, or none.

    INTEGRITY_POLICY = False needs the named exception;
    INTEGRITY_POLICY_REPORT_ONLY = True then trials it, blocking nothing.
    """
    enforced = required_on(config, "INTEGRITY_POLICY", floor)
    trial = config.get("INTEGRITY_POLICY_REPORT_ONLY", False)
    if not isinstance(trial, bool):
        raise PolicyError(
            f"INTEGRITY_POLICY_REPORT_ONLY must be true or false, got {trial!r}"
        )
    if enforced and trial:
        raise PolicyError(
            "INTEGRITY_POLICY_REPORT_ONLY trials a policy that INTEGRITY_POLICY "
            "already enforces: remove it, or trial with INTEGRITY_POLICY = False"
        )
    if enforced:
        return ENFORCED
    return TRIAL if trial else None


def integrity_headers(
    header: str | None, report_group: str | None
) -> list[tuple[str, str]]:
    """``header`` (or nothing), reporting to ``report_group`` of Reporting-Endpoints.

    No group over plain HTTP: browsers deliver Reporting API reports from
    secure pages only, and Reporting-Endpoints is sent over HTTPS only. The
    policy is enforced there just the same.
    """
    if header is None:
        return []
    if report_group is None:
        return [(header, BLOCKED)]
    return [(header, f"{BLOCKED}, endpoints=({report_group})")]


def sri(filename: str) -> str:
    """The ``sha384-...`` integrity of ``static/<filename>``, for a script tag.

    Hashed on first use and kept for the app's life (in debug mode, hashed
    again when the file changes). A file that is not there is an error when
    the page renders, never a script the browser silently refuses.
    """
    app = current_app
    folder = app.static_folder
    path = safe_join(folder, filename) if folder else None
    if path is None:
        raise FileNotFoundError(
            f"sri({filename!r}): give a file name under static/, e.g. sri('app.js')"
        )
    cache: dict[str, tuple[tuple[int, int], str]]
    cache = app.extensions.setdefault(SRI_CACHE, {})
    known = cache.get(path)
    if known is not None and not app.debug:
        return known[1]
    try:
        stat = Path(path).stat()
        signature = (stat.st_mtime_ns, stat.st_size)
        if known is not None and known[0] == signature:
            return known[1]
        with open(path, "rb") as file:
            digest = hashlib.file_digest(file, "sha384").digest()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise FileNotFoundError(
            f"sri({filename!r}): there is no file {path}; "
            "name a file under static/, as url_for('static', filename=...) does"
        ) from None
    value = "sha384-" + base64.b64encode(digest).decode("ascii")
    cache[path] = (signature, value)
    return value
