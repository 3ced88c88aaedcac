"""A template copy with tagged releases, and services baked from it: what the fleet tool reads.

Each service is a git repository with a bare remote (its "origin"), as a team's
would be. Services are baked with cruft in this process (its Python API:
half a second each, where the command takes three).
"""

import json
from dataclasses import dataclass
from pathlib import Path

import cruft

from fleet.changelog import sections
from fleet.releases import version
from testkit import TEMPLATE
from testkit.commands import git
from testkit.template_copy import template_repository

BAKED = "{{cookiecutter.project_slug}}"
SECURITY = f"{BAKED}/src/{{{{cookiecutter.package_name}}}}/security"
PINNED_TESTS = f"{BAKED}/tests/test_security_headers.py"
BAKED_LOCK = f"{BAKED}/uv.lock"
PIP_TOOLS_LOCK = f"{BAKED}/requirements.txt"
DEV_GROUP = "[dependency-groups]\ndev = ["
DEV_EXTRA = "[project.optional-dependencies]\ndev = ["
# A team's own dependency, one Flask's lock holds: locking needs no index.
TEAMS_DEPENDENCY = '"blinker>=1.9"'


def newest_changelog_release(changelog: Path = TEMPLATE / "CHANGELOG.md") -> str:
    """The newest ``## X.Y.Z`` section of the changelog, as X.Y.Z."""
    return max(sections(changelog.read_text()), key=version)[1:]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def edit_security(template: Path, old: str, new: str) -> Path:
    """Edit the one module of the security package that holds ``old``."""
    holding = [p for p in (template / SECURITY).rglob("*.py") if old in p.read_text()]
    assert len(holding) == 1, f"{old!r} is in {holding}, not in one module"
    edit(holding[0], old, new)
    return holding[0]


def release(template: Path, tag: str, title: str, changes: str) -> None:
    """Commit what was edited with its CHANGELOG section, and tag it as a release."""
    changelog = template / "CHANGELOG.md"
    text = changelog.read_text()
    first = text.index("\n## ") + 1
    section = f"## {tag[1:]}\n\n{title}\n\n{changes}\n\n"
    changelog.write_text(text[:first] + section + text[first:])
    git("commit", "-qam", f"Baseline {tag[1:]}: {title}", cwd=template)
    git("tag", "-a", tag, "-m", f"Baseline {tag[1:]}", cwd=template)


@dataclass
class Releases:
    template: Path
    # Oldest first: the copy (no owned-files list), then two policy changes.
    tags: list[str]


# The two policy changes the releases make, as (old line, new line) in the
# security package and in the pinned tests.
ORIGIN_AGENT_CLUSTER = (
    '            ("Cross-Origin-Resource-Policy", "same-origin"),\n',
    '            ("Cross-Origin-Resource-Policy", "same-origin"),\n'
    '            ("Origin-Agent-Cluster", "?1"),\n',
)
REFERRER = '("Referrer-Policy", "strict-origin-when-cross-origin")'
SAME_ORIGIN_REFERRER = '("Referrer-Policy", "same-origin")'


