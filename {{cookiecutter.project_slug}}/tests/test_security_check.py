"""``flask security check``: a deployment's live headers against the service's own.

The deployments here are a small stdlib server on 127.0.0.1 that answers,
over TLS with a certificate of a throwaway CA (trustme) that the check is made
to trust, with whatever headers a test gives it: the app's own, or the app's
after a "proxy" stripped, repeated or added one.
"""

import http.server
import json
import socket
import ssl
import threading
import uuid

import pytest
import trustme
from flask import make_response

from {{ cookiecutter.package_name }}.security.check import (
    Result,
    exit_code,
    expected_headers,
)
from {{ cookiecutter.package_name }}.security.compare import Expected, Problem, compare
from {{ cookiecutter.package_name }}.security.fetch import Unreachable, get, redirected


class ReplayServer(http.server.ThreadingHTTPServer):
    answers: dict[str, tuple[int, list[tuple[str, str]]]]


class Replay(http.server.BaseHTTPRequestHandler):
    """Answers every GET with the server's ``answers[path]``: (status, headers)."""

    server: ReplayServer

    def do_GET(self):
        status, headers = self.server.answers[self.path]
        self.send_response_only(status)  # no Server header of its own
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A CA and a certificate for 127.0.0.1: (server's context, CA's PEM file)."""
    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    cafile = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    return context, cafile


@pytest.fixture
def deployment(certificate, monkeypatch):
    context, cafile = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cafile))  # the CA the check trusts
    server = ReplayServer(("127.0.0.1", 0), Replay)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.answers = {}
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def url(server, path="/"):
    return f"https://127.0.0.1:{server.server_address[1]}{path}"


def own_headers(app, server, path="/"):
    """What the app sends for ``path`` over https, as a deployment would replay it."""
    with app.test_client().get(
        path, base_url=f"https://127.0.0.1:{server.server_address[1]}"
    ) as response:
        return list(response.headers.items())


def run_check(app, *args):
    return app.test_cli_runner().invoke(args=["security", "check", *args])


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_deployment_sending_the_services_headers_passes(app, deployment):
    for path in ("/", "/cache", "/download"):
        deployment.answers[path] = (200, own_headers(app, deployment, path))
    result = run_check(
        app,
        url(deployment, "/"),
        url(deployment, "/cache"),
        url(deployment, "/download"),
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 3
    assert all(line.startswith("OK ") for line in lines), lines


def test_a_header_stripped_by_a_proxy_is_named(app, deployment):
    deployment.answers["/"] = (
        200,
        [
            (name, value)
            for name, value in own_headers(app, deployment)
            if name != "Content-Security-Policy"
        ],
    )
    result = run_check(app, url(deployment))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"MISMATCH {url(deployment)} (200): Content-Security-Policy missing"
    ]


def test_a_second_copy_added_by_a_proxy_is_named(app, deployment):
    headers = own_headers(app, deployment)
    deployment.answers["/"] = (200, [*headers, ("X-Frame-Options", "DENY")])
    result = run_check(app, url(deployment))
    assert result.exit_code == 1
    assert "X-Frame-Options sent 2 times" in result.output


def test_a_different_value_is_named_with_both_values(app, deployment):
    headers = own_headers(app, deployment)
    deployment.answers["/"] = (
        200,
        [
            (name, "no-referrer" if name == "Referrer-Policy" else value)
            for name, value in headers
        ],
    )
    result = run_check(app, url(deployment))
    assert result.exit_code == 1
    assert (
        "Referrer-Policy is 'no-referrer', the service sends "
        "'strict-origin-when-cross-origin'" in result.output
    )


def test_a_views_own_cache_control_is_what_is_expected(app, deployment):
    # /cache says public; a proxy that forces the baseline's no-store is wrong too.
    headers = own_headers(app, deployment, "/")
    deployment.answers["/cache"] = (200, headers)
    result = run_check(app, url(deployment, "/cache"))
    assert result.exit_code == 1
    assert "Cache-Control is 'no-store, max-age=0'" in result.output
    assert "'public, max-age=60'" in result.output


def test_server_software_and_version_are_reported(app, deployment):
    headers = own_headers(app, deployment)
    deployment.answers["/"] = (
        200,
        [*headers, ("Server", "nginx/1.25.3"), ("X-Powered-By", "Express")],
    )
    result = run_check(app, url(deployment))
    assert result.exit_code == 1
    assert "Server 'nginx/1.25.3' discloses" in result.output
    assert "X-Powered-By 'Express' discloses" in result.output
    assert (
        compare(expected_headers(app, url(deployment)), [*headers, ("Server", "nginx")])
        == []
    )


def test_json_reports_each_url(app, deployment):
    deployment.answers["/"] = (200, [])
    result = run_check(app, "--json", url(deployment), url(deployment, "/none"))
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert [entry["result"] for entry in report] == ["mismatch", "error"]
    missing = {p["header"] for p in report[0]["problems"] if p["problem"] == "missing"}
    assert {
        "Content-Security-Policy",
        "X-Content-Type-Options",
        "Cache-Control",
    } <= missing
    assert report[1]["status"] is None
    assert report[1]["error"]


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        pytest.param("closed", "connection refused", id="refused"),
        pytest.param(
            "ftp://127.0.0.1/", "not an http:// or https:// URL", id="not-http"
        ),
        pytest.param("https://127.0.0.1:99999/", "bad URL", id="bad-port"),
        pytest.param("https:///path", "not an http:// or https:// URL", id="no-host"),
        pytest.param("https://no-such-host.invalid/", "cannot resolve", id="dns"),
    ],
)
def test_a_url_that_cannot_be_checked_exits_2_in_one_line(app, address, reason):
    if address == "closed":
        address = f"https://127.0.0.1:{closed_port()}/"
    result = run_check(app, address)
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        result.output.strip()
    ]  # one line, no traceback
    assert result.output.startswith(f"ERROR {address}: {reason}")


def test_one_unreachable_url_wins_over_mismatches(app, deployment):
    deployment.answers["/"] = (200, [])
    result = run_check(app, url(deployment), f"https://127.0.0.1:{closed_port()}/")
    assert result.exit_code == 2
    assert [line.split()[0] for line in result.output.splitlines()] == [
        "MISMATCH",
        "ERROR",
    ]


def test_an_http_url_is_refused_in_one_line_naming_the_https_one(app, deployment):
    plain = url(deployment).replace("https://", "http://")
    deployment.answers["/"] = (200, own_headers(app, deployment))
    result = run_check(app, plain + "page?q=1", url(deployment, "/"))
    assert result.exit_code == 2
    refused, checked = result.output.splitlines()
    assert refused == (
        f"ERROR {plain}page?q=1: check the https:// URL instead: "
        f"{url(deployment)}page?q=1"
    )
    assert checked.startswith(f"OK {url(deployment)} (200): ")


def test_a_server_that_never_answers_times_out():
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()  # connections complete in the kernel; nothing answers
        silent = f"http://127.0.0.1:{listening.getsockname()[1]}/"
        with pytest.raises(Unreachable, match=r"^no answer within 0\.1 s$"):
            get(silent, timeout=0.1)


def test_redirects_are_followed_on_the_same_origin_only(deployment):
    """Same scheme, host and port: another port is another server's headers."""
    port = deployment.server_address[1]
    deployment.answers["/old"] = (302, [("Location", "/new")])
    deployment.answers["/new"] = (200, [("X-Page", "new")])
    deployment.answers["/host"] = (302, [("Location", f"https://localhost:{port}/")])
    deployment.answers["/port"] = (
        301,
        [("Location", f"https://127.0.0.1:{closed_port()}/")],
    )
    deployment.answers["/down"] = (307, [("Location", f"http://127.0.0.1:{port}/new")])
    assert get(url(deployment, "/old"))[:2] == (url(deployment, "/new"), 200)
    for path, to in [
        ("/host", "to another origin"),
        ("/port", "to another origin"),
        ("/down", "from https to"),
    ]:
        with pytest.raises(Unreachable, match=f"^redirected {to}"):
            get(url(deployment, path))


