"""The header policy as data: the template's floor, the team's settings, named exceptions.

The template owns this module. A team extends the policy in its settings
(CSP_EXTEND, PERMISSIONS_ALLOW, COEP in config.py or FLASK_* variables) and
per view (``security.override``); anything that would weaken the floor is
refused here, in one line naming the SECURITY_EXCEPTIONS key that would allow
it. Reporting (CSP_REPORT_URI), a report-only trial (CSP_REPORT_ONLY) and
the nonce variant of the CSP are prepared here too. Everything here runs once
per app (or once per overridden view), never per request.
"""

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import click


class PolicyError(click.ClickException, ValueError):
    """A setting that cannot be read or would weaken the floor; one line for a person.

    A click error, so ``flask run`` and ``flask security ...`` print just that
    line (gunicorn.conf.py does the same at start-up).
    """


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
# Marks where a response's nonce goes in the precomputed nonce variant of a
# policy. A newline can never be part of a header value (every value is
# checked to be printable ASCII at start-up), so the mark is unique.
NONCE_SLOT = "\n"
# Directives that govern <script> and <style> elements: a nonce must be in each
# one the policy has, or the nonce'd element is blocked by the nearer one.
NONCE_DIRECTIVES = ("script-src", "script-src-elem", "style-src", "style-src-elem")
SCRIPT_DIRECTIVES = ("script-src", "script-src-elem")
REPORT_SAMPLE_DIRECTIVES = (
    *NONCE_DIRECTIVES,
    "script-src-attr",
    "style-src-attr",
)

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