def released_template(destination: Path) -> Releases:
    """This template as it is, tagged as the changelog's newest release, then two more."""
    template = template_repository(destination)
    newest = newest_changelog_release(template / "CHANGELOG.md")
    major, minor, _ = newest.split(".")
    tags = [
        f"v{newest}",  # as the changelog names it: a patch release too
        f"v{major}.{int(minor) + 1}.0",
        f"v{major}.{int(minor) + 2}.0",
    ]
    # The oldest release bakes no owned-files list, as releases before 3.1.0
    # did, and a pip-tools lock, its tools an extra, as releases before 3.2.0.
    pyproject = template / BAKED / "pyproject.toml"
    with_owned_list = pyproject.read_text()
    start = with_owned_list.index("[tool.baseline]\n")
    end = with_owned_list.index("\n]\n", start) + 3
    before = with_owned_list[:start] + with_owned_list[end:].lstrip("\n")
    pyproject.write_text(before.replace(DEV_GROUP, DEV_EXTRA, 1))
    lock = (template / BAKED_LOCK).read_bytes()
    git("mv", BAKED_LOCK, PIP_TOOLS_LOCK, cwd=template)
    (template / PIP_TOOLS_LOCK).write_text("flask==3.1.3\n")
    git("commit", "-qam", "As releases before 3.2.0", cwd=template)
    git("tag", "-a", tags[0], "-m", f"Baseline {tags[0][1:]}", cwd=template)
    pyproject.write_text(with_owned_list)
    git("mv", PIP_TOOLS_LOCK, BAKED_LOCK, cwd=template)
    (template / BAKED_LOCK).write_bytes(lock)

    edit_security(template, *ORIGIN_AGENT_CLUSTER)
    pinned = template / PINNED_TESTS
    edit(
        pinned,
        '    "Cross-Origin-Resource-Policy": "same-origin",\n',
        '    "Cross-Origin-Resource-Policy": "same-origin",\n    "Origin-Agent-Cluster": "?1",\n',
    )
    edit(
        pinned,
        '    "Cross-Origin-Resource-Policy",\n',
        '    "Cross-Origin-Resource-Policy",\n    "Origin-Agent-Cluster",\n',
    )
    release(
        template,
        tags[1],
        "Origin-Agent-Cluster on every response",
        "- Every response gets `Origin-Agent-Cluster: ?1`.\n\n"
        "What a service may have to change: nothing.",
    )

    edit_security(template, REFERRER, SAME_ORIGIN_REFERRER)
    edit(
        pinned,
        '"Referrer-Policy": "strict-origin-when-cross-origin"',
        '"Referrer-Policy": "same-origin"',
    )
    edit(
        template / f"{BAKED}/tests/test_security_check.py",
        "'strict-origin-when-cross-origin'\" in result.output",
        "'same-origin'\" in result.output",
    )
    release(
        template,
        tags[2],
        "no Referer to other sites",
        "- `Referrer-Policy: same-origin` instead of `strict-origin-when-cross-origin`.\n\n"
        "What a service may have to change: a test or an analytics tool of its own\n"
        "that expects the origin in `Referer` on other sites.",
    )
    return Releases(template, tags)


@dataclass
class Service:
    name: str
    work: Path  # the team's clone
    remote: Path  # its bare "origin", which the fleet file names


def publish(work: Path, remote: Path) -> Service:
    """Make ``work`` a git repository on ``main`` whose origin is a new bare ``remote``."""
    git("init", "-q", "--bare", "-b", "main", str(remote), cwd=work.parent)
    git("init", "-q", "-b", "main", cwd=work)
    git("add", "-A", cwd=work)
    git("commit", "-qm", "Baked", cwd=work)
    git("remote", "add", "origin", str(remote), cwd=work)
    git("push", "-q", "-u", "origin", "main", cwd=work)
    return Service(work.name, work, remote)


def bake_service(
    directory: Path, template: Path, name: str, checkout: str | None, **answers
) -> Service:
    """A service baked with ``cruft create`` at ``checkout``; with None, plain cookiecutter."""
    context = {"project_name": name, **answers}
    if checkout is None:
        from testkit.bake import bake

        work = bake(directory, template=template, **context)
    else:
        cruft.create(
            str(template),
            checkout=checkout,
            no_input=True,
            extra_context=context,
            output_dir=directory,
        )
        work = directory / name
    return publish(work, directory / f"{work.name}.git")


