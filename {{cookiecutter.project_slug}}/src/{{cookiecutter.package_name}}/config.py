"""Default settings: the answers the service was baked with.

create_app() loads these first, then FLASK_* environment variables (Flask's
``from_prefixed_env``; values are parsed as JSON, so ``FLASK_HSTS=false``
works), then the mapping it is given. Secrets come from the environment only.
"""

PROJECT_NAME = "{{ cookiecutter.project_name | escape_for_string }}"

# Security policy: the security package turns these into headers once per app.
# They may be made stronger; anything weaker than the baked answers is refused
# at start-up unless SECURITY_EXCEPTIONS names it.
HSTS = {{ cookiecutter.hsts }}
HSTS_MAX_AGE = {{ cookiecutter.hsts_max_age | int }}
HSTS_INCLUDE_SUBDOMAINS = {{ cookiecutter.hsts_include_subdomains }}
HSTS_PRELOAD = {{ cookiecutter.hsts_preload }}
FRAME_POLICY = "{{ cookiecutter.frame_policy | escape_for_string }}"

# Extend the policy here, never in the security package (the template owns it).
# Content-Security-Policy: directive -> sources to add, e.g.
# {"img-src": ["https://cdn.example.com"]} sends img-src 'self' https://cdn.example.com.
# The baseline denies by default: a directive it leaves out falls back to
# default-src 'none', so {"frame-src": ["'self'"]} sends frame-src 'self' alone
# (frames are closed until a setting opens them; workers follow script-src).
CSP_EXTEND: dict[str, list[str]] = {}
# Permissions-Policy: feature -> who may use it; every other feature stays denied.
# e.g. {"camera": ["self"], "geolocation": ["self", "https://maps.example.com"]}
PERMISSIONS_ALLOW: dict[str, list[str]] = {}
# Cross-Origin-Embedder-Policy. Under "require-corp" Chromium refuses a
# cross-origin image whose server sends no Cross-Origin-Resource-Policy (most
# CDNs): set "credentialless" to load such images without cookies instead.
COEP = "require-corp"
# Where browsers send Content-Security-Policy violation reports: a path on this
# service (its own receiver, which logs them) or the organisation's
# collector as an https:// URL. Never http://: reports carry URLs and code.
CSP_REPORT_URI = "/_security/csp-report"
# The receiver logs the first of identical violations at once and their
# repeats as one line with a count when this many seconds are over.
CSP_REPORT_WINDOW = 60
# At most this many receiver lines a second per process; the rest are counted
# on one line a second. Every line says how many violations it stands for.
CSP_REPORT_LOG_RATE = 10
# Trial a stricter policy before enforcing it: a whole policy, directive ->
# sources, sent as Content-Security-Policy-Report-Only beside the enforced
# one. Browsers report what it would block and block nothing. e.g.
# {"script-src": ["'none'"], "require-trusted-types-for": ["'script'"]}
CSP_REPORT_ONLY: dict[str, list[str]] = {}
# On pages that call csp_nonce(), also send 'strict-dynamic': scripts that a
# nonce'd script loads may run too, and 'self' no longer lets a script run,
# so every <script> of such a page, /static ones included, needs the nonce.
CSP_STRICT_DYNAMIC = False
# Trusted Types: DOM sinks (innerHTML, eval-like, script.src) refuse plain
# strings, and no Trusted Types policy may be created until CSP_EXTEND names
# it: {"trusted-types": ["app-sanitizer"]}. False needs
# SECURITY_EXCEPTIONS["TRUSTED_TYPES=false"]; trial it first with
# CSP_REPORT_ONLY = {"require-trusted-types-for": ["'script'"]}.
TRUSTED_TYPES = True
# Integrity-Policy: browsers run no script loaded without Subresource
# Integrity. Give each <script src> in a template
# integrity="{% raw %}{{ sri('app.js') }}{% endraw %}" and crossorigin="anonymous".
# False needs SECURITY_EXCEPTIONS["INTEGRITY_POLICY=false"];
# INTEGRITY_POLICY_REPORT_ONLY = True then trials it, blocking nothing.
INTEGRITY_POLICY = True
INTEGRITY_POLICY_REPORT_ONLY = False
# The only way past the floor: what is allowed -> why. Each one in use is
# logged at start-up; one that nothing uses is refused. e.g.
# {"script-src 'unsafe-eval'": "legacy chart library, SEC-4242"}
SECURITY_EXCEPTIONS: dict[str, str] = {}

# How many proxies in front of the service set X-Forwarded-For/-Proto/-Host.
# Each must overwrite a client's own -Proto and -Host (deploy/nginx.conf does):
# the app then takes them as the scheme and host the client used. 0 means no
# proxy: a client's own X-Forwarded-* headers are never believed.
TRUSTED_PROXY_HOPS = 0

# Set FLASK_SECRET_KEY in the environment; there is no default on purpose.
SECRET_KEY = None
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Cross-site request forgery: a POST, PUT, PATCH or DELETE that another site's
# page makes a visitor's browser send (Sec-Fetch-Site, else Origin, says so)
# is refused with a 403 before the view runs. GET, HEAD and OPTIONS always
# pass, so views must not change anything on them. Origins whose pages may
# send such requests too, as https://host[:port], no path, no wildcard, e.g.
# ["https://admin.example.com"]:
CSRF_TRUSTED_ORIGINS: list[str] = []
# One view that must take cross-site posts (an identity or payment provider's
# POST back): @override(cross_origin_protection=False) on it. False here turns
# the protection off for every view, and needs
# SECURITY_EXCEPTIONS["CROSS_ORIGIN_PROTECTION=false"].
CROSS_ORIGIN_PROTECTION = True
