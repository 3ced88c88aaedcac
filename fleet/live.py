"""The live view: what a service's URL sends, judged by the template's own
``security.live`` at the service's release, against the floor (less the
exceptions its config.py registers) and against what its repository says.

What the repository says is what the template's ``policy.build`` at that
release makes of the settings in the service's config.py, read as literals:
the headers every page without an override gets. Nothing of the service is
imported or run. A release from before ``security.live`` is judged by the
newest release's ``security.live``, with its own release's headers, and
without the parts of the newest floor that its own floor did not hold yet
(Trusted Types, say): each is taken as registered, and a finding says so.

Template code runs only from what was merged: a commit that is in no
release and not on the template's default branch (a side branch's, anyone's)
is never rendered or imported; such a service is held to the newest
release's floor, and a finding says why.
"""

import importlib
from types import ModuleType

from fleet.fetch import Fetched, shared
from fleet.releases import Template
from fleet.render import Renderer
from fleet.service import Clone, security_exceptions
from fleet.template_code import CodeError, Loader, SecurityCode, literal_settings


class Judge:
    """Judges each service's fetched headers; template code loaded once per release."""

    def __init__(self, template: Template, renderer: Renderer, loader: Loader):
        self.template = template
        self.renderer = renderer
        self.loader = loader
        self.commits: dict[str, str | None] = {}  # revision -> commit, asked once
        self.released: dict[str, bool] = {}  # commit -> in a release, asked once

    def commit_of(self, revision: str) -> str | None:
        if revision not in self.commits:
            self.commits[revision] = self.template.commit_of(revision)
        return self.commits[revision]

    def merged(self, commit: str) -> bool:
        if commit not in self.released:
            self.released[commit] = self.template.merged(commit)
        return self.released[commit]

    def code(self, commit: str, answers: dict) -> SecurityCode:
        if not self.merged(commit):  # never rendered, never imported
            raise CodeError(
                f"{commit[:12]} is not on the default branch of the template"
            )
        try:
            files = self.renderer.files(commit, answers)
            reference = self.renderer.files(commit, {})  # the default answers
        except Exception as error:  # cookiecutter's errors share no base class
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise CodeError(
                f"cannot render the template at {commit[:12]}: {first}"
            ) from None
        answers = {k: v for k, v in answers.items() if not k.startswith("_")}
        return self.loader.load(f"{commit} {sorted(answers.items())}", files, reference)

    def judge(
        self, fetched: Fetched, clone: Clone | None, baseline: str | None
    ) -> tuple[str, list[str]]:
        """(live, findings) for one service's answer."""
        if fetched.error is not None:
            return "unreachable", [fetched.error]
        if fetched.status is not None and shared.failed(fetched.status):
            return "unreachable", [shared.failed(fetched.status)]
        newest = self.commit_of(self.template.latest or "")
        if newest is None:
            raise CodeError("the template has no release to judge live headers by")
        commit = (
            self.commit_of(clone.commit or "")
            if clone is not None and clone.linked
            else None
        )
        notes = []
        answers = clone.answers if clone is not None else {}
        if commit is not None and not self.merged(commit):
            notes.append(
                f"its template commit {commit[:12]} is not on the template's default "
                "branch: its code is not run; judged by the floor of "
                f"{self.template.latest} with its answers"
            )
            commit = None
        elif commit is None:
            notes.append(
                f"its release is not known: judged by the floor of "
                f"{self.template.latest} with "
                f"{'its' if answers else 'the default'} answers"
            )
        release = (baseline or commit[:12]) if commit else self.template.latest
        code = self.code(commit or newest, answers)
        live = code.live or self.code(newest, answers).live
        if live is None:
            raise CodeError(
                f"no release of the template up to {release} judges live headers"
            )
        exceptions = security_exceptions(clone) if clone is not None else {}
        if exceptions is None:
            notes.append(
                "SECURITY_EXCEPTIONS is not a literal in config.py: none is taken as registered"
            )
        if code.live is None:
            newer = newer_switches(code, live)
            if newer:
                exceptions = {**(exceptions or {}), **newer}
                notes.append(
                    f"judged by the newest release's rules, less what the floor of "
                    f"{release} did not hold: {', '.join(newer)}"
                )
        expected = None
        if commit is not None and clone is not None:
            expected, why = self.repository_says(
                code, live, clone, release, fetched.https
            )
            if why:
                notes.append(f"only the floor is compared: {why}")
        problems = live.assess(
            expected, fetched.headers, exceptions or {}, fetched.https
        )
        findings = [p.describe(f"its repository at {release} says") for p in problems]
        verdict = live.verdict(problems)
        odd = shared.not_a_page(fetched.status) if fetched.status else None
        if odd:  # a 404 with every header is still not the page asked for
            findings.insert(0, odd)
            verdict = "differs" if verdict == "ok" else verdict
        return verdict, findings + notes

    def repository_says(
        self,
        code: SecurityCode,
        live: ModuleType,
        clone: Clone,
        release: str,
        https: bool,
    ) -> tuple[list | None, str | None]:
        """The headers its repository says every plain page gets, or (None, why not)."""
        config = clone.files.get(f"src/{clone.package}/config.py")
        settings, why = literal_settings(config)
        if settings is None:
            return None, f"{why}, so what its repository sends is not known"
        try:
            built = code.policy.build(settings)
        except KeyError as error:
            return None, f"config.py has no {error.args[0]}, which {release} reads"
        except Exception as error:  # a refusal of the floor, say
            return None, f"its settings do not build at {release}: {error}"
        return live.expected_from_policy(built, https), None


def newer_switches(code: SecurityCode, live: ModuleType) -> dict[str, str]:
    """The exceptions of the newest floor's switches (``TRUSTED_TYPES=false``,
    ...) that the floor of ``code``'s release did not have: an older release
    is not held to a part of the floor that came later."""
    newest = importlib.import_module(f"{live.__package__}.floor")
    try:
        floor = importlib.import_module(f"{code.policy.__package__}.floor")
    except ModuleNotFoundError:  # releases before security/floor.py: no switches
        theirs = {}
    else:
        theirs = getattr(floor, "SWITCHED_OFF_BY_EXCEPTION", {})
    return {
        key: "not in the floor of its release"
        for setting, (key, *_) in newest.SWITCHED_OFF_BY_EXCEPTION.items()
        if setting not in theirs
    }
