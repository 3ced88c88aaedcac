"""The live view's parts on their own: the fleet file's live settings,
config.py read as literals, the template's code loaded safely and at the right
release, and fetches bounded by their timeout and kept on the same host.

The whole, over real deployments: tests/test_fleet_live.py.
"""

import contextlib
import http.server
import socket
import threading
import time

import pytest

from fleet.fetch import Fetched, Fetches
from fleet.fleet_file import FleetFileError, load
from fleet.live import Judge
from fleet.releases import Template
from fleet.render import Renderer
from fleet.report import build_report
from fleet.service import read_clone
from fleet.template_code import CodeError, Loader, literal_settings
from testkit.commands import run

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


def test_a_server_that_trickles_is_cut_off_at_its_timeout():
    """The timeout holds for the whole answer, not for each byte of it."""
    sent = []
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        url = f"http://127.0.0.1:{listening.getsockname()[1]}/"

        def trickle():
            connection, _ = listening.accept()
            with connection, contextlib.suppress(OSError):
                connection.sendall(b"HTTP/1.1 200 OK\r\n")
                for _ in range(100):  # 10 s at most
                    connection.sendall(b"X-Slow: a\r\n")
                    sent.append(1)
                    time.sleep(0.1)

        thread = threading.Thread(target=trickle, daemon=True)
        thread.start()
        fetches = Fetches([url], None, timeout=0.5)
        try:
            fetched = fetches.result(url)
        finally:
            fetches.close()
        thread.join(15)
    assert fetched.error == "no answer within 0.5 s"
    assert len(sent) < 50  # cut off long before the server was done


def judge_of_a_middle_release(fleet, tmp_path, *, switches: bool):
    """A Judge whose middle release is rendered without security/live.py,
    and, unless ``switches``, with a floor that has no switched-off parts
    yet (as before Trusted Types and Integrity-Policy)."""
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


class Redirecting(http.server.BaseHTTPRequestHandler):
    """/old moves to /new on the same host, /away to another host name."""

    def do_GET(self):
        port = self.server.server_address[1]
        location = {"/old": "/new", "/away": f"http://localhost:{port}/new"}
        self.send_response(302 if self.path in location else 200)
        if self.path in location:
            self.send_header("Location", location[self.path])
        self.send_header("X-Page", self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_redirects_are_followed_on_the_same_host_only():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}
    )
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    fetches = Fetches([f"{base}/old", f"{base}/away"], None, timeout=5)
    try:
        moved, away = fetches.result(f"{base}/old"), fetches.result(f"{base}/away")
    finally:
        fetches.close()
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert (moved.url, moved.status, moved.error) == (f"{base}/new", 200, None)
    assert ("X-Page", "/new") in moved.headers
    assert away.error == (
        f"redirected to another host (http://localhost:{server.server_address[1]}/new): "
        "give the URL of a page it serves"
    )


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
