"""The floor a setting may not lower, and the one way past it: an exception
named in SECURITY_EXCEPTIONS with its reason.

The template owns this module.
"""

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import click


class PolicyError(click.ClickException, ValueError):
    """A setting that cannot be read or would weaken the floor; one line for a person.

    A click error, so ``flask run`` and ``flask security ...`` print just that
    line (gunicorn.conf.py does the same at start-up).
    """


# Parts of the floor that one setting turns off, and only with the named
# exception: setting -> (its exception, what responses then go without, why
# that is below the floor). The policy reads this; so can any tool that
# holds live headers to the floor.
SWITCHED_OFF_BY_EXCEPTION: dict[str, tuple[str, str, str]] = {
    "TRUSTED_TYPES": (
        "TRUSTED_TYPES=false",
        "Content-Security-Policy require-trusted-types-for 'script', trusted-types",
        "DOM sinks such as innerHTML would take plain strings again",
    ),
    "INTEGRITY_POLICY": (
        "INTEGRITY_POLICY=false",
        "Integrity-Policy blocked-destinations=(script)",
        "scripts would run without Subresource Integrity",
    ),
}
EXCEPTION_EXAMPLE = '{"script-src \'unsafe-eval\'": "legacy chart library, SEC-4242"}'


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


def required_on(config: Mapping[str, Any], setting: str, floor: Floor) -> bool:
    """A setting of SWITCHED_OFF_BY_EXCEPTION (on unless set): off only by its exception."""
    key, _, why = SWITCHED_OFF_BY_EXCEPTION[setting]
    return switched_on(config, setting, key, why, floor)


def switched_on(
    config: Mapping[str, Any], setting: str, key: str, why: str, floor: Floor
) -> bool:
    """A true-or-false setting, on unless set: off only by the exception ``key``."""
    value = config.get(setting, True)
    if not isinstance(value, bool):
        raise PolicyError(f"{setting} must be true or false, got {value!r}")
    if not value:
        floor.allow(key, f"{setting} = False", why)
    return value


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