@pytest.mark.parametrize(
    ("start", "location", "followed"),
    [
        ("http://example.com/", "https://example.com/", True),
        ("http://example.com:80/a", "https://EXAMPLE.com:443/a", True),
        ("http://example.com:8080/", "https://example.com/", False),
        ("http://example.com/", "https://example.com:8443/", False),
        ("http://example.com/", "https://www.example.com/", False),
        ("http://example.com", "https://example.com/", True),
    ],
)
def test_http_goes_up_to_https_on_the_same_host_only(start, location, followed):
    """The first answer of a site that is HTTPS only; no other step between origins."""
    if followed:
        assert redirected(start, location) == location
    else:
        with pytest.raises(Unreachable, match=r"^redirected to another origin"):
            redirected(start, location)


@pytest.mark.parametrize(
    ("start", "location"),
    [
        ("http://example.com/a", "https://example.com/b"),
        ("http://example.com/a?x=1", "https://example.com/a?x=2"),
        ("http://example.com/a", "https://example.com/a/"),
    ],
)
def test_up_to_https_at_another_path_names_the_url_to_give(start, location):
    with pytest.raises(Unreachable) as raised:
        redirected(start, location)
    assert str(raised.value) == (
        f"redirected up to https at another path ({location}): give that URL"
    )


