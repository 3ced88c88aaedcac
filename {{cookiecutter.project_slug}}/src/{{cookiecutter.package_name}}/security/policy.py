"""Settings to headers: the baked answers and the team's settings become the
header lists every response gets, checked against the floor (``floor``).

The template owns this module. A team extends the policy in its settings
(CSP_EXTEND, PERMISSIONS_ALLOW, COEP in config.py or FLASK_* variables) and
per view (``security.override``); anything that would weaken the floor is
refused, in one line naming the SECURITY_EXCEPTIONS key that would allow it.
What a CSP source may be, and the CSP's report-only and nonce variants, are
in ``csp``. Everything here runs once per app (or once per overridden view),
never per request.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .csp import (
    HOST,
    HTTPS_ORIGIN,
    add_sources,
    check_frame_ancestors,
    extend_csp,
    report_only_policy,
    with_nonce,
    with_report_sample,
)
from .floor import Floor, PolicyError, named_lists, read_exceptions

# The answers this service was baked with. Settings may be stronger; anything
# weaker needs a named exception.
BAKED_HSTS = {{ cookiecutter.hsts }}
BAKED_HSTS_MAX_AGE = {{ cookiecutter.hsts_max_age | int }}
BAKED_HSTS_INCLUDE_SUBDOMAINS = {{ cookiecutter.hsts_include_subdomains }}
BAKED_HSTS_PRELOAD = {{ cookiecutter.hsts_preload }}
BAKED_FRAME_POLICY = "{{ cookiecutter.frame_policy | escape_for_string }}"
BAKED_ANSWERS = {
    "HSTS": BAKED_HSTS,
    "HSTS_MAX_AGE": BAKED_HSTS_MAX_AGE,
    "HSTS_INCLUDE_SUBDOMAINS": BAKED_HSTS_INCLUDE_SUBDOMAINS,
    "HSTS_PRELOAD": BAKED_HSTS_PRELOAD,
    "FRAME_POLICY": BAKED_FRAME_POLICY,
}

NO_STORE = "no-store, max-age=0"
HSTS_HEADER = "Strict-Transport-Security"
FRAME_ANCESTORS = {"SAMEORIGIN": "'self'", "DENY": "'none'"}
COEP_VALUES = ("require-corp", "credentialless", "unsafe-none")

# Where violation reports go unless CSP_REPORT_URI says otherwise: the
# receiver that init_app registers (security/reports.py).
DEFAULT_REPORT_URI = "/_security/csp-report"
# The Reporting API group that report-to names and Reporting-Endpoints defines.
REPORT_GROUP = "csp"
# The Content-Security-Policy before the team's settings, frame-ancestors
# aside (from FRAME_POLICY). Deny by default: 'self' by name for what a web
# service loads, and nothing for the rest (frames, and any fetch directive
# browsers add later), unless CSP_EXTEND names it. Workers follow script-src.
CSP_BASELINE: dict[str, tuple[str, ...]] = {
    "default-src": ("'none'",),
    "script-src": ("'self'",),
    "style-src": ("'self'",),
    "img-src": ("'self'",),
    "font-src": ("'self'",),
    "connect-src": ("'self'",),
    "manifest-src": ("'self'",),
    "media-src": ("'self'",),
    "object-src": ("'none'",),
    "base-uri": ("'self'",),
    "form-action": ("'self'",),
}
# Denied unless PERMISSIONS_ALLOW says otherwise: the OWASP Secure Headers
# Project's list, less web-share, which Chromium reports as unrecognized.
# sync-xhr keeps (self), as in that list.
PERMISSIONS_BASELINE: dict[str, tuple[str, ...]] = {
    "accelerometer": (),
    "autoplay": (),
    "camera": (),
    "cross-origin-isolated": (),
    "display-capture": (),
    "encrypted-media": (),
    "fullscreen": (),
    "geolocation": (),
    "gyroscope": (),
    "keyboard-map": (),
    "magnetometer": (),
    "microphone": (),
    "midi": (),
    "payment": (),
    "picture-in-picture": (),
    "publickey-credentials-get": (),
    "screen-wake-lock": (),
    "sync-xhr": ("self",),
    "usb": (),
    "xr-spatial-tracking": (),
    "clipboard-read": (),
    "clipboard-write": (),
    "gamepad": (),
    "hid": (),
    "idle-detection": (),
    "interest-cohort": (),
    "serial": (),
    "unload": (),
}

REPORT_PATH = re.compile(r"/(?!/)[A-Za-z0-9._~%/+-]*\Z")  # "//host" is another host
REPORT_URL = re.compile(
    r"https://(?:[a-z0-9-]+\.)*[a-z0-9-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~%/+-]*)?\Z",
    re.IGNORECASE | re.ASCII,
)
FEATURE_EXAMPLE = '{"camera": ["self"]}'


@dataclass(frozen=True)
class Extension:
    """What one place adds to the baseline: the settings, or one view's override."""

    where: str
    csp_extend: Mapping[str, Sequence[str]] = field(default_factory=dict)
    permissions_allow: Mapping[str, Sequence[str]] = field(default_factory=dict)
    frame_ancestors: Sequence[str] | None = None
    cross_origin_protection: bool = True  # False: past the rule (cross_origin)


