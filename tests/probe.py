"""Print, as JSON, the headers a baked service sends on each kind of request.

Run in its own process (``python probe.py PROJECT_DIR PACKAGE``) so that baked
projects with the same package name never meet in one interpreter.
"""

import json
import sys
from pathlib import Path

PATHS = [
    "/",
    "/cache",
    "/download",
    "/healthz",
    "/favicon.ico",
    "/static/style.css",
    "/no-such-page",
]


def main(project_dir: str, package: str) -> None:
    sys.path.insert(0, str(Path(project_dir) / "src"))
    create_app = __import__(package).create_app
    client = create_app({"SECRET_KEY": "probe-only"}).test_client()
    report = {}
    for scheme in ("http", "https"):
        for path in PATHS:
            with client.get(path, base_url=f"{scheme}://localhost") as response:
                report[f"{scheme} {path}"] = {
                    "status": response.status_code,
                    "headers": list(response.headers.items()),
                }
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main(*sys.argv[1:])
