"""A ``uv.lock``'s ``[[package]]`` entries: read by tomllib, kept as uv wrote them.

One name may have several entries (a resolution that forks on markers locks
two versions, or two sources, of one package), so an entry is known by its
name, version and source together. The text is split where uv separates
entries, and each piece is read by tomllib, which must agree with tomllib's
reading of the whole file: what is kept is exactly uv's text, and what decides
is TOML, never a pattern.
"""

import json
import tomllib
from dataclasses import dataclass
from typing import Any

ENTRY = "[[package]]\n"
SEPARATOR = "\n\n" + ENTRY


class LockfileError(ValueError):
    """The text is not a uv.lock this can take apart, in one line."""


@dataclass(frozen=True)
class Entry:
    name: str
    version: str | None  # None for a project whose version is dynamic
    source: dict[str, Any]  # {"registry": URL}, {"editable": "."}, {"git": URL}, ...
    text: str  # from "[[package]]" to its last line, as uv wrote it

    @property
    def key(self) -> tuple[str, str | None, str]:
        return self.name, self.version, json.dumps(self.source, sort_keys=True)


def read(text: str) -> tuple[str, list[Entry]]:
    """The lock's header (everything before the first entry) and its entries, in order."""
    header, *pieces = text.rstrip("\n").split(SEPARATOR)
    try:
        whole = tomllib.loads(text)
        head = tomllib.loads(header)
        tables = [tomllib.loads(ENTRY + piece)["package"] for piece in pieces]
    except tomllib.TOMLDecodeError as error:
        raise LockfileError(f"uv.lock is not TOML ({error})") from None
    found = [table[0] for table in tables if len(table) == 1]
    named = all(isinstance(package.get("name"), str) for package in found)
    if "package" in head or found != whole.get("package", []) or not named:
        raise LockfileError("uv.lock's entries are not laid out as uv writes them")
    return header, [
        Entry(
            package["name"],
            package.get("version"),
            package.get("source", {}),
            ENTRY + piece,
        )
        for package, piece in zip(found, pieces, strict=True)
    ]


def written(header: str, entries: list[Entry]) -> str:
    """The lock with these entries, laid out as uv lays it out."""
    return "\n\n".join([header, *(entry.text for entry in entries)]) + "\n"
