"""The template rendered at a commit with a service's answers, once per pair."""

import json
import os
import re
import sys
import tomllib
from difflib import SequenceMatcher
from fnmatch import fnmatchcase
from pathlib import Path

from cookiecutter.environment import StrictEnvironment
from cookiecutter.main import cookiecutter
from cookiecutter.prompt import render_variable

from fleet.git import git

Files = dict[str, bytes]  # path relative to the project, in posix form -> content


SYMLINK = b"symbolic link to "  # how a link reads: never followed out of the clone


def read_tree(root: Path) -> Files:
    """Every file under ``root`` but .git; a symbolic link as where it points, unfollowed."""
    files = {}
    for path in sorted(root.rglob("*")):  # rglob does not descend into linked folders
        name = path.relative_to(root).as_posix()
        if ".git" in path.relative_to(root).parts:
            continue
        if path.is_symlink():
            files[name] = SYMLINK + os.fsencode(os.readlink(path))
        elif path.is_file():
            files[name] = path.read_bytes()
    return files


def owned_patterns(files: Files) -> list[str]:
    """The baked ``[tool.baseline] owned`` list: what the template owns."""
    pyproject = tomllib.loads(files["pyproject.toml"].decode())
    return list(pyproject["tool"]["baseline"]["owned"])


def is_owned(path: str, patterns: list[str]) -> bool:
    return any(
        path.startswith(pattern)
        if pattern.endswith("/")
        else fnmatchcase(path, pattern)
        for pattern in patterns
    )


# A line the team fills in (deploy/nginx.conf's replicas, certificate...):
# code, then the marker. A comment that only mentions EDIT is not one.
FILLABLE = re.compile(rb"\s*(?P<code>[^#\s][^#]*?)\s*#\s*EDIT\b")


def shape(code: bytes) -> tuple[bytes, int, int, int]:
    """What a filled-in value keeps: the directive, and how many it is."""
    return (code.split()[0], code.count(b";"), code.count(b"{"), code.count(b"}"))


def fills(line: bytes, edit_lines: list[bytes]) -> bool:
    """``line`` is a team's value for one of ``edit_lines``: still marked, the
    same directive, and no second one hidden on the line."""
    new = FILLABLE.match(line)
    return new is not None and any(
        old is not None and shape(old["code"]) == shape(new["code"])
        for old in map(FILLABLE.match, edit_lines)
    )


def changed(baked: bytes | None, theirs: bytes | None) -> bool:
    """Whether the service changed a file the template owns, its ``# EDIT`` lines aside.

    A line the template marks EDIT may take another value (keeping its marker
    and its directive) or go; lines added next to one (another replica) must
    fill it the same way. Any other difference counts.
    """
    if baked == theirs:
        return False
    if baked is None or theirs is None:
        return True
    old, new = baked.splitlines(), theirs.splitlines()
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    for kind, start, end, new_start, new_end in matcher.get_opcodes():
        if kind == "equal":
            continue
        edit_lines = (
            old[start:end] if kind != "insert" else old[max(start - 1, 0) : start + 1]
        )
        if kind != "insert" and not all(map(FILLABLE.match, edit_lines)):
            return True
        if not all(fills(line, edit_lines) for line in new[new_start:new_end]):
            return True
    return False


class Renderer:
    """Renders with cookiecutter from a worktree of the template's clone at each commit.

    cookiecutter ignores ``checkout`` for a local directory, so each commit
    gets its own worktree. The hooks are not run: the template's only check
    the answers, which were checked when the service was baked, and print.
    The answers go in a replay file, which cookiecutter takes as typed:
    given as ``extra_context`` they would be rendered as Jinja, running
    whatever a ``.cruft.json`` holds on the platform team's machine.
    """

    def __init__(self, template_clone: Path, scratch: Path) -> None:
        self.clone = template_clone
        self.scratch = scratch
        self.config = scratch / "cookiecutter.yaml"
        self.config.write_text(
            f"replay_dir: {json.dumps(str(scratch / 'replay'))}\n"
            f"cookiecutters_dir: {json.dumps(str(scratch / 'cookiecutters'))}\n"
        )
        self.worktrees: dict[str, Path] = {}
        self.rendered: dict[tuple[str, str], Files] = {}

    def worktree(self, commit: str) -> Path:
        if commit not in self.worktrees:
            path = self.scratch / "template" / commit
            git("worktree", "add", "--quiet", "--detach", path, commit, cwd=self.clone)
            self.worktrees[commit] = path
        return self.worktrees[commit]

    def files(self, commit: str, answers: dict) -> Files:
        answers = {k: v for k, v in answers.items() if not k.startswith("_")}
        key = (commit, json.dumps(answers, sort_keys=True))
        if key not in self.rendered:
            output = self.scratch / "rendered" / str(len(self.rendered))
            template = self.worktree(commit)
            replayed = replay_answers(template, answers)
            check_path_answers(template, replayed)
            replay = self.scratch / "answers" / f"{len(self.rendered)}.json"
            replay.parent.mkdir(exist_ok=True)
            replay.write_text(json.dumps({"cookiecutter": replayed}))
            project = cookiecutter(
                str(template),
                replay=str(replay),
                output_dir=str(output),
                config_file=str(self.config),
                accept_hooks=False,
            )
            forget_modules_from(template)
            self.rendered[key] = read_tree(Path(project))
        return self.rendered[key]


def replay_answers(template: Path, answers: dict) -> dict:
    """The service's answers as they are, the template's own ``_`` settings
    (extensions, files copied unrendered), and for a question the service was
    never asked, its default rendered from the answers as a bake would."""
    questions = json.loads((template / "cookiecutter.json").read_text("utf-8"))
    environment = StrictEnvironment()  # cookiecutter's filters; not the template's
    replayed: dict = {}
    for key, raw in questions.items():
        if key.startswith("_"):
            replayed[key] = raw
        elif key in answers:
            replayed[key] = answers[key]
        else:
            default = raw[0] if isinstance(raw, list) else raw
            replayed[key] = render_variable(environment, default, replayed)
    return replayed | {k: v for k, v in answers.items() if k not in replayed}


# What an answer that names a file or folder may be: one plain name. The
# template's own hook checks more, but the fleet does not run hooks.
PATH_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")


def check_path_answers(template: Path, answers: dict) -> None:
    """Refuse an answer that would take a rendered path out of the output
    folder (``../../somewhere``): cookiecutter joins them as they are."""
    in_names = {
        key
        for path in template.rglob("*")
        for key in re.findall(r"\{\{\s*cookiecutter\.(\w+)", path.name)
    }
    for key in sorted(in_names):
        value = answers.get(key)
        if not isinstance(value, str) or not PATH_PART.match(value):
            raise ValueError(f"its answer {key}={value!r} cannot name a file or folder")


def forget_modules_from(template: Path) -> None:
    """Drop the template's Jinja extensions (local_extensions) so each commit loads its own."""
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None) or ""
        if origin.startswith(str(template)):
            del sys.modules[name]
