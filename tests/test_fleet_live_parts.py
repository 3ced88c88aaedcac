"""The live view's parts on their own: the fleet file's live settings,
config.py read as literals, the template's code loaded safely, at the right
release and only from a release, and one service's judgement kept to its row.

The fetches: tests/test_fleet_fetch.py. The whole, over real deployments:
tests/test_fleet_live.py.
"""

import pytest

from fleet.fetch import Fetched
from fleet.fleet_file import FleetFileError, Service, load
from fleet.live import Judge
from fleet.releases import Template
from fleet.render import Renderer
from fleet.report import Row, build_report, inspect, see_live
from fleet.service import read_clone
from fleet.template_code import CodeError, Loader, literal_settings
from testkit.commands import git, run
from testkit.services import SECURITY, edit

pytestmark = pytest.mark.xdist_group("fleet")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('url = "ftp://x/"', "has url = 'ftp://x/'; give the https:// URL"),
        ('url = "https://"', "has url = 'https://'; give the https:// URL"),
        ('url = "https://u:p@x/"', "has url = 'https://u:p@x/'; give the https:// URL"),
        ('ca_bundle = "nowhere.pem"', "ca_bundle = 'nowhere.pem' is not a file"),
        ("live_timeout = 0", "live_timeout = 0; give the seconds"),
    ],
    ids=["not-http", "no-host", "credentials", "no-ca-bundle", "zero-timeout"],
)
def test_a_bad_live_setting_is_one_line(tmp_path, text, message):
    top, service = (text, "") if not text.startswith("url") else ("", text)
    fleet_file = tmp_path / "FLEET.toml"
    fleet_file.write_text(
        f'template = "t"\nminimum = "v1.0.0"\n{top}\n'
        f'[[service]]\nname = "a"\nrepo = "a"\n{service}\n'
    )
    with pytest.raises(FleetFileError) as raised:
        load(fleet_file)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_config_literals_are_read_and_code_is_not():
    assert literal_settings(
        b'"""Doc."""\nfrom typing import Any\nHSTS = True\nX: int = 1\n'
    ) == (
        {"HSTS": True, "X": 1},
        None,
    )
    for source, why in [
        (b"import os\nHSTS = os.environ['x']\n", "config.py line 2 sets HSTS by code"),
        (b"HSTS = True\nif HSTS:\n    HSTS = False\n", "config.py line 2 runs code"),
        (b"from x import HSTS\n", "config.py line 1 imports a setting"),
        (b"from x import *\n", "config.py line 1 imports a setting"),
        (b"globals()['HSTS'] = False\n", "config.py line 1 sets something by code"),
    ]:
        assert literal_settings(source) == (None, why)


def test_answers_that_would_put_code_in_the_template_are_refused(fleet, tmp_path):
    """A .cruft.json is the service's: an answer the template writes into
    Python must leave it Python of the same shape, or nothing is imported."""
    mark = tmp_path / "ran"
    template = fleet.releases.template
    commit = run("git", "rev-parse", "HEAD", cwd=template).stdout.strip()
    renderer = Renderer(template, tmp_path)
    injected = {"hsts": f"__import__('pathlib').Path({str(mark)!r}).touch() or True"}
    with pytest.raises(
        CodeError, match=r"change the code of the template's security/policy\.py"
    ):
        Loader(tmp_path / "code").load(
            "k", renderer.files(commit, injected), renderer.files(commit, {})
        )
    assert not mark.exists()


def test_a_ca_bundle_under_home_is_found(tmp_path, monkeypatch):
    """~ is the user's home, not a folder "~" beside the fleet file."""
    home, fleet_dir = tmp_path / "home", tmp_path / "fleet"
    home.mkdir()
    fleet_dir.mkdir()
    (home / "ca.pem").write_text("a PEM file\n")
    monkeypatch.setenv("HOME", str(home))
    fleet_file = fleet_dir / "FLEET.toml"
    fleet_file.write_text(
        'template = "t"\nminimum = "v1.0.0"\nca_bundle = "~/ca.pem"\n'
        '[[service]]\nname = "a"\nrepo = "a"\n'
    )
    assert load(fleet_file).ca_bundle == str(home / "ca.pem")