def test_a_redirected_url_is_compared_with_where_it_leads(app, deployment):
    deployment.answers["/old"] = (302, [("Location", "/cache")])
    deployment.answers["/cache"] = (200, own_headers(app, deployment, "/cache"))
    result = run_check(app, url(deployment, "/old"))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"OK {url(deployment, '/old')} (200): ")


def test_a_5xx_is_an_error_and_another_status_a_mismatch(app, deployment):
    """A proxy's 502 carries none of the service's headers: not a floor to judge."""
    deployment.answers["/"] = (502, [("Server", "nginx")])
    deployment.answers["/gone"] = (404, own_headers(app, deployment, "/gone"))
    result = run_check(app, url(deployment), url(deployment, "/gone"))
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"ERROR {url(deployment)}: answered 502",
        f"MISMATCH {url(deployment, '/gone')} (404): answered 404",
    ]


def test_cafile_adds_to_the_system_store(app, deployment, tmp_path):
    """The deployment's CA is the "system" one here (SSL_CERT_FILE): another
    --cafile trusts its CAs besides, never instead."""
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    deployment.answers["/"] = (200, own_headers(app, deployment))
    result = run_check(app, "--cafile", str(other), url(deployment))
    assert result.exit_code == 0, result.output


def test_repeated_headers_are_kept_as_sent(deployment):
    deployment.answers["/"] = (
        200,
        [("X-Frame-Options", "DENY"), ("X-Frame-Options", "DENY")],
    )
    headers = get(url(deployment)).headers
    assert [v for k, v in headers if k == "X-Frame-Options"] == ["DENY", "DENY"]


def test_an_unreadable_cafile_is_one_line(app, tmp_path):
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate\n")
    result = run_check(app, "--cafile", str(not_pem), "https://127.0.0.1/")
    assert result.exit_code == 2
    assert len(result.output.splitlines()) == 1
    assert result.output.startswith(f"ERROR --cafile {not_pem}")


def test_expected_headers_are_the_apps_own_over_https(app):
    names = {header.name for header in expected_headers(app, "https://example.com/")}
    assert {"Content-Security-Policy", "X-Frame-Options", "Cache-Control"} <= names
    assert ("Strict-Transport-Security" in names) == app.config["HSTS"]
    assert not names & {"Date", "Content-Length", "Content-Type", "Server"}


def test_a_views_own_headers_are_expected_and_a_nonce_is_a_pattern(app):
    @app.get("/scripted")
    def scripted():
        response = make_response("scripted")
        nonce = uuid.uuid4().hex
        response.headers["Content-Security-Policy"] = f"script-src 'nonce-{nonce}'"
        response.headers["X-Request-Id"] = str(uuid.uuid4())
        return response

    expected = {
        h.name: h for h in expected_headers(app, "https://example.com/scripted")
    }
    policy = expected["Content-Security-Policy"]
    assert policy.exact
    assert policy.matches(["script-src 'nonce-Zm9vYmFy+/='"])
    assert not policy.matches(["script-src 'unsafe-inline'"])
    assert not policy.matches(["script-src 'nonce-'"])
    assert not policy.matches(["script-src 'nonce-abc' 'unsafe-inline'"])
    request_id = expected["X-Request-Id"]
    assert not request_id.exact  # varies per request: present is enough
    assert request_id.matches(["anything"])
    assert compare([request_id], []) == [
        Problem("X-Request-Id", "missing", request_id.values)
    ]


def test_compare_finds_each_kind_of_problem():
    expected = [
        Expected("X-Frame-Options", ("DENY",)),
        Expected("Referrer-Policy", ("no-referrer",)),
        Expected("Permissions-Policy", ("camera=()",)),
    ]
    sent = [
        ("x-frame-options", "DENY"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "unsafe-url"),
        ("Server", "Apache/2.4.62 (Debian)"),
    ]
    assert [(p.header, p.kind) for p in compare(expected, sent)] == [
        ("X-Frame-Options", "repeated"),
        ("Referrer-Policy", "different"),
        ("Permissions-Policy", "missing"),
        ("Server", "disclosing"),
    ]


def test_exit_code_error_over_mismatch_over_ok():
    ok = Result("u", 200, 3)
    mismatch = Result("u", 200, 3, [Problem("X", "missing")])
    error = Result("u", error="connection refused")
    assert exit_code([ok]) == 0
    assert exit_code([ok, mismatch]) == 1
    assert exit_code([mismatch, error, ok]) == 2


def test_a_line_stays_one_line_whatever_it_reports():
    result = Result("http://x/\nInjected", error="bad\r\nthing")
    assert "\n" not in result.line()
    assert result.line() == "ERROR http://x/\\nInjected: bad\\r\\nthing"
