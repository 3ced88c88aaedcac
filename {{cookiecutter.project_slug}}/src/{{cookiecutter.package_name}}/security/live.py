"""What a deployment sends, judged two ways: against the floor (what no
setting may weaken, less the registered SECURITY_EXCEPTIONS) and against what
the service says it sends.

The template owns this module, and it is the one meaning of "matches" for
two callers: ``flask security check URL`` (the service's side: the app's own
answer for the same path) and the platform team's ``fleet report`` (the
repository's side: the default policy that this release's ``policy.build``
makes of the service's config.py, read as data). The fleet imports this
module as rendered from the template at the service's release, never the
service's copy, and calls ``expected_from_policy``, ``assess`` and
``verdict``: keep their signatures, and these names here. The comparison with
what is expected is ``compare``'s; the floor's rules are this module's.

Everything here is pure: header lists in, problems out.
"""

import re
from collections.abc import Iterable, Mapping, Sequence

from .compare import Expected, Problem, by_name, compare
from .compare import expected_from_policy as expected_from_policy  # the fleet's
from .compare import verdict as verdict  # the fleet's
from .csp import FALLBACKS, HTTPS_ORIGIN, source_refusal
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

BELOW = "is below the floor and not a registered exception"


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
