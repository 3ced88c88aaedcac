"""Gunicorn settings for production, read from the environment.

Run with ``gunicorn --config gunicorn.conf.py``.
"""

import json
import os

wsgi_app = "{{ cookiecutter.package_name }}.wsgi:app"
bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))
accesslog = "-"
errorlog = "-"

# One knob decides whom to trust: the app's TRUSTED_PROXY_HOPS (ProxyFix).
# With no proxy, gunicorn must not believe X-Forwarded-* either, not even from
# localhost (its default); with one, the proxy is the only way in, so gunicorn
# takes its headers too and its logs agree with the app.
trusted_proxy_hops = json.loads(os.environ.get("FLASK_TRUSTED_PROXY_HOPS", "0"))
forwarded_allow_ips = "*" if trusted_proxy_hops else ""