def judge_of_a_middle_release(
    fleet, tmp_path, *, switches: bool, floor_module: bool = True
):
    """A Judge whose middle release is rendered without security/live.py,
    and, unless ``switches``, with a floor that has no switched-off parts
    yet (as before Trusted Types and Integrity-Policy); without
    ``floor_module``, with no security/floor.py at all (as 2.0.0 and before:
    what it holds is elsewhere)."""
    tmp_path.mkdir(exist_ok=True)
    template = Template.clone_from(str(fleet.releases.template), tmp_path / "t.git")
    middle = template.commit_of(fleet.releases.tags[1])
    renderer = Renderer(template.clone, tmp_path)

    class WithoutLive:
        def files(self, commit, answers):
            files = renderer.files(commit, answers)
            if commit != middle:
                return files
            older = {p: c for p, c in files.items() if not p.endswith("/live.py")}
            if not floor_module:
                older = {
                    p.replace("/floor.py", "/limits.py"): c.replace(
                        b".floor import", b".limits import"
                    )
                    for p, c in older.items()
                }
            if switches:
                return older
            return {
                p: c.replace(b"SWITCHED_OFF_BY_EXCEPTION", b"SWITCHES_OF_LATER")
                for p, c in older.items()
            }

    judge = Judge(template, WithoutLive(), Loader(tmp_path / "code"))
    clone = read_clone(fleet.services["settings"].work)
    assert judge.code(middle, clone.answers).live is None
    return judge, clone


def test_a_release_before_security_live_is_judged_by_the_newest_ones(fleet, tmp_path):
    """Its own release's headers and floor constants, the newest release's
    rules: here a middle release rendered without security/live.py."""
    judge, clone = judge_of_a_middle_release(fleet, tmp_path, switches=True)
    fetched = Fetched("https://127.0.0.1/", 200, [("Server", "nginx")])
    live, findings = judge.judge(fetched, clone, fleet.releases.tags[1])
    assert live == "below-floor"
    assert "Content-Security-Policy missing" in findings
    assert "Integrity-Policy missing" in findings  # its floor holds it
    assert "Referrer-Policy missing" in findings  # what the repository says, too
    assert not any("did not hold" in finding for finding in findings)


def test_an_older_release_is_not_held_to_a_part_of_the_floor_that_came_later(
    fleet, tmp_path
):
    """Its floor had no Trusted Types or Integrity-Policy: neither is asked
    of it. (config.py computes here, so only the floor is compared.)"""
    fetched = Fetched("https://127.0.0.1/", 200, [("Server", "nginx")])
    for switches in (True, False):
        judge, clone = judge_of_a_middle_release(
            fleet, tmp_path / f"switches-{switches}", switches=switches
        )
        config = f"src/{clone.package}/config.py"
        clone.files[config] += b"\nHSTS = not HSTS\n"
        live, findings = judge.judge(fetched, clone, fleet.releases.tags[1])
        assert live == "below-floor"
        assert "Content-Security-Policy missing" in findings
        assert ("Integrity-Policy missing" in findings) is switches
    assert (
        f"judged by the newest release's rules, less what the floor of "
        f"{fleet.releases.tags[1]} did not hold: TRUSTED_TYPES=false, "
        "INTEGRITY_POLICY=false"
    ) in findings


def test_a_release_without_a_floor_module_has_no_switches(fleet, tmp_path):
    """2.0.0 and before had no security/floor.py: none of the newest floor's
    switched-off parts is asked of it, and nothing crashes."""
    judge, clone = judge_of_a_middle_release(
        fleet, tmp_path, switches=True, floor_module=False
    )
    fetched = Fetched("https://127.0.0.1/", 200, [("Server", "nginx")])
    live, findings = judge.judge(fetched, clone, fleet.releases.tags[1])
    assert live == "below-floor"
    assert "Content-Security-Policy missing" in findings
    assert (
        f"judged by the newest release's rules, less what the floor of "
        f"{fleet.releases.tags[1]} did not hold: TRUSTED_TYPES=false, "
        "INTEGRITY_POLICY=false"
    ) in findings


def test_what_fails_in_judging_one_service_is_its_rows_one_line():
    class Failing:
        def judge(self, fetched, clone, baseline):
            raise AttributeError("module 'x.security.live' has no attribute\n'y'")

    class Answered:
        def result(self, url):
            return Fetched(url, 200, [])

    row = Row("a")
    see_live(row, Answered(), "https://127.0.0.1/", "not cloned", Failing())
    assert row.error == (
        "live view: cannot judge it: AttributeError: "
        "module 'x.security.live' has no attribute"
    )


