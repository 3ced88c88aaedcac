"""The Content-Security-Policy's language: its directives and their fallbacks,
the sources a setting may add without weakening the floor, and the variants
of one policy (report samples, a page's nonce, a report-only trial).

The template owns this module; ``policy`` puts it into headers. Everything
here runs once per app (or once per overridden view), never per request.
"""

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .floor import Floor, PolicyError, named_lists

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
# What CSP_REPORT_ONLY may hold: the fetch and navigation directives above,
# and Trusted Types, which a team will want to trial before enforcing.
# Never upgrade-insecure-requests (ignored in report-only, and Chromium logs
# an error), nor report-uri/report-to (the service adds its own).
TRUSTED_TYPES = ("require-trusted-types-for", "trusted-types")
TRUSTED_TYPES_VALUE = re.compile(r"[A-Za-z0-9#=_/@.%*'-]+\Z")
# Trusted Types, on by default: DOM sinks (innerHTML, eval-like, script.src)
# refuse plain strings, and no policy may be created until CSP_EXTEND names it
# ({"trusted-types": ["app-sanitizer"]}; 'none' then goes).
TRUSTED_TYPES_BASELINE: dict[str, tuple[str, ...]] = {
    "require-trusted-types-for": ("'script'",),
    "trusted-types": ("'none'",),
}
POLICY_NAME = re.compile(r"[A-Za-z0-9#=_/@.%-]+\Z")
# Directives CSP_EXTEND and override(csp_extend=...) may add to.
EXTENDABLE = (*FALLBACKS, "trusted-types")
CSP_EXAMPLE = '{"img-src": ["https://cdn.example.com"]}'
REPORT_ONLY_EXAMPLE = (
    '{"script-src": ["\'self\'"], "require-trusted-types-for": ["\'script\'"]}'
)


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


def extend_csp(
    csp: dict[str, list[str]],
    additions: Mapping[str, Sequence[str]],
    where: str,
    floor: Floor,
) -> dict[str, str]:
    """Add ``additions`` to ``csp`` in place, each checked against the floor.

    A directive ``csp`` does not name starts from the fallback a browser would
    use (with default-src 'none', nothing: the additions alone), so adding
    never narrows. Returns where each extended directive started, e.g.
    ``{"frame-src": "default-src 'none'"}``, for ``security show``.
    """
    entries = named_lists(additions, where, EXTENDABLE, CSP_EXAMPLE)
    started: dict[str, str] = {}
    # Nearer-the-root directives first, so a child starts from its extended parent.
    for directive, sources in sorted(
        entries, key=lambda e: len(FALLBACKS.get(e[0], ()))
    ):
        for source in sources:
            check_csp_source(directive, source, where, floor)
        current = csp.get(directive)
        if current is None:
            parent = next((d for d in FALLBACKS.get(directive, ()) if d in csp), None)
            current = csp[directive] = list(csp[parent]) if parent else []
            started[directive] = f"{parent} {' '.join(current)}" if parent else ""
        else:
            started[directive] = f"{directive} {' '.join(current)}"
        add_sources(current, sources)
    return started


def add_sources(current: list[str], sources: Sequence[str]) -> None:
    """Each source once; a directive that allowed nothing ('none') now allows them."""
    for source in sources:
        if "'none'" in current:
            current.remove("'none'")
        if source not in current:
            current.append(source)


def trusted_types_weakness(name: str, where: str) -> str | None:
    """Why adding ``name`` to trusted-types weakens the floor, or None."""
    if name == "*":
        return "* lets any script create a policy of any name"
    if name == "'allow-duplicates'":
        return "it lets a second policy take a name the service's own code uses"
    if POLICY_NAME.match(name):
        return None
    raise PolicyError(
        f"{name!r} in trusted-types is not a policy name {where} can add: give "
        'the names your code creates, e.g. {"trusted-types": ["app-sanitizer"]}'
    )


def source_refusal(
    directive: str, source: str, where: str = "CSP_EXTEND"
) -> str | None:
    """Why the floor refuses ``source`` in ``directive`` of a setting, or None
    (``live`` asks the same of a deployment's CSP)."""
    if directive == "trusted-types":
        return trusted_types_weakness(source, where)
    why = source_weakness(directive, source)
    if directive == "object-src" and why is None:
        why = "object-src stays 'none' (no plugins)"
    elif directive == "base-uri" and source.lower() != "'self'" and why is None:
        why = "base-uri stays 'self'"
    elif directive == "frame-ancestors" and why is None:
        why = "other origins may frame one view only, with override(frame_ancestors=[...])"
    return why


def check_csp_source(directive: str, source: str, where: str, floor: Floor) -> None:
    why = source_refusal(directive, source, where)
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
    policy leaves them to it (a trial may; the baseline names both), so that
    default-src's sources still reach scripts and styles, as they did through
    the fallback. They come right after default-src.
    """
    if "default-src" in csp:
        for directive in ("script-src", "style-src"):
            csp.setdefault(directive, list(csp["default-src"]))
    for directive in REPORT_SAMPLE_DIRECTIVES:
        if directive in csp:
            add_sources(csp[directive], ["'report-sample'"])
    first = [d for d in ("default-src", "script-src", "style-src") if d in csp]
    return {d: csp[d] for d in first} | {d: v for d, v in csp.items() if d not in first}


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
        if directive in varied:
            strict = strict_dynamic and directive in SCRIPT_DIRECTIVES
            add_sources(
                varied[directive],
                [f"'nonce-{NONCE_SLOT}'", *(["'strict-dynamic'"] if strict else [])],
            )
    return varied