@dataclass
class Policy:
    """The headers one kind of response gets, and what shaped them.

    ``nonce_https``/``nonce_http`` are the CSP headers of a page that used a
    nonce, with NONCE_SLOT where the nonce goes: the hook's static lists stay
    as they are, and a nonce costs one replace per header.
    """

    https: list[tuple[str, str]]
    http: list[tuple[str, str]]
    exceptions_used: dict[str, str]
    nonce_https: list[tuple[str, str]] = field(default_factory=list)
    nonce_http: list[tuple[str, str]] = field(default_factory=list)
    report_uri: str = DEFAULT_REPORT_URI
    # CSP directives the settings (or the view's override) extend: where each
    # started (its own sources, or its fallback's) and what it sends.
    csp_extended: dict[str, tuple[str, str]] = field(default_factory=dict)


def whole_number(config: Mapping[str, Any], key: str) -> int:
    """A setting that must be an int >= 0 (FLASK_* variables arrive as JSON)."""
    value = config[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PolicyError(f"{key} must be a whole number >= 0, got {value!r}")
    return value


def yes_no(config: Mapping[str, Any], key: str, default: bool | None = None) -> bool:
    value = config[key] if default is None else config.get(key, default)
    if not isinstance(value, bool):
        raise PolicyError(f"{key} must be true or false, got {value!r}")
    return value


def hsts_value(config: Mapping[str, Any], floor: Floor) -> str | None:
    """The Strict-Transport-Security value, or None when HSTS is off."""
    hsts = yes_no(config, "HSTS")
    if BAKED_HSTS and not hsts:
        floor.allow("HSTS=false", "HSTS=false", "this service was baked with HSTS on")
    if not hsts:
        return None
    max_age = whole_number(config, "HSTS_MAX_AGE")
    subdomains = yes_no(config, "HSTS_INCLUDE_SUBDOMAINS")
    preload = yes_no(config, "HSTS_PRELOAD")
    if BAKED_HSTS:
        if max_age < BAKED_HSTS_MAX_AGE:
            floor.allow(
                f"HSTS_MAX_AGE={max_age}",
                f"HSTS_MAX_AGE={max_age}",
                f"it is shorter than the baked {BAKED_HSTS_MAX_AGE}",
            )
        for key, baked, value in (
            ("HSTS_INCLUDE_SUBDOMAINS", BAKED_HSTS_INCLUDE_SUBDOMAINS, subdomains),
            ("HSTS_PRELOAD", BAKED_HSTS_PRELOAD, preload),
        ):
            if baked and not value:
                floor.allow(
                    f"{key}=false", f"{key}=false", "this service was baked with it on"
                )
    return (
        f"max-age={max_age}"
        + ("; includeSubDomains" if subdomains else "")
        + ("; preload" if preload else "")
    )


def frame_policy(config: Mapping[str, Any], floor: Floor) -> str:
    policy = config["FRAME_POLICY"]
    if not isinstance(policy, str) or policy not in FRAME_ANCESTORS:
        raise PolicyError(
            f"FRAME_POLICY must be one of {sorted(FRAME_ANCESTORS)}, got {policy!r}"
        )
    if BAKED_FRAME_POLICY == "DENY" and policy == "SAMEORIGIN":
        floor.allow(
            "FRAME_POLICY=SAMEORIGIN",
            "FRAME_POLICY=SAMEORIGIN",
            "this service was baked with DENY",
        )
    return str(policy)


def coep(config: Mapping[str, Any], floor: Floor) -> str:
    value = config.get("COEP", "require-corp")
    if value not in COEP_VALUES:
        raise PolicyError(
            f"COEP must be one of {', '.join(COEP_VALUES)}, got {value!r}"
        )
    if value == "unsafe-none":
        floor.allow(
            "COEP=unsafe-none",
            "COEP=unsafe-none",
            'it turns cross-origin isolation off; "credentialless" lets '
            "cross-origin images load without it",
        )
    return str(value)


def allow_permissions(
    permissions: dict[str, list[str]],
    additions: Mapping[str, Sequence[str]],
    where: str,
    floor: Floor,
) -> None:
    entries = named_lists(additions, where, PERMISSIONS_BASELINE, FEATURE_EXAMPLE)
    for feature, allowlist in entries:
        for item in allowlist:
            if item == "self" or HTTPS_ORIGIN.match(item):
                pass
            elif item == "*":
                floor.allow(
                    f"PERMISSIONS_ALLOW {feature} *",
                    f"{where}: {feature} *",
                    "* grants the feature to every origin",
                )
            elif item.lower().startswith("http://") and HOST.match(item):
                floor.allow(
                    f"PERMISSIONS_ALLOW {feature} {item}",
                    f"{where}: {feature} {item}",
                    "plain http is mixed content",
                )
            else:
                raise PolicyError(
                    f'{where}[{feature!r}] holds {item!r}: give "self" or https:// '
                    'origins, e.g. ["self", "https://maps.example.com"]'
                )
            current = permissions[feature]
            if item not in current:
                current.append(item)


def permissions_value(permissions: Mapping[str, Sequence[str]]) -> str:
    def allowlist(items: Sequence[str]) -> str:
        if "*" in items:
            return "*"
        return "(" + " ".join(i if i == "self" else f'"{i}"' for i in items) + ")"

    return ", ".join(f"{f}={allowlist(items)}" for f, items in permissions.items())


def csp_value(
    csp: Mapping[str, Sequence[str]],
    https: bool,
    report_uri: str,
    *,
    enforce: bool = True,
) -> str:
    """One policy as a header value, saying where its violations go.

    report-uri always; report-to only over HTTPS: Chromium ignores report-uri
    when report-to is there too, and delivers report-to only from secure pages.
    """
    directives = [f"{d} {' '.join(sources)}" for d, sources in csp.items()]
    directives.append(f"report-uri {report_uri}")
    if https:
        directives.append(f"report-to {REPORT_GROUP}")
        # Over plain HTTP it would break the page's own loads; a report-only
        # policy cannot upgrade anything (Chromium logs an error).
        if enforce:
            directives.append("upgrade-insecure-requests")
    return "; ".join(directives)


def report_uri(config: Mapping[str, Any]) -> str:
    """Where reports go: a path on this service (its own receiver) or an https URL."""
    uri = config.get("CSP_REPORT_URI", DEFAULT_REPORT_URI)
    if isinstance(uri, str) and (REPORT_PATH.match(uri) or REPORT_URL.match(uri)):
        return uri
    if isinstance(uri, str) and uri.lower().startswith("http://"):
        raise PolicyError(
            f"CSP_REPORT_URI {uri!r} is refused: reports carry page URLs and code "
            "samples, so they go over https only; give an https:// URL or a path "
            f"on this service, e.g. {DEFAULT_REPORT_URI}"
        )
    raise PolicyError(
        "CSP_REPORT_URI must be a path on this service or an https:// URL, e.g. "
        f"{DEFAULT_REPORT_URI} or https://csp.example.com/report, got {uri!r}"
    )


def build(config: Mapping[str, Any], view: Extension | None = None) -> Policy:
    """The headers for the settings in ``config``, and for one view's override."""
    floor = Floor(read_exceptions(config))
    frames = frame_policy(config, floor)
    hsts = hsts_value(config, floor)
    embedder = coep(config, floor)
    reports_to = report_uri(config)
    trial = report_only_policy(config)
    strict_dynamic = yes_no(config, "CSP_STRICT_DYNAMIC", default=False)

    csp = {d: list(sources) for d, sources in CSP_BASELINE.items()}
    csp["frame-ancestors"] = [FRAME_ANCESTORS[frames]]
    permissions = {f: list(items) for f, items in PERMISSIONS_BASELINE.items()}
    started = extend_csp(csp, config.get("CSP_EXTEND") or {}, "CSP_EXTEND", floor)
    allow_permissions(
        permissions, config.get("PERMISSIONS_ALLOW") or {}, "PERMISSIONS_ALLOW", floor
    )
    framed_by_others = False
    if view is not None:
        started = extend_csp(csp, view.csp_extend, f"{view.where} csp_extend", floor)
        allow_permissions(
            permissions,
            view.permissions_allow,
            f"{view.where} permissions_allow",
            floor,
        )
        if view.frame_ancestors:
            check_frame_ancestors(
                view.frame_ancestors, f"{view.where} frame_ancestors", floor
            )
            add_sources(csp["frame-ancestors"], view.frame_ancestors)
            framed_by_others = True
    csp = with_report_sample(csp)
    extended = {d: (start, " ".join(csp[d])) for d, start in started.items()}

    def policies(
        https: bool,
        enforced: Mapping[str, Sequence[str]],
        trial: Mapping[str, Sequence[str]] | None,
    ) -> list[tuple[str, str]]:
        sent = [("Content-Security-Policy", csp_value(enforced, https, reports_to))]
        if trial is not None:
            sent.append(
                (
                    "Content-Security-Policy-Report-Only",
                    csp_value(trial, https, reports_to, enforce=False),
                )
            )
        return sent

    def headers(https: bool) -> list[tuple[str, str]]:
        sent = [
            # X-Frame-Options cannot name an origin: a view framed by others goes without.
            *([] if framed_by_others else [("X-Frame-Options", frames)]),
            *policies(https, csp, trial),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "strict-origin-when-cross-origin"),
            ("Permissions-Policy", permissions_value(permissions)),
            ("Cross-Origin-Opener-Policy", "same-origin"),
            ("Cross-Origin-Resource-Policy", "same-origin"),
            ("Cross-Origin-Embedder-Policy", embedder),
            ("X-Permitted-Cross-Domain-Policies", "none"),
            ("X-DNS-Prefetch-Control", "off"),
            ("Cache-Control", NO_STORE),
        ]
        if https and hsts:
            sent.append((HSTS_HEADER, hsts))  # never over plain HTTP (RFC 6797 7.2)
        if https:  # the group report-to names; browsers use it from secure pages only
            sent.append(("Reporting-Endpoints", f'{REPORT_GROUP}="{reports_to}"'))
        return sent

    nonce_csp = with_nonce(csp, strict_dynamic)
    nonce_trial = None if trial is None else with_nonce(trial, strict_dynamic=False)
    return Policy(
        headers(https=True),
        headers(https=False),
        floor.used,
        nonce_https=policies(True, nonce_csp, nonce_trial),
        nonce_http=policies(False, nonce_csp, nonce_trial),
        report_uri=reports_to,
        csp_extended=extended,
    )
