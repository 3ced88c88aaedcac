"""What a deployment sends, judged two ways: against the floor (what no
setting may weaken, less the registered SECURITY_EXCEPTIONS) and against what
the service says it sends.

The template owns this module, and it is the one meaning of "matches" for
two callers: ``flask security check URL`` (the service's side: the app's own
answer for the same path) and the platform team's ``fleet report`` (the
repository's side: the default policy that this release's ``policy.build``
makes of the service's config.py, read as data). The fleet imports this
module as rendered from the template at the service's release, never the
service's copy, and calls ``expected_from_policy`` and ``assess``: keep their
signatures.

Everything here is pure: header lists in, problems out.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .csp import FALLBACKS, HTTPS_ORIGIN, NONCE_SLOT, source_refusal
from .floor import SWITCHED_OFF_BY_EXCEPTION, PolicyError
from .policy import (
    BAKED_FRAME_POLICY,
    BAKED_HSTS,
    BAKED_HSTS_INCLUDE_SUBDOMAINS,
    BAKED_HSTS_MAX_AGE,
    BAKED_HSTS_PRELOAD,
    COEP_VALUES,
    CSP_BASELINE,
    FRAME_ANCESTORS,
    HSTS_HEADER,
    PERMISSIONS_BASELINE,
)

CSP_HEADER = "Content-Security-Policy"
INTEGRITY_HEADER = "Integrity-Policy"
# The exceptions that turn Trusted Types and Integrity-Policy off.
TRUSTED_TYPES_OFF = SWITCHED_OFF_BY_EXCEPTION["TRUSTED_TYPES"][0]
INTEGRITY_POLICY_OFF = SWITCHED_OFF_BY_EXCEPTION["INTEGRITY_POLICY"][0]
# The destinations an Integrity-Policy value blocks without integrity.
BLOCKED_DESTINATIONS = re.compile(
    r"(?:^|,)\s*blocked-destinations\s*=\s*\(([^)]*)\)", re.IGNORECASE
)
# Headers a view may set on its own response, which the hook then leaves
# alone (/cache, a download, a static file): the default policy's value is
# not what every page sends, so the repository's side does not compare them.
SET_BY_VIEWS = frozenset({"cache-control"})
# Directives the floor needs spelt out: those nothing falls back to, and
# those the baseline closes ('none'), which a fallback could reopen.
REQUIRED_DIRECTIVES = tuple(
    directive
    for directive in (*CSP_BASELINE, "frame-ancestors")
    if not FALLBACKS.get(directive) or CSP_BASELINE.get(directive) == ("'none'",)
)
# Sources that are right on a live page though no setting may add them:
# the nonce of this response, and 'none' (nothing).
LIVE_NONCE = re.compile(r"'nonce-[A-Za-z0-9+/_=-]+'\Z")

# Headers that tell an attacker which software, and which version, to target.
DISCLOSING = frozenset({"x-powered-by", "x-aspnet-version", "x-aspnetmvc-version"})
VERSION_NUMBER = re.compile(r"\d+\.\d+")

NONCE = re.compile(r"'nonce-[^']*'")
ANY_NONCE = r"'nonce-[A-Za-z0-9+/_=-]+'"
BELOW = "is below the floor and not a registered exception"


def value_pattern(expected: str) -> re.Pattern[str]:
    """The expected value as a pattern: literal, except that a nonce is any nonce."""
    return re.compile(ANY_NONCE.join(re.escape(part) for part in NONCE.split(expected)))


@dataclass(frozen=True)
class Expected:
    """What the service sends for one header name, and how strictly to match it.

    ``variants`` are other values it sends on some pages (the CSP of a page
    that used a nonce); any one of them matches as well.
    """

    name: str
    values: tuple[str, ...]
    exact: bool = True  # False when the app itself varies the value per request
    variants: tuple[tuple[str, ...], ...] = ()

    def matches(self, sent: Sequence[str]) -> bool:
        return any(
            len(sent) == len(values)
            and (
                not self.exact
                or all(
                    value_pattern(expected).fullmatch(value)
                    for expected, value in zip(values, sent, strict=True)
                )
            )
            for values in (self.values, *self.variants)
        )


@dataclass(frozen=True)
class Problem:
    header: str
    kind: str  # "missing", "repeated", "different", "disclosing" or "weaker"
    expected: tuple[str, ...] = ()
    sent: tuple[str, ...] = ()
    detail: str = ""  # for "weaker": what of the value is below the floor
    floor: bool = False  # below the floor, not only different

    def describe(self, expected_by: str = "the service sends") -> str:
        if self.kind == "missing":
            return f"{self.header} missing"
        if self.kind == "repeated":
            return f"{self.header} sent {len(self.sent)} times: {list(self.sent)}"
        if self.kind == "different":
            return (
                f"{self.header} is {one_value(self.sent)}, "
                f"{expected_by} {one_value(self.expected)}"
            )
        if self.kind == "weaker":
            return f"{self.header}: {self.detail}"
        return f"{self.header} {one_value(self.sent)} discloses the server software"

    def as_dict(self) -> dict[str, Any]:
        return {
            "header": self.header,
            "problem": self.kind,
            "expected": list(self.expected),
            "sent": list(self.sent),
            "below_floor": self.floor,
            "detail": self.detail,
        }


def one_value(values: Sequence[str]) -> str:
    return repr(values[0]) if len(values) == 1 else repr(list(values))


def by_name(headers: Iterable[tuple[str, str]]) -> dict[str, tuple[str, list[str]]]:
    """Lowercased name: (the name as first spelt, every value in order)."""
    grouped: dict[str, tuple[str, list[str]]] = {}
    for name, value in headers:
        grouped.setdefault(name.lower(), (name, []))[1].append(value)
    return grouped


def compare(
    expected: Iterable[Expected], sent_headers: Sequence[tuple[str, str]]
) -> list[Problem]:
    """Everything about the live headers that differs from what is expected."""
    sent = by_name(sent_headers)
    problems = []
    for header in expected:
        values = tuple(sent.get(header.name.lower(), ("", []))[1])
        if not values:
            problems.append(Problem(header.name, "missing", header.values))
        elif len(values) > len(header.values):
            problems.append(Problem(header.name, "repeated", header.values, values))
        elif not header.matches(values):
            problems.append(Problem(header.name, "different", header.values, values))
    for name, value in sent_headers:
        lowered = name.lower()
        if lowered in DISCLOSING or (
            lowered == "server" and VERSION_NUMBER.search(value)
        ):
            problems.append(Problem(name, "disclosing", sent=(value,)))
    return problems


def expected_from_policy(policy: Any, https: bool = True) -> list[Expected]:
    """What every page without an override gets, from a ``policy.Policy``:
    its headers over https (or http), the nonce variant of its CSP as an
    alternative, and none of the headers a view may set itself."""
    headers = policy.https if https else policy.http
    nonce = by_name(getattr(policy, "nonce_https" if https else "nonce_http", []))
    expected = []
    for lowered, (name, values) in by_name(headers).items():
        if lowered in SET_BY_VIEWS:
            continue
        variant = nonce.get(lowered, (name, []))[1]
        variants = (
            (tuple(v.replace(NONCE_SLOT, "x") for v in variant),) if variant else ()
        )
        expected.append(Expected(name, tuple(values), variants=variants))
    return expected


class FloorCheck:
    """The floor's rules over one response's headers; each problem once."""

    def __init__(self, sent: Sequence[tuple[str, str]], exceptions: Mapping[str, str]):
        self.sent = by_name(sent)
        self.exceptions = exceptions
        self.problems: list[Problem] = []

    def values(self, header: str) -> list[str]:
        return self.sent.get(header.lower(), (header, []))[1]

    def refuse(self, header: str, what: str, key: str | None = None) -> None:
        """``what`` is below the floor, unless SECURITY_EXCEPTIONS registers ``key``."""
        if key is None or key not in self.exceptions:
            sent = tuple(self.values(header))
            detail = f"{what} {BELOW}" if key else what
            self.problems.append(Problem(header, "weaker", (), sent, detail, True))

    def required(self, header: str) -> list[str]:
        values = self.values(header)
        if not values:
            self.problems.append(Problem(header, "missing", floor=True))
        return values

    def csp(self) -> set[str]:
        """Every enforced policy's sources; returns the frame-ancestors sources."""
        policies = [parse_csp(value) for value in self.required(CSP_HEADER)]
        if not policies:
            return set()
        named = {directive for policy in policies for directive in policy}
        for directive in REQUIRED_DIRECTIVES:
            if directive not in named:
                self.refuse(CSP_HEADER, f"no {directive}, which the floor requires")
        ancestors: set[str] = set()
        for policy in policies:
            for directive, sources in policy.items():
                if directive == "frame-ancestors":
                    ancestors.update(sources)
                    self.frame_ancestors(sources)
                elif directive in FALLBACKS or directive == "trusted-types":
                    for source in sources:
                        self.csp_source(directive, source)
        self.trusted_types(policies)
        return ancestors

    def trusted_types(self, policies: Sequence[Mapping[str, list[str]]]) -> None:
        """DOM sinks take no plain string, and only named policies are made,
        unless TRUSTED_TYPES=false is registered."""
        required = any(
            "'script'"
            in (s.lower() for s in policy.get("require-trusted-types-for", []))
            for policy in policies
        )
        if not required:
            self.refuse(
                CSP_HEADER, "no require-trusted-types-for 'script'", TRUSTED_TYPES_OFF
            )
        if not any("trusted-types" in policy for policy in policies):
            self.refuse(CSP_HEADER, "no trusted-types", TRUSTED_TYPES_OFF)

    def integrity(self) -> None:
        """Scripts run only with Subresource Integrity, unless
        INTEGRITY_POLICY=false is registered (a report-only trial is not enough)."""
        values = self.values(INTEGRITY_HEADER)
        if not values:
            if INTEGRITY_POLICY_OFF not in self.exceptions:
                self.problems.append(Problem(INTEGRITY_HEADER, "missing", floor=True))
            return
        for value in values:
            found = BLOCKED_DESTINATIONS.search(value)
            if found is None or "script" not in found[1].lower().split():
                self.refuse(
                    INTEGRITY_HEADER,
                    f"{value!r} does not block scripts without integrity",
                    INTEGRITY_POLICY_OFF,
                )

    def csp_source(self, directive: str, source: str) -> None:
        if source.lower() == "'none'" or LIVE_NONCE.match(source):
            return
        try:
            why = source_refusal(directive, source)
        except PolicyError:
            why = "not a CSP source"
        if why:
            self.refuse(CSP_HEADER, f"{directive} {source}", f"{directive} {source}")

    def frame_ancestors(self, sources: Sequence[str]) -> None:
        for source in sources:
            lowered = source.lower()
            if lowered == "'self'" and BAKED_FRAME_POLICY == "DENY":
                self.refuse(
                    CSP_HEADER, "frame-ancestors 'self'", "FRAME_POLICY=SAMEORIGIN"
                )
            elif lowered not in FRAME_ANCESTORS.values() and not HTTPS_ORIGIN.match(
                source
            ):
                key = f"frame-ancestors {source}"
                self.refuse(CSP_HEADER, key, key)

    def frame_options(self, ancestors: set[str]) -> None:
        """X-Frame-Options, except on a view that others may frame (it cannot name them)."""
        if ancestors - {"'self'", "'none'"}:
            return
        for value in self.required("X-Frame-Options"):
            option = value.strip().upper()
            if option == "SAMEORIGIN" and BAKED_FRAME_POLICY == "DENY":
                self.refuse("X-Frame-Options", "SAMEORIGIN", "FRAME_POLICY=SAMEORIGIN")
            elif option not in FRAME_ANCESTORS:
                self.refuse("X-Frame-Options", f"{value!r} is not DENY or SAMEORIGIN")

    def hsts(self) -> None:
        if not BAKED_HSTS or "HSTS=false" in self.exceptions:
            return
        for value in self.required(HSTS_HEADER):
            parts = [part.strip().lower() for part in value.split(";")]
            ages = [
                p.partition("=")[2].strip('"') for p in parts if p.startswith("max-age")
            ]
            age = int(ages[0]) if len(ages) == 1 and ages[0].isdigit() else -1
            if age < BAKED_HSTS_MAX_AGE:
                key = f"HSTS_MAX_AGE={age}" if age >= 0 else None
                what = f"max-age={age}" if age >= 0 else "no max-age"
                self.refuse(HSTS_HEADER, what, key)
            for baked, directive, key in (
                (BAKED_HSTS_INCLUDE_SUBDOMAINS, "includesubdomains", "HSTS_INCLUDE_SUBDOMAINS=false"),
                (BAKED_HSTS_PRELOAD, "preload", "HSTS_PRELOAD=false"),
            ):  # fmt: skip
                if baked and directive not in parts:
                    self.refuse(HSTS_HEADER, f"no {directive}", key)

    def plain(self) -> None:
        for value in self.required("X-Content-Type-Options"):
            if value.strip().lower() != "nosniff":
                self.refuse("X-Content-Type-Options", f"{value!r} is not nosniff")
        for value in self.required("Cross-Origin-Embedder-Policy"):
            if value.strip() == "unsafe-none":
                self.refuse(
                    "Cross-Origin-Embedder-Policy", "unsafe-none", "COEP=unsafe-none"
                )
            elif value.strip() not in COEP_VALUES:
                self.refuse("Cross-Origin-Embedder-Policy", f"{value!r} is unknown")

    def permissions(self) -> None:
        header = "Permissions-Policy"
        listed: dict[str, list[str]] = {}
        for value in self.required(header):
            for entry in value.split(","):
                feature, _, allowlist = entry.strip().partition("=")
                listed[feature.strip()] = allowlist.strip("() ").split()
        if not self.values(header):
            return
        for feature in PERMISSIONS_BASELINE:
            if feature not in listed:
                self.refuse(header, f"{feature} not listed (browsers allow it)")
                continue
            for item in listed[feature]:
                origin = item.strip('"')
                if item == "*" or origin.lower().startswith("http://"):
                    self.refuse(
                        header,
                        f"{feature}={item}",
                        f"PERMISSIONS_ALLOW {feature} {origin}",
                    )
                elif item != "self" and not HTTPS_ORIGIN.match(origin):
                    self.refuse(header, f"{feature}={item} is not an origin")