# Where a directive the policy leaves out takes its sources from (CSP Level 3),
# nearest first. Extending it starts from there, so adding never narrows.
FALLBACKS: dict[str, tuple[str, ...]] = {
    "default-src": (),
    "child-src": ("default-src",),
    "connect-src": ("default-src",),
    "font-src": ("default-src",),
    "img-src": ("default-src",),
    "manifest-src": ("default-src",),
    "media-src": ("default-src",),
    "object-src": ("default-src",),
    "script-src": ("default-src",),
    "style-src": ("default-src",),
    "script-src-elem": ("script-src", "default-src"),
    "script-src-attr": ("script-src", "default-src"),
    "style-src-elem": ("style-src", "default-src"),
    "style-src-attr": ("style-src", "default-src"),
    "frame-src": ("child-src", "default-src"),
    "worker-src": ("child-src", "script-src", "default-src"),
    "fenced-frame-src": ("frame-src", "child-src", "default-src"),
    "base-uri": (),
    "form-action": (),
    "frame-ancestors": (),
}
# Directives whose sources can run code (frames run their own): no inline
# code, eval or whole schemes.
RUNS_CODE = frozenset(
    {
        "default-src",
        "frame-src",
        "fenced-frame-src",
        "script-src",
        "script-src-elem",
        "script-src-attr",
        "style-src",
        "style-src-elem",
        "style-src-attr",
        "object-src",
        "worker-src",
        "child-src",
    }
)
KEYWORDS = frozenset({"'self'", "'strict-dynamic'", "'report-sample'"})
UNSAFE_KEYWORDS = frozenset(
    {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'wasm-unsafe-eval'"}
)
HASH = re.compile(r"'sha(256|384|512)-[A-Za-z0-9+/_-]+={0,2}'\Z", re.IGNORECASE)
NONCE = re.compile(r"'nonce-[A-Za-z0-9+/_-]+={0,2}'\Z", re.IGNORECASE)
# ASCII only: IGNORECASE alone would let [a-z] match the Kelvin sign.
SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:\Z", re.IGNORECASE | re.ASCII)
HOST = re.compile(
    r"(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?"
    r"(?P<host>\*|(?:\*\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*)"
    r"(?P<port>:(?:[0-9]{1,5}|\*))?(?P<path>/[!-&(-+\--:<-~]*)?\Z",
    re.IGNORECASE | re.ASCII,
)
HTTPS_ORIGIN = re.compile(
    r"https://(?:[a-z0-9-]+\.)*[a-z0-9-]+(?::[0-9]{1,5})?\Z", re.IGNORECASE | re.ASCII
)
# Whole schemes a non-code directive may take: they name no other origin.
LOCAL_SCHEMES = frozenset({"data:", "blob:", "mediastream:"})
REPORT_PATH = re.compile(r"/(?!/)[A-Za-z0-9._~%/+-]*\Z")  # "//host" is another host
REPORT_URL = re.compile(
    r"https://(?:[a-z0-9-]+\.)*[a-z0-9-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~%/+-]*)?\Z",
    re.IGNORECASE | re.ASCII,
)
# What CSP_REPORT_ONLY may hold: the fetch and navigation directives above,
# and Trusted Types, which a team will want to trial before enforcing.
# Never upgrade-insecure-requests (ignored in report-only, and Chromium logs
# an error), nor report-uri/report-to (the service adds its own).
TRUSTED_TYPES = ("require-trusted-types-for", "trusted-types")
TRUSTED_TYPES_VALUE = re.compile(r"[A-Za-z0-9#=_/@.%*'-]+\Z")
FEATURE_EXAMPLE = '{"camera": ["self"]}'
CSP_EXAMPLE = '{"img-src": ["https://cdn.example.com"]}'
EXCEPTION_EXAMPLE = '{"script-src \'unsafe-eval\'": "legacy chart library, SEC-4242"}'
REPORT_ONLY_EXAMPLE = (
    '{"script-src": ["\'self\'"], "require-trusted-types-for": ["\'script\'"]}'
)


@dataclass(frozen=True)
class Extension:
    """What one place adds to the baseline: the settings, or one view's override."""

    where: str
    csp_extend: Mapping[str, Sequence[str]] = field(default_factory=dict)
    permissions_allow: Mapping[str, Sequence[str]] = field(default_factory=dict)
    frame_ancestors: Sequence[str] | None = None


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


class Floor:
    """Refuses what would weaken the baseline, unless SECURITY_EXCEPTIONS names it."""

    def __init__(self, exceptions: Mapping[str, str]) -> None:
        self.exceptions = exceptions
        self.used: dict[str, str] = {}

    def allow(self, key: str, what: str, why: str) -> None:
        if key in self.exceptions:
            self.used[key] = self.exceptions[key]
            return
        raise PolicyError(
            f"{what} is refused: {why}; to allow it anyway, add "
            f'SECURITY_EXCEPTIONS["{key}"] = "<the reason>"'
        )


def read_exceptions(config: Mapping[str, Any]) -> dict[str, str]:
    exceptions = config.get("SECURITY_EXCEPTIONS") or {}
    if not isinstance(exceptions, Mapping) or not all(
        isinstance(key, str) and isinstance(reason, str) and reason.strip()
        for key, reason in exceptions.items()
    ):
        raise PolicyError(
            "SECURITY_EXCEPTIONS must map what is allowed to a reason, e.g. "
            f"{EXCEPTION_EXAMPLE}, got {exceptions!r}"
        )
    return dict(exceptions)


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


def source_weakness(directive: str, source: str) -> str | None:
    """Why adding ``source`` to ``directive`` weakens the floor, or None.

    Raises PolicyError for text that is not a CSP source expression at all.
    """
    lowered = source.lower()
    if lowered in KEYWORDS or HASH.match(source):
        return None
    if lowered in UNSAFE_KEYWORDS:
        return "it lets injected code run" if directive in RUNS_CODE else None
    if NONCE.match(source):
        return "a nonce written in settings is the same on every response"
    if SCHEME.match(source):
        if lowered in ("http:", "ws:"):
            return "plain http is mixed content"
        if directive in RUNS_CODE:
            return f"it allows code from any {lowered} URL"
        if lowered not in LOCAL_SCHEMES:
            return f"{lowered} allows every origin, as * does"
        return None
    host = HOST.match(source)
    if host is None or lowered == "'none'":
        raise PolicyError(
            f"{source!r} in {directive} is not a source CSP_EXTEND can add: give "
            "'self', an https:// origin, a hash or a scheme, e.g. https://cdn.example.com"
        )
    if host["host"] == "*":
        return "* allows every origin"
    if host["host"].startswith("*."):
        return "a wildcard host allows every subdomain, including ones others control"
    scheme = (host["scheme"] or "").lower()
    if scheme in ("http", "ws"):
        return "plain http is mixed content"
    if scheme not in ("https", "wss"):
        return "only https:// and wss:// origins can be added (a bare host matches http too)"
    return None


def named_lists(
    setting: object, where: str, known: Collection[str], example: str
) -> list[tuple[str, list[str]]]:
    """A setting that maps names it knows to lists of text, or a one-line refusal."""
    if not isinstance(setting, Mapping):
        raise PolicyError(
            f"{where} must map names to lists, e.g. {example}, got {setting!r}"
        )
    entries = []
    for name, items in setting.items():
        if name not in known:
            raise PolicyError(
                f"{where}: {name!r} is not one it can extend; one of {', '.join(known)}"
            )
        if (
            isinstance(items, str)
            or not isinstance(items, Sequence)
            or not all(isinstance(item, str) for item in items)
        ):
            raise PolicyError(
                f"{where}[{name!r}] must be a list of text, e.g. {example}, got {items!r}"
            )
        entries.append((name, list(items)))
    return entries


def extend_csp(
    csp: dict[str, list[str]],
    additions: Mapping[str, Sequence[str]],
    where: str,
    floor: Floor,
) -> None:
    """Add ``additions`` to ``csp`` in place, each checked against the floor."""
    entries = named_lists(additions, where, FALLBACKS, CSP_EXAMPLE)
    # Nearer-the-root directives first, so a child starts from its extended parent.
    for directive, sources in sorted(entries, key=lambda e: len(FALLBACKS[e[0]])):
        for source in sources:
            check_csp_source(directive, source, where, floor)
        current = csp.get(directive)
        if current is None:
            inherited = next((csp[d] for d in FALLBACKS[directive] if d in csp), [])
            current = csp[directive] = list(inherited)
        add_sources(current, sources)


def add_sources(current: list[str], sources: Sequence[str]) -> None:
    """Each source once; a directive that allowed nothing ('none') now allows them."""
    for source in sources:
        if "'none'" in current:
            current.remove("'none'")
        if source not in current:
            current.append(source)


def check_csp_source(directive: str, source: str, where: str, floor: Floor) -> None:
    why = source_weakness(directive, source)
    if directive == "object-src" and why is None:
        why = "object-src stays 'none' (no plugins)"
    elif directive == "base-uri" and source.lower() != "'self'" and why is None:
        why = "base-uri stays 'self'"
    elif directive == "frame-ancestors" and why is None:
        why = "other origins may frame one view only, with override(frame_ancestors=[...])"
    if why:
        floor.allow(f"{directive} {source}", f"{where}: {directive} {source}", why)


def check_frame_ancestors(origins: Sequence[str], where: str, floor: Floor) -> None:
    if isinstance(origins, str) or not isinstance(origins, Sequence):
        raise PolicyError(
            f"{where}: frame_ancestors must be a list of origins, e.g. "
            f'["https://partner.example.com"], got {origins!r}'
        )
    for origin in origins:
        if not isinstance(origin, str) or not HOST.match(origin):
            raise PolicyError(
                f"{where}: {origin!r} is not an origin, e.g. https://partner.example.com"
            )
        if not HTTPS_ORIGIN.match(origin):
            floor.allow(
                f"frame-ancestors {origin}",
                f"{where}: frame_ancestors {origin}",
                "only explicit https:// origins may frame a view",
            )


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


def check_report_only_source(directive: str, source: str) -> None:
    """CSP syntax only: a report-only policy enforces nothing, so no floor."""
    where = f"CSP_REPORT_ONLY[{directive!r}]"
    if not isinstance(source, str):
        raise PolicyError(f"{where} holds {source!r}, which is not text")
    if directive in TRUSTED_TYPES:
        if TRUSTED_TYPES_VALUE.match(source):
            return
        raise PolicyError(
            f"{where} holds {source!r}, which is not a Trusted Types value, "
            "e.g. 'script' or a policy name"
        )
    lowered = source.lower()
    if f"'{lowered}'" in KEYWORDS | UNSAFE_KEYWORDS | {"'none'"}:
        raise PolicyError(
            f"{where} holds {source!r}: a keyword is written in single quotes, "
            f"e.g. \"'{lowered}'\" (without them it names a host)"
        )
    if (
        lowered in KEYWORDS
        or lowered in UNSAFE_KEYWORDS
        or lowered == "'none'"
        or HASH.match(source)
        or NONCE.match(source)
        or SCHEME.match(source)
        or HOST.match(source)
    ):
        return
    raise PolicyError(
        f"{where} holds {source!r}, which is not a CSP source: give 'self', "
        "'none', a keyword, an origin, a hash or a scheme, e.g. https://cdn.example.com"
    )


def report_only_policy(config: Mapping[str, Any]) -> dict[str, list[str]] | None:
    """CSP_REPORT_ONLY as directives to send, or None when there is no trial.

    Taken as written, except that script-src and style-src (spelt out from
    default-src when the trial leaves them to it) get 'report-sample', like
    the enforced policy, so that a report shows the start of the code.
    """
    trial = config.get("CSP_REPORT_ONLY") or {}
    if not isinstance(trial, Mapping):
        raise PolicyError(
            "CSP_REPORT_ONLY must map CSP directives to lists of sources, e.g. "
            f"{REPORT_ONLY_EXAMPLE}, got {trial!r}"
        )
    csp: dict[str, list[str]] = {}
    for directive, sources in trial.items():
        if directive not in FALLBACKS and directive not in TRUSTED_TYPES:
            raise PolicyError(
                f"CSP_REPORT_ONLY: {directive!r} is not a directive it can hold; one of "
                f"{', '.join([*FALLBACKS, *TRUSTED_TYPES])} (report-uri and report-to "
                "are added for you; upgrade-insecure-requests does nothing there)"
            )
        if isinstance(sources, str) or not isinstance(sources, Sequence) or not sources:
            raise PolicyError(
                f"CSP_REPORT_ONLY[{directive!r}] must be a non-empty list of sources, "
                f"e.g. [\"'self'\"], got {sources!r}"
            )
        for source in sources:
            check_report_only_source(directive, source)
        if len(sources) > 1 and any(s.lower() == "'none'" for s in sources):
            raise PolicyError(
                f"CSP_REPORT_ONLY[{directive!r}] holds 'none' beside other sources; "
                "'none' must stand alone"
            )
        csp[directive] = list(sources)
    if not csp:
        return None
    return with_report_sample(csp)


def with_report_sample(csp: dict[str, list[str]]) -> dict[str, list[str]]:
    """``csp`` with 'report-sample' in every script and style directive, so a
    report shows the first characters of the blocked code.

    script-src and style-src are spelt out first, from default-src, when the
    policy leaves them to it; after every extension, so that a source added
    to default-src still reaches scripts and styles, as it did through the
    fallback. They come right after default-src.
    """
    if "default-src" in csp:
        for directive in ("script-src", "style-src"):
            csp.setdefault(directive, list(csp["default-src"]))
    for directive in REPORT_SAMPLE_DIRECTIVES:
        add_source(csp.get(directive), "'report-sample'")
    first = [d for d in ("default-src", "script-src", "style-src") if d in csp]
    return {d: csp[d] for d in first} | {d: v for d, v in csp.items() if d not in first}


def add_source(sources: list[str] | None, source: str) -> None:
    """Add ``source`` once; 'none' beside a source would make the list invalid."""
    if sources is None or source in sources:
        return
    if "'none'" in sources:
        sources.remove("'none'")
    sources.append(source)


def with_nonce(
    csp: Mapping[str, Sequence[str]], strict_dynamic: bool
) -> dict[str, list[str]]:
    """The policy of a page that used a nonce, with NONCE_SLOT for the nonce.

    With ``strict_dynamic`` the script directives also get 'strict-dynamic':
    scripts that a nonce'd script loads are trusted too, and browsers then
    ignore 'self' and host sources for scripts, so every script of the page,
    /static ones included, needs the nonce.
    """
    varied = {directive: list(sources) for directive, sources in csp.items()}
    for directive in NONCE_DIRECTIVES:
        add_source(varied.get(directive), f"'nonce-{NONCE_SLOT}'")
        if strict_dynamic and directive in SCRIPT_DIRECTIVES:
            add_source(varied.get(directive), "'strict-dynamic'")
    return varied


def build(config: Mapping[str, Any], view: Extension | None = None) -> Policy:
    """The headers for the settings in ``config``, and for one view's override."""
    floor = Floor(read_exceptions(config))
    frames = frame_policy(config, floor)
    hsts = hsts_value(config, floor)
    embedder = coep(config, floor)
    reports_to = report_uri(config)
    trial = report_only_policy(config)
    strict_dynamic = yes_no(config, "CSP_STRICT_DYNAMIC", default=False)

    csp: dict[str, list[str]] = {
        "default-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": [FRAME_ANCESTORS[frames]],
    }
    permissions = {f: list(items) for f, items in PERMISSIONS_BASELINE.items()}
    extend_csp(csp, config.get("CSP_EXTEND") or {}, "CSP_EXTEND", floor)
    allow_permissions(
        permissions, config.get("PERMISSIONS_ALLOW") or {}, "PERMISSIONS_ALLOW", floor
    )
    framed_by_others = False
    if view is not None:
        extend_csp(csp, view.csp_extend, f"{view.where} csp_extend", floor)
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
    )
