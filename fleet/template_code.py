"""The template's own security package at a service's release, loaded to judge
its live headers; and the service's config.py, read as data.

The package is the template's, rendered at the service's recorded commit with
its recorded answers, never the service's copy. Answers are data that the
service's repository holds, and the template writes some of them into Python
(``BAKED_HSTS = {{ cookiecutter.hsts }}``): so before anything is imported,
each module must have the shape it has when rendered with the template's
default answers, only its constants differing. An answer that would put code
there is refused instead of run. Each package is imported under a name of its
own, so releases never mix.
"""

import ast
import importlib
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from fleet.render import Files


class CodeError(Exception):
    """The template's code at a release cannot be used; one line for people."""


@dataclass
class SecurityCode:
    policy: ModuleType  # policy.build(settings) -> Policy
    live: ModuleType | None  # None in releases before the live view


def security_modules(files: Files) -> dict[str, bytes]:
    """The rendered security package's modules, by file name."""
    modules = {
        path.rpartition("/")[2]: content
        for path, content in files.items()
        if path.startswith("src/")
        and path.count("/") == 3
        and path.split("/")[2] == "security"
        and path.endswith(".py")
    }
    if "policy.py" not in modules or "__init__.py" not in modules:
        raise CodeError("the template has no src/<package>/security/policy.py there")
    return modules


class Blank(ast.NodeTransformer):
    """Every constant made the same: what is left is the code's shape."""

    def visit_Constant(self, node: ast.Constant) -> ast.Constant:
        return ast.copy_location(ast.Constant(value=None), node)


def shape(source: bytes) -> str:
    return ast.dump(Blank().visit(ast.parse(source)))


def check_shapes(ours: dict[str, bytes], reference: dict[str, bytes]) -> None:
    """Refuse a package that the answers made differ in more than constants."""
    for name, source in sorted(ours.items()):
        try:
            same = name in reference and shape(source) == shape(reference[name])
        except (SyntaxError, ValueError):
            same = False
        if not same:
            raise CodeError(
                f"its answers change the code of the template's security/{name}, "
                "not only its values: not loaded (check .cruft.json's answers)"
            )


class Loader:
    """Each (commit, answers) package written once under ``root`` and imported once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.loaded: dict[str, SecurityCode] = {}

    def load(self, key: str, files: Files, reference: Files) -> SecurityCode:
        if key not in self.loaded:
            modules = security_modules(files)
            check_shapes(modules, security_modules(reference))
            self.loaded[key] = self.import_package(modules)
        return self.loaded[key]

    def import_package(self, modules: dict[str, bytes]) -> SecurityCode:
        name = f"_fleet_release_{len(self.loaded)}_{id(self)}"
        package = self.root / name
        (package / "security").mkdir(parents=True)
        (package / "__init__.py").write_text('"""A release\'s security package."""\n')
        for module, source in modules.items():
            (package / "security" / module).write_bytes(source)
        spec = importlib.util.spec_from_file_location(
            name, package / "__init__.py", submodule_search_locations=[str(package)]
        )
        if spec is None or spec.loader is None:
            raise CodeError(f"cannot import from {package}")
        top = importlib.util.module_from_spec(spec)
        sys.modules[name] = top
        spec.loader.exec_module(top)
        try:
            policy = importlib.import_module(f"{name}.security.policy")
            live = (
                importlib.import_module(f"{name}.security.live")
                if "live.py" in modules
                else None
            )
        except Exception as error:  # the template's code at an old release
            raise CodeError(
                f"the template's security package does not load: {error!r}"
            ) from None
        return SecurityCode(policy, live)


def literal_settings(source: bytes | None) -> tuple[dict | None, str | None]:
    """config.py's settings when it gives them all as literals, else (None, why).

    Only literal assignments, imports that bind no setting (a star import
    may bind any) and docstrings are data; anything else (an ``if``, a call, a
    name in a value, a function) could change a setting, and config.py is
    never run to find out.
    """
    if source is None:
        return None, "no config.py"
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None, "config.py does not parse"
    settings: dict = {}
    for statement in tree.body:
        line = f"config.py line {statement.lineno}"
        if isinstance(statement, ast.Expr) and isinstance(
            statement.value, ast.Constant
        ):
            continue
        if isinstance(statement, ast.Import | ast.ImportFrom):
            bound = [alias.asname or alias.name for alias in statement.names]
            if any(name == "*" or name.split(".")[0].isupper() for name in bound):
                return None, f"{line} imports a setting"
            continue
        if isinstance(statement, ast.Assign | ast.AnnAssign):
            targets = (
                statement.targets
                if isinstance(statement, ast.Assign)
                else [statement.target]
            )
            if statement.value is None and isinstance(statement.target, ast.Name):
                continue  # a declaration without a value sets nothing
            if not all(isinstance(target, ast.Name) for target in targets):
                return None, f"{line} sets something by code"
            try:
                value = ast.literal_eval(statement.value)
            except (ValueError, TypeError, SyntaxError, RecursionError):
                return None, f"{line} sets {targets[0].id} by code"
            for target in targets:
                if target.id.isupper():
                    settings[target.id] = value
            continue
        return None, f"{line} runs code"
    return settings, None