def test_a_5xx_is_unreachable_naming_the_status(fleet, tmp_path):
    """A proxy's 502 carries none of the service's headers: no floor to judge."""
    template = Template.clone_from(str(fleet.releases.template), tmp_path / "t.git")
    judge = Judge(template, Renderer(template.clone, tmp_path), Loader(tmp_path / "c"))
    fetched = Fetched("https://127.0.0.1/", 502, [("Server", "nginx")])
    assert judge.judge(fetched, None, None) == ("unreachable", ["answered 502"])


def test_template_code_runs_only_from_a_release_or_the_default_branch(fleet, tmp_path):
    """A .cruft.json may name any commit the template's clone has, a side
    branch's among them: its security package, or its Jinja extension when
    rendered, would run in the fleet's process, by the workflows' token. Its
    live view is judged by the newest release; its row is one line. A commit
    of the default branch after the newest release was merged: it runs."""
    mark = tmp_path / "imported"
    copy = tmp_path / "template"
    run("git", "clone", "-q", str(fleet.releases.template), str(copy), cwd=tmp_path)
    git("checkout", "-q", "-b", "side", cwd=copy)
    leaving_a_mark = (
        f"\n__import__('pathlib').Path({str(mark)!r}).write_text('imported')\n"
    )
    for module in (copy / SECURITY / "policy.py", copy / "local_extensions.py"):
        module.write_text(module.read_text() + leaving_a_mark)
    # A section of its own: the tag fails only for being off the default branch.
    edit(copy / "CHANGELOG.md", "\n## ", "\n## 99.0.0\n\nNot released.\n\n## ")
    git("commit", "-qam", "Not released", cwd=copy)
    side = git("rev-parse", "HEAD", cwd=copy).stdout.strip()
    git("tag", "-a", "v99.0.0", "-m", "Not a release: off the default branch", cwd=copy)
    git("checkout", "-q", "-", cwd=copy)
    git("commit", "-q", "--allow-empty", "-m", "Merged, not released", cwd=copy)
    unreleased = git("rev-parse", "HEAD", cwd=copy).stdout.strip()
    # On the default branch, but its CHANGELOG's newest section is another's.
    git("tag", "-a", "v98.0.0", "-m", "Not a release: no section of its own", cwd=copy)
    template = Template.clone_from(str(copy), tmp_path / "t.git")
    assert template.commit_of(side) == side  # the clone has it
    assert template.merged(unreleased)
    assert not template.merged(side)
    assert template.latest == fleet.releases.tags[2]  # v98.0.0, v99.0.0 are none
    judge = Judge(template, Renderer(template.clone, tmp_path), Loader(tmp_path / "c"))
    clone = read_clone(fleet.services["settings"].work)
    clone.commit = side
    fetched = Fetched("https://127.0.0.1/", 200, [("Server", "nginx")])
    live, findings = judge.judge(fetched, clone, fleet.releases.tags[2])
    assert not mark.exists()
    assert live == "below-floor"
    assert "Content-Security-Policy missing" in findings
    assert findings[-1] == (
        f"its template commit {side[:12]} is not on the template's default branch: "
        "its code is not run; "
        f"judged by the floor of {fleet.releases.tags[2]} with its answers"
    )
    with pytest.raises(CodeError, match="is not on the default branch"):
        judge.code(side, clone.answers)
    row = inspect(Service("side", "unused"), clone, template, judge.renderer)
    assert row.error == (
        f"template commit {side[:12]} in .cruft.json is not on the default "
        f"branch of {template.location}, so its code is not run: move it to a "
        "release, "
        f"e.g. cruft update --checkout {fleet.releases.tags[2]}"
    )
    assert not mark.exists()


def test_a_ca_bundle_that_is_not_pem_is_one_line(tmp_path):
    (tmp_path / "ca.pem").write_text("not a certificate\n")
    fleet_file = tmp_path / "FLEET.toml"
    fleet_file.write_text(
        'template = "t"\nminimum = "v1.0.0"\nca_bundle = "ca.pem"\n'
        '[[service]]\nname = "a"\nrepo = "a"\nurl = "https://127.0.0.1/"\n'
    )
    with pytest.raises(FleetFileError) as raised:
        build_report(load(fleet_file))  # before anything is cloned or fetched
    assert str(raised.value).startswith(
        f"ca_bundle {tmp_path / 'ca.pem'} is not a PEM file of CAs: "
    )
    assert "\n" not in str(raised.value)
