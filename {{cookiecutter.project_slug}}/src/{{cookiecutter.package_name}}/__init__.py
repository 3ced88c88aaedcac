"""The service's application factory."""

from collections.abc import Mapping
from typing import Any

from flask import Flask

from . import config as defaults
from . import routes, security


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: baked defaults, then FLASK_* environment, then ``config``.

    ``config`` is how tests and embedding code override settings, as in
    Flask's tutorial.
    """
    app = Flask(__name__)
    app.config.from_object(defaults)
    app.config.from_prefixed_env()
    if config is not None:
        app.config.from_mapping(config)
    if not app.config["SECRET_KEY"] and not app.testing:
        raise security.PolicyError(
            "FLASK_SECRET_KEY is not set: export a long random value, e.g. from "
            "python3 -c 'import secrets; print(secrets.token_hex(32))'"
        )
    app.register_blueprint(routes.bp)
    # Last, so it checks every view's override against the floor at start-up.
    security.init_app(app)
    return app