def bake_as_typed(directory: Path, template: Path, **answers) -> Service:
    """A service baked from a replay file at the template's newest commit, so its
    answers are taken as typed (braces and all), linked as ``cruft create`` links."""
    from cookiecutter.main import cookiecutter

    questions = json.loads((template / "cookiecutter.json").read_text())
    typed = {
        key: raw
        if key.startswith("_")
        else answers.get(key, raw[0] if isinstance(raw, list) else raw)
        for key, raw in questions.items()
    }
    replay = directory / f"{answers['project_slug']}-answers.json"
    replay.write_text(json.dumps({"cookiecutter": typed}))
    work = Path(
        cookiecutter(str(template), replay=str(replay), output_dir=str(directory))
    )
    commit = git("rev-parse", "HEAD", cwd=template).stdout.strip()
    recorded = {k: v for k, v in typed.items() if not k.startswith("__")}
    state = {
        "template": str(template),
        "commit": commit,
        "checkout": None,
        "context": {
            "cookiecutter": recorded | {"_template": str(template), "_commit": commit}
        },
        "directory": None,
    }
    (work / ".cruft.json").write_text(json.dumps(state, indent=2) + "\n")
    return publish(work, directory / f"{work.name}.git")


def commit_and_push(service: Service, message: str) -> None:
    git("add", "-A", cwd=service.work)
    git("commit", "-qm", message, cwd=service.work)
    git("push", "-q", "origin", "main", cwd=service.work)


def cruft_state(service: Service) -> dict:
    return json.loads((service.work / ".cruft.json").read_text())


# A team's own settings (tests/test_cruft.py takes them from here): a CDN, the
# camera, one documented exception, and a view a partner may frame.
CDN_AND_LEGACY_CHARTS = {
    "img-src": ["https://cdn.example.com"],
    "script-src": ["'unsafe-eval'"],
}
CAMERA = {"camera": ["self"]}
EXCEPTION = {"script-src 'unsafe-eval'": "legacy chart library, SEC-4242"}
PARTNER_VIEW = (
    "\n\nfrom .security import override\n\n\n"
    '@bp.get("/partner")\n'
    '@override(frame_ancestors=["https://partner.example.com"])\n'
    'def partner() -> str:\n    return "ours"\n'
)
# A team test that holds the Referer the newest release takes away.
OWN_REFERRER_TEST = '''"""Our analytics needs the origin in Referer."""

from {package} import create_app


def test_other_sites_see_our_origin():
    response = create_app({{"TESTING": True}}).test_client().get("/")
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
'''

# A team test that tries to reach what the fleet tool pushes with: a pre-push
# hook and config-borne commands in the `.git` of where it runs, a commit of
# its own there, and a note of the HOME it was given (under ``probe``).
TAMPERING_TEST = """import os
import pathlib
import stat
import subprocess

MARKER = {marker!r}


def test_nothing_of_ours_runs_with_the_platform_teams_credentials():
    pathlib.Path({seen!r}).write_text(os.environ["HOME"])
    subprocess.run(
        ["git", "-c", "user.name=x", "-c", "user.email=x@localhost", "commit",
         "--quiet", "--allow-empty", "--no-verify", "-m", "not the fleet's"],
        check=False,
    )
    hook = pathlib.Path(".git/hooks/pre-push")
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text("#!/bin/sh\\ntouch " + MARKER + "\\n")
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
    with pathlib.Path(".git/config").open("a") as config:
        config.write(
            "[core]\\n\\tfsmonitor = touch " + MARKER + "\\n"
            "[credential]\\n\\thelper = !touch " + MARKER + "\\n"
        )
"""


def set_setting(config: Path, declaration: str, value: object) -> None:
    edit(config, f"{declaration} = {{}}", f"{declaration} = {value!r}")


@dataclass
class Fleet:
    releases: Releases
    services: dict[str, Service]
    file: Path  # the fleet file naming them all, minimum the middle release
    probe: Path  # where the settings service's tampering test writes

    def fleet_file(
        self, names: list[str], path: Path, untested: frozenset[str] = frozenset()
    ) -> Path:
        """Another fleet file, with only the services ``names``; ``untested`` get test = false."""
        services = [self.services[n] for n in names]
        path.write_text(fleet_toml(self.releases, services, untested))
        return path


def fleet_toml(
    releases: Releases, services: list[Service], untested: frozenset[str] = frozenset()
) -> str:
    lines = [
        f"template = {json.dumps(str(releases.template))}",
        f'minimum = "{releases.tags[1]}"',
    ]
    for service in services:
        lines += [
            "",
            "[[service]]",
            f'name = "{service.name}"',
            f"repo = {json.dumps(str(service.remote))}",
        ]
        if service.name in untested:
            lines.append("test = false")
    return "\n".join(lines) + "\n"


