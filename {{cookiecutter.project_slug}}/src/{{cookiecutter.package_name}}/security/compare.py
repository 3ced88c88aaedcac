"""What a deployment sends against what is expected of it: header lists
in, problems out, with no opinion on the floor (``live`` holds that).

The template owns this module. ``flask security check`` expects the app's
own answer for the same path; the platform team's fleet report expects what
the service's release makes of its config.py (``expected_from_policy``, which
``live`` still exports: the fleet calls it there, on every release's code).
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .csp import NONCE_SLOT

# Headers a view may set on its own response, which the hook then leaves
# alone (/cache, a download, a static file): the default policy's value is
# not what every page sends, so the repository's side does not compare them.
SET_BY_VIEWS = frozenset({"cache-control"})
# Headers that tell an attacker which software, and which version, to target.
DISCLOSING = frozenset({"x-powered-by", "x-aspnet-version", "x-aspnetmvc-version"})
VERSION_NUMBER = re.compile(r"\d+\.\d+")

NONCE = re.compile(r"'nonce-[^']*'")
ANY_NONCE = r"'nonce-[A-Za-z0-9+/_=-]+'"


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
    kind: str  # "missing", "repeated", "different", "disclosing", "weaker" or "status"
    expected: tuple[str, ...] = ()
    sent: tuple[str, ...] = ()
    detail: str = ""  # for "weaker": what is below the floor; for "status": the words
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
        if self.kind == "status":
            return self.detail
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


def verdict(problems: Iterable[Problem]) -> str:
    """ok, differs (meets the floor, but is not what is expected) or below-floor."""
    problems = list(problems)
    if any(problem.floor for problem in problems):
        return "below-floor"
    return "differs" if problems else "ok"
