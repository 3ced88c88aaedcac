"""Default settings: the answers the service was baked with.

create_app() loads these first, then FLASK_* environment variables (Flask's
``from_prefixed_env``; values are parsed as JSON, so ``FLASK_HSTS=false``
works), then the mapping it is given. Secrets come from the environment only.
"""

PROJECT_NAME = "{{ cookiecutter.project_name | escape_for_string }}"

# Security policy; security.py turns these into headers once per app.
HSTS = {{ cookiecutter.hsts }}
HSTS_MAX_AGE = {{ cookiecutter.hsts_max_age | int }}
HSTS_INCLUDE_SUBDOMAINS = {{ cookiecutter.hsts_include_subdomains }}
HSTS_PRELOAD = {{ cookiecutter.hsts_preload }}
FRAME_POLICY = "{{ cookiecutter.frame_policy | escape_for_string }}"

# How many proxies in front of the service set X-Forwarded-For/-Proto.
# 0 means no proxy: a client's own X-Forwarded-Proto is never believed.
TRUSTED_PROXY_HOPS = 0

# Set FLASK_SECRET_KEY in the environment; there is no default on purpose.
SECRET_KEY = None
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
