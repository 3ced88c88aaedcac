"""Print, as JSON, the headers a baked service sends on each kind of request.

Run in its own process (``python -m testkit.probe PACKAGE``, with the bake's
``src/`` on PYTHONPATH: testkit.bake.live_headers does both) so that baked
projects with the same package name never meet in one interpreter.
"""

import importlib
import json
import sys

PATHS = [
    "/",
    "/cache",
    "/download",
    "/healthz",
    "/favicon.ico",
    "/static/style.css",
    "/no-such-page",
]


def main(package: str) -> None:
    create_app = importlib.import_module(package).create_app
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
