"""One row per service: its release, drift, exceptions and what the newest release would do."""

import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fleet.fetch import Fetches
from fleet.fleet_file import Fleet, FleetFileError, Service
from fleet.git import GitError, shallow_clone
from fleet.live import Judge
from fleet.merge import conflicting_files
from fleet.releases import Template, version
from fleet.render import Files, Renderer, changed, is_owned, owned_patterns
from fleet.service import Clone, NotAService, read_clone, security_exceptions
from fleet.template_code import CodeError, Loader

BAKED_PYPROJECT = "{{cookiecutter.project_slug}}/pyproject.toml"  # where the list is
CLONES_AT_ONCE = 8  # cloning waits on the network or the disk, not the CPU


@dataclass
class Row:
    name: str
    baseline: str | None = None
    latest: str | None = None
    behind: int | None = None
    owned_changed: list[str] = field(default_factory=list)
    exceptions: dict[str, str] | None = None
    update: str | None = None  # current, clean, conflict, not-linked; None on error
    conflicts: list[str] = field(default_factory=list)
    error: str | None = None
    live: str | None = None  # ok, differs, below-floor, unreachable; None: no url
    live_findings: list[str] = field(default_factory=list)

    def below(self, minimum: str) -> bool:
        return self.error is None and (
            self.baseline is None or version(self.baseline) < version(minimum)
        )

    def as_json(self) -> dict:
        return asdict(self)


@dataclass
class Report:
    fleet: Fleet
    rows: list[Row]

    @property
    def exit_status(self) -> int:
        """0 all at or above the minimum, undrifted and live as their repositories
        say, 1 any is not, 2 any unreadable (its repository or its URL)."""
        if any(row.error or row.live == "unreachable" for row in self.rows):
            return 2
        if any(
            row.below(self.fleet.minimum)
            or row.owned_changed
            or row.live in ("differs", "below-floor")
            for row in self.rows
        ):
            return 1
        return 0

    def summary(self) -> dict[str, int]:
        return summarise([row.as_json() for row in self.rows], self.fleet.minimum)


def summarise(rows: list[dict], minimum: str) -> dict[str, int]:
    """The page's headline counts, from the JSON rows (so anyone can check them)."""
    readable = [row for row in rows if row["error"] is None]
    return {
        "services": len(rows),
        "current": sum(row["behind"] == 0 for row in readable),
        "behind": sum((row["behind"] or 0) > 0 for row in readable),
        "drifted": sum(bool(row["owned_changed"]) for row in readable),
        "below minimum": sum(
            row["baseline"] is None or version(row["baseline"]) < version(minimum)
            for row in readable
        ),
        "not linked": sum(row["update"] == "not-linked" for row in readable),
        "unreadable": len(rows) - len(readable),
        "live ok": sum(row["live"] == "ok" for row in rows),
        "live differs": sum(row["live"] == "differs" for row in rows),
        "live below floor": sum(row["live"] == "below-floor" for row in rows),
        "live unreachable": sum(row["live"] == "unreachable" for row in rows),
    }


def worst_first(rows: list[Row], minimum: str) -> list[Row]:
    def badness(row: Row) -> tuple:
        return (
            row.error is not None,
            row.live == "unreachable",
            row.live == "below-floor",
            row.below(minimum),
            row.update == "conflict",
            row.live == "differs",
            len(row.owned_changed),
            row.behind or 0,
        )

    return sorted(sorted(rows, key=lambda row: row.name), key=badness, reverse=True)


def clone_template(fleet: Fleet, scratch: Path) -> Template:
    """The fleet's template with its releases; one line when git cannot read it."""
    try:
        return Template.clone_from(fleet.template, scratch / "template.git")
    except GitError as error:
        raise FleetFileError(
            f"cannot read the template {fleet.template}: {error}"
        ) from None


def build_report(fleet: Fleet) -> Report:
    fetches = start_fetches(fleet)  # the URLs are asked while the repositories are read
    try:
        return read_fleet(fleet, fetches)
    finally:
        fetches.close()


def start_fetches(fleet: Fleet) -> Fetches:
    try:
        return Fetches(
            (s.url for s in fleet.services if s.url),
            fleet.ca_bundle,
            fleet.live_timeout,
        )
    except (OSError, ValueError) as error:  # ssl.SSLError is an OSError
        raise FleetFileError(
            f"ca_bundle {fleet.ca_bundle} is not a PEM file of CAs: {error}"
        ) from None


