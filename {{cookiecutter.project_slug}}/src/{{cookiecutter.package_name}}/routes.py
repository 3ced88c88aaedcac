"""The service's pages. The security package adds the security headers to them."""

import csv
import io

from flask import (
    Blueprint,
    Response,
    current_app,
    make_response,
    render_template,
    send_file,
    send_from_directory,
)

from .security import NO_STORE

bp = Blueprint("pages", __name__)

EXPORT_ROWS = [("col1", "col2"), ("val1", "val2")]


@bp.get("/")
def index() -> str:
    return render_template("index.html")


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for it on every page; a 404 would be a console error each time."""
    return send_from_directory(
        current_app.static_folder or "static", "favicon.svg", mimetype="image/svg+xml"
    )


@bp.get("/healthz")
def healthz() -> Response:
    """For load balancers and the container's HEALTHCHECK."""
    response = make_response("ok\n")
    response.mimetype = "text/plain"
    return response


@bp.get("/cache")
def cached_data() -> Response:
    """Public and cacheable for a minute: this view's Cache-Control wins."""
    response = make_response("This data is cacheable\n")
    response.mimetype = "text/plain"
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.get("/download")
def download() -> Response:
    """A CSV export as an attachment; Werkzeug encodes the filename (RFC 6266)."""
    text = io.StringIO()
    csv.writer(text).writerows(EXPORT_ROWS)
    response = send_file(
        io.BytesIO(text.getvalue().encode()),
        mimetype="text/csv",
        as_attachment=True,
        download_name="data.csv",
    )
    # An export is user data: never cached (send_file would say no-cache).
    response.headers["Cache-Control"] = NO_STORE
    return response