def parse_csp(value: str) -> dict[str, list[str]]:
    """Directive: sources, as a browser reads them (the first of a repeated directive wins)."""
    policy: dict[str, list[str]] = {}
    for part in value.split(";"):
        tokens = part.split()
        if tokens:
            policy.setdefault(tokens[0].lower(), tokens[1:])
    return policy


def below_floor(
    sent: Sequence[tuple[str, str]], exceptions: Mapping[str, str], https: bool = True
) -> list[Problem]:
    """What of the response's headers is below the floor and not a registered exception."""
    check = FloorCheck(sent, exceptions)
    check.frame_options(check.csp())
    if https:
        check.hsts()  # never sent over plain http (RFC 6797 7.2)
    check.plain()
    check.integrity()
    check.permissions()
    return check.problems


def assess(
    expected: Iterable[Expected] | None,
    sent: Sequence[tuple[str, str]],
    exceptions: Mapping[str, str],
    https: bool = True,
) -> list[Problem]:
    """The floor's problems, then every other difference from ``expected``
    (None: the floor alone) of a header the floor has not named."""
    floor = below_floor(sent, exceptions, https)
    named = {problem.header.lower() for problem in floor}
    others = compare(expected or [], sent)
    return floor + [p for p in others if p.header.lower() not in named]


def verdict(problems: Iterable[Problem]) -> str:
    """ok, differs (meets the floor, but is not what is expected) or below-floor."""
    problems = list(problems)
    if any(problem.floor for problem in problems):
        return "below-floor"
    return "differs" if problems else "ok"