def read_fleet(fleet: Fleet, fetches: Fetches) -> Report:
    with tempfile.TemporaryDirectory(prefix="fleet-") as directory:
        scratch = Path(directory)
        template = clone_template(fleet, scratch)
        if fleet.minimum not in template.releases:
            releases = ", ".join(template.releases) or "none"
            raise FleetFileError(
                f"minimum = {fleet.minimum!r} is not a release of {fleet.template} (its releases: {releases})"
            )
        with ThreadPoolExecutor(CLONES_AT_ONCE) as pool:
            clones = list(
                pool.map(
                    lambda numbered: fetch(
                        numbered[1], scratch / "services" / str(numbered[0])
                    ),
                    enumerate(fleet.services),
                )
            )
        renderer = Renderer(template.clone, scratch)
        rows = [
            inspect(service, clone, template, renderer)
            if isinstance(clone, Clone)
            else Row(service.name, latest=template.latest, error=clone)
            for service, clone in zip(fleet.services, clones, strict=True)
        ]
        judge = Judge(template, renderer, Loader(scratch / "template-code"))
        for service, clone, row in zip(fleet.services, clones, rows, strict=True):
            if service.url:
                see_live(row, fetches, service.url, clone, judge)
    return Report(fleet, worst_first(rows, fleet.minimum))


def see_live(
    row: Row, fetches: Fetches, url: str, clone: Clone | str, judge: Judge
) -> None:
    """The row's live view; template code that cannot judge it makes it
    unreadable, in one line: one service's failure never ends the report."""
    try:
        row.live, row.live_findings = judge.judge(
            fetches.result(url),
            clone if isinstance(clone, Clone) else None,
            row.baseline,
        )
    except CodeError as error:
        row.error = row.error or f"live view: {error}"
    except Exception as error:  # the template's code at an old release, say
        first = (str(error).splitlines() or [""])[0]
        what = f"{type(error).__name__}: {first}" if first else type(error).__name__
        row.error = row.error or f"live view: cannot judge it: {what}"


class Unreadable(Exception):
    """A service the report cannot read; the message is its one-line error."""


def fetch(service: Service, destination: Path) -> Clone | str:
    """The service's clone, read; or the one line saying why it cannot be."""
    try:
        return read_clone(shallow_clone(service.repo, destination))
    except GitError as error:
        return f"cannot clone {service.repo}: {error}"
    except NotAService as error:
        return str(error)
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        return (
            f"cannot read the clone of {service.repo}: {where}{error.strerror or error}"
        )


def inspect(
    service: Service, clone: Clone, template: Template, renderer: Renderer
) -> Row:
    try:
        return read_row(service, clone, template, renderer)
    except Unreadable as error:
        return Row(service.name, latest=template.latest, error=str(error))


def read_row(
    service: Service, clone: Clone, template: Template, renderer: Renderer
) -> Row:
    row = Row(
        service.name, latest=template.latest, exceptions=security_exceptions(clone)
    )
    if not clone.linked:
        row.update = "not-linked"
        return row
    commit = template.commit_of(clone.commit or "")
    if commit is None:
        raise Unreadable(
            f"template commit {clone.commit} in .cruft.json is not in "
            f"{template.location}: baked from another template?"
        )
    if not template.merged(commit):  # a side branch's code is never run here
        raise Unreadable(
            f"template commit {commit[:12]} in .cruft.json is not on the default "
            f"branch of {template.location}, so its code is not run: move it to a "
            "release, "
            f"e.g. cruft update --checkout {template.latest}"
        )
    row.baseline = template.release_at(commit)
    row.behind = len(template.newer_than(row.baseline))
    base = render(renderer, commit, clone.answers)
    patterns = owned_list(base, commit, clone.answers, template, renderer)
    row.owned_changed = sorted(
        path
        for path in base.keys() | clone.files.keys()
        if is_owned(path, patterns) and changed(base.get(path), clone.files.get(path))
    )
    if row.behind == 0:
        row.update = "current"
        return row
    latest = template.commit_of(template.latest or "") or commit
    theirs = render(renderer, latest, clone.answers)
    row.conflicts = conflicting_files(clone.files, base, theirs)
    row.update = "conflict" if row.conflicts else "clean"
    return row


def owned_list(
    base: Files, commit: str, answers: dict, template: Template, renderer: Renderer
) -> list[str]:
    """What the template owns, as baked at ``commit``; for a service baked before
    the list existed, the newest release's list, else the nearest later commit's."""
    # Rendering runs the template's Jinja extension: the default branch's
    # commits only, as later_commits are.
    later = template.later_commits(commit, BAKED_PYPROJECT)
    candidates = [template.commit_of(template.latest or ""), *later]
    for candidate in [commit, *filter(None, candidates)]:
        try:
            files = (
                base if candidate == commit else render(renderer, candidate, answers)
            )
            return owned_patterns(files)
        except (KeyError, ValueError, TypeError, Unreadable):
            continue
    raise Unreadable(
        f"no commit of the template from {commit[:12]} on lists owned files "
        "([tool.baseline] owned in its pyproject.toml)"
    )


def render(renderer: Renderer, commit: str, answers: dict) -> Files:
    try:
        return renderer.files(commit, answers)
    except Exception as error:  # cookiecutter's errors share no base class
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise Unreadable(
            f"cannot render the template at {commit[:12]} with its answers: {first}"
        ) from None