def build_fleet(root: Path) -> Fleet:
    """Services in every state the report tells apart; see tests/test_fleet_report.py."""
    (root / "template").mkdir()
    releases = released_template(root / "template")
    old, middle, newest = releases.tags
    template = releases.template
    services_dir = root / "services"
    services_dir.mkdir()
    services: dict[str, Service] = {}

    def add(name: str, checkout: str | None, **answers) -> Service:
        services[name] = bake_service(services_dir, template, name, checkout, **answers)
        return services[name]

    # Current, with an exception given through a name: not a literal, so unreadable.
    current = add("current", newest)
    config = current.work / "src/current/config.py"
    set_setting(
        config, "CSP_EXTEND: dict[str, list[str]]", {"script-src": ["'unsafe-eval'"]}
    )
    edit(
        config,
        "SECURITY_EXCEPTIONS: dict[str, str] = {}",
        'LEGACY_CHARTS = "legacy charts, SEC-1"\n'
        "SECURITY_EXCEPTIONS: dict[str, str] = {\"script-src 'unsafe-eval'\": LEGACY_CHARTS}",
    )
    commit_and_push(current, "Legacy charts")

    settings = add("settings", middle, frame_policy="DENY")
    config = settings.work / "src/settings/config.py"
    set_setting(config, "CSP_EXTEND: dict[str, list[str]]", CDN_AND_LEGACY_CHARTS)
    set_setting(config, "PERMISSIONS_ALLOW: dict[str, list[str]]", CAMERA)
    set_setting(config, "SECURITY_EXCEPTIONS: dict[str, str]", EXCEPTION)
    routes = settings.work / "src/settings/routes.py"
    routes.write_text(routes.read_text() + PARTNER_VIEW)
    probe = root / "probe"
    probe.mkdir()
    (settings.work / "tests/test_tampering.py").write_text(
        TAMPERING_TEST.format(marker=str(probe / "ran"), seen=str(probe / "home"))
    )
    commit_and_push(settings, "Our CDN, and a page our partner frames")

    two_behind = add("two-behind", old)
    (two_behind.work / "tests/test_our_referrer.py").write_text(
        OWN_REFERRER_TEST.format(package="two_behind")
    )
    deps = '"gunicorn>=23.0,<28"]'  # from before uv: its branch locks this again
    edit(two_behind.work / "pyproject.toml", deps, f"{deps[:-1]}, {TEAMS_DEPENDENCY}]")
    commit_and_push(two_behind, "Our analytics test, and blinker")

    edited = add("edited-policy", middle)
    policy = edited.work / "src/edited_policy/security/policy.py"
    policy.write_text(policy.read_text() + "# Ours: a note in the template's file.\n")
    commit_and_push(edited, "A note in the policy")

    conflict = add("conflict", middle)
    (module,) = [
        p
        for p in (conflict.work / "src/conflict/security").glob("*.py")
        if REFERRER in p.read_text()
    ]
    edit(module, REFERRER, '("Referrer-Policy", "no-referrer")')
    commit_and_push(conflict, "Referer to our own origin only")

    add("plain", None)

    nothing = services_dir / "no-service"
    nothing.mkdir()
    (nothing / "README.md").write_text("Notes, not a service.\n")
    services["no-service"] = publish(nothing, services_dir / "no-service.git")

    services["missing"] = Service(
        "missing", services_dir / "missing", services_dir / "missing.git"
    )

    stranger = add("stranger", newest)
    state = cruft_state(stranger)
    state["commit"] = "0123456789abcdef0123456789abcdef01234567"
    (stranger.work / ".cruft.json").write_text(json.dumps(state, indent=2) + "\n")
    commit_and_push(stranger, "Baked from another template")

    fleet_file = root / "FLEET.toml"
    fleet_file.write_text(fleet_toml(releases, list(services.values())))
    return Fleet(releases, services, fleet_file, probe)
