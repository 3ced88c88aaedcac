"""What a service's clone says about itself, read as data: nothing of it is run."""

import ast
import json
from dataclasses import dataclass
from pathlib import Path

from fleet.render import Files, read_tree


class NotAService(Exception):
    """The clone is not a service baked from the template; the message says why."""


@dataclass
class Clone:
    files: Files
    commit: str | None  # the template commit in .cruft.json; None when not linked
    answers: dict
    package: str

    @property
    def linked(self) -> bool:
        return self.commit is not None


def read_clone(root: Path) -> Clone:
    files = read_tree(root)
    if ".cruft.json" in files:
        try:
            state = json.loads(files[".cruft.json"])
            commit = state["commit"]
            answers = state["context"]["cookiecutter"]
            package = answers["package_name"]
        except (ValueError, KeyError, TypeError) as error:
            raise NotAService(
                f".cruft.json is not cruft's: {error!r} missing or malformed"
            ) from None
        return Clone(files, str(commit), answers, str(package))
    packages = sorted(
        {
            path.split("/")[1]
            for path in files
            if path.startswith("src/") and "/security/" in path
        }
    )
    if len(packages) != 1:
        raise NotAService(
            "not a baked service: no .cruft.json and no src/<package>/security/"
        )
    return Clone(files, None, {}, packages[0])


def security_exceptions(clone: Clone) -> dict[str, str] | None:
    """SECURITY_EXCEPTIONS from config.py when it is written as a literal, else None."""
    source = clone.files.get(f"src/{clone.package}/config.py")
    if source is None:
        return None
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    found: object = {}  # not set at all: the baked default, none
    for statement in tree.body:
        if not _mentions(statement, "SECURITY_EXCEPTIONS"):
            continue
        found = None  # changed by code (item by item, in a branch...): not data
        if isinstance(statement, ast.Assign | ast.AnnAssign) and statement.value:
            targets = getattr(statement, "targets", None) or [statement.target]
            if [_name(t) for t in targets] == ["SECURITY_EXCEPTIONS"]:
                try:
                    found = ast.literal_eval(statement.value)
                except (ValueError, TypeError, SyntaxError, RecursionError):
                    found = None
    if not isinstance(found, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in found.items()
    ):
        return None
    return dict(found)


def _name(target: ast.expr) -> str | None:
    return target.id if isinstance(target, ast.Name) else None


def _mentions(statement: ast.stmt, name: str) -> bool:
    return any(
        isinstance(node, ast.Name) and node.id == name for node in ast.walk(statement)
    )
