"""Proof in a real browser: Debian's Chromium, driven by Playwright, obeys the headers.

Every server here is on 127.0.0.1 and stopped by its fixture; the browser too.
"""

import http.server
import json
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from testkit.bake import bake, bake_pythonpath
from testkit.browser import chromium
from testkit.servers import free_port, gunicorn

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PAGE_TEXT = "This service is running."
CSV = "col1,col2\r\nval1,val2\r\n"
# What a team adds to the home page: one inline script, by nonce.
NONCED_SCRIPT = (
    '<script nonce="{{ csp_nonce() }}">document.body.dataset.script = "ran";</script>\n'
)
# The policy opened for frames, as a team that frames its own pages opens it.
FRAMES_OPEN = {"FLASK_CSP_EXTEND": json.dumps({"frame-src": ["'self'"]})}
# A view that changes state, which every bake here gets, and a form that posts
# to it (on the service's own page, and on another origin's).
CHANGE_ROUTE = """

@bp.post("/change")
def change() -> str:
    current_app.logger.warning("the change view ran")
    return "changed"
"""
FORM = '<!doctype html><title>form</title><form method="post" action="{action}"><input name="n" value="1"><button>send</button></form>\n'
REFUSAL = "Forbidden: this request came from another origin."


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@dataclass
class Server:
    url: str
    log: Path | None = None

    def hits(self, request_line: str) -> int:
        """Requests the server logged, e.g. hits("GET /cache ")."""
        return self.log.read_text().count(f'"{request_line}')

    def violation(self, **fields: str) -> dict | None:
        """The first violation the receiver logged with these fields, waiting
        up to 10 s for it (report-uri posts come within a second)."""
        deadline = time.monotonic() + 10
        while True:
            for line in self.log.read_text().splitlines():
                if "WARNING in reports: " in line:
                    found = json.loads(line.split("WARNING in reports: ", 1)[1])
                    if all(found.get(k) == v for k, v in fields.items()):
                        return found
            if time.monotonic() > deadline:
                return None
            time.sleep(0.1)


def serve_baked(
    tmp_path_factory, *app: str, routes: str = "", env: dict | None = None, **answers
) -> Iterator[Server]:
    project = bake(tmp_path_factory.mktemp("browser"), **answers)
    # A page of the service's own that frames its front page.
    (project / "src/example_service/static/frame.html").write_text(
        '<!doctype html><title>framing</title><iframe src="/"></iframe>\n'
    )
    index = project / "src/example_service/templates/index.html"
    index.write_text(index.read_text().replace("</body>", NONCED_SCRIPT + "</body>"))
    (project / "src/example_service/static/form.html").write_text(
        FORM.format(action="/change")
    )
    routes_py = project / "src/example_service/routes.py"
    routes_py.write_text(routes_py.read_text() + CHANGE_ROUTE + routes)
    with gunicorn(
        Path(sys.executable),
        project,
        *app,
        workers=1,
        **bake_pythonpath(project),
        **(env or {}),
    ) as (_, port):
        yield Server(f"http://127.0.0.1:{port}", project / "gunicorn.log")


@pytest.fixture(scope="module")
def sameorigin(tmp_path_factory):
    """The default bake, as a team starts: frames closed (frame-src 'none')."""
    yield from serve_baked(tmp_path_factory, frame_policy="SAMEORIGIN")


@pytest.fixture(scope="module")
def frames_open(tmp_path_factory):
    """SAMEORIGIN, its frames opened to its own pages by CSP_EXTEND."""
    yield from serve_baked(tmp_path_factory, env=FRAMES_OPEN, frame_policy="SAMEORIGIN")


@pytest.fixture(scope="module")
def deny(tmp_path_factory):
    """DENY, with frames opened, so that frame-ancestors is what refuses them."""
    yield from serve_baked(tmp_path_factory, env=FRAMES_OPEN, frame_policy="DENY")


@pytest.fixture(scope="module")
def headers_off(tmp_path_factory):
    """The control: the same routes and pages with no security headers at all."""
    yield from serve_baked(tmp_path_factory, 'testkit.contenders:make("bare")')


class FramingPage(http.server.BaseHTTPRequestHandler):
    """Another origin's page that frames whatever ``?target=`` names; at /form,
    a form that posts there; at /reporting, an inline script that its own CSP
    blocks and reports to ``?target=``."""

    def do_GET(self):
        url = urlparse(self.path)
        targets = parse_qs(url.query).get("target")
        if not targets:  # the browser's own /favicon.ico
            self.send_error(404)
            return
        target = targets[0]
        body = (
            f'<!doctype html><title>attacker</title><iframe src="{target}"></iframe>\n'
        )
        self.send_response(200)
        if url.path == "/form":
            body = FORM.format(action=target)
        elif url.path == "/reporting":
            body = "<!doctype html><title>reporting</title><script>1</script>\n"
            policy = f"script-src 'none'; report-uri {target}"
            self.send_header("Content-Security-Policy", policy)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


def framing_site() -> Iterator[Server]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FramingPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def attacker():
    yield from framing_site()


@pytest.fixture(scope="module")
def partner():
    """Another origin, one that the service lets frame one view."""
    yield from framing_site()


@pytest.fixture(scope="module")
def with_partner_view(tmp_path_factory, partner):
    """A bake whose /partner view names the partner's origin in an override,
    and which trusts the partner's pages to post to it.

    The partner is served over plain HTTP here, below the floor (https origins
    only), so the service takes it as a named exception, as a team would."""
    routes = (
        "\n\nfrom .security import override\n\n\n"
        '@bp.get("/partner")\n'
        f'@override(frame_ancestors=["{partner.url}"])\n'
        "def partner() -> str:\n"
        '    return render_template("index.html")\n'
    )
    exceptions = {
        f"frame-ancestors {partner.url}": "browser test partner over HTTP",
        f"CSRF_TRUSTED_ORIGINS {partner.url}": "browser test partner over HTTP",
    }
    yield from serve_baked(
        tmp_path_factory,
        routes=routes,
        env={
            "FLASK_SECURITY_EXCEPTIONS": json.dumps(exceptions),
            "FLASK_CSRF_TRUSTED_ORIGINS": json.dumps([partner.url]),
        },
    )


@dataclass
class Framing:
    """What Chromium did with one framed URL."""

    framed: str
    answered: bool = False  # the server sent its response
    failure: str | None = None
    console: list[str] = field(default_factory=list)
    rendered: bool = False

    def saw_response(self, response) -> None:
        if response.url == self.framed and response.status == 200:
            self.answered = True

    def saw_failure(self, request) -> None:
        if request.url == self.framed:
            self.failure = request.failure

    @property
    def blocked_by_headers(self) -> bool:
        """Chromium's own report: the response arrived and the frame was refused for it."""
        return (
            self.answered
            and self.failure == "net::ERR_BLOCKED_BY_RESPONSE"
            and any(
                "X-Frame-Options" in m or "frame-ancestors" in m for m in self.console
            )
            and not self.rendered
        )


def frame(browser, page_url: str, framed: str) -> Framing:
    result = Framing(framed)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.on("console", lambda message: result.console.append(message.text))
        page.on("response", result.saw_response)
        page.on("requestfailed", result.saw_failure)
        page.goto(page_url, wait_until="load", timeout=15000)
        child = next(f for f in page.frames if f is not page.main_frame)
        if child.url == framed:
            result.rendered = PAGE_TEXT in child.inner_text("body", timeout=5000)
    finally:
        context.close()
    return result


@pytest.mark.parametrize("policy", ["sameorigin", "deny"])
def test_another_origin_cannot_frame_the_service(browser, attacker, policy, request):
    target = request.getfixturevalue(policy)
    outcome = frame(browser, f"{attacker.url}/?target={target.url}/", f"{target.url}/")
    assert outcome.blocked_by_headers, outcome


def test_control_without_headers_is_framed(browser, attacker, headers_off):
    outcome = frame(
        browser, f"{attacker.url}/?target={headers_off.url}/", f"{headers_off.url}/"
    )
    assert outcome.rendered, outcome
    assert not outcome.blocked_by_headers


def test_a_frame_whose_server_is_down_does_not_count_as_blocked(browser, attacker):
    dead = f"http://127.0.0.1:{free_port()}/"
    outcome = frame(browser, f"{attacker.url}/?target={dead}", dead)
    assert not outcome.answered
    assert outcome.failure == "net::ERR_CONNECTION_REFUSED"
    assert not outcome.blocked_by_headers
    assert not outcome.rendered


def test_sameorigin_lets_the_service_frame_itself(browser, frames_open):
    outcome = frame(
        browser, f"{frames_open.url}/static/frame.html", f"{frames_open.url}/"
    )
    assert outcome.rendered, outcome


def test_a_same_origin_frame_is_blocked_and_reported_until_frame_src_opens_it(
    browser, sameorigin, frames_open
):
    closed = frame(browser, f"{sameorigin.url}/static/frame.html", f"{sameorigin.url}/")
    assert not closed.answered  # refused before it was asked for
    assert not closed.rendered
    assert any(
        "Framing" in m and "default-src 'none'" in m and "has been blocked" in m
        for m in closed.console
    ), closed
    reported = sameorigin.violation(
        document=f"{sameorigin.url}/static/frame.html", directive="frame-src"
    )
    assert reported is not None, "the blocked frame was not reported"
    assert reported["blocked"] == f"{sameorigin.url}/"
    assert reported["disposition"] == "enforce"
    opened = frame(
        browser, f"{frames_open.url}/static/frame.html", f"{frames_open.url}/"
    )
    assert opened.answered, opened
    assert opened.rendered, opened
    assert opened.console == []


def test_deny_refuses_even_the_service_itself(browser, deny):
    outcome = frame(browser, f"{deny.url}/static/frame.html", f"{deny.url}/")
    assert outcome.blocked_by_headers, outcome


def test_download_is_saved_as_data_csv(browser, sameorigin):
    context = browser.new_context(accept_downloads=True)
    try:
        page = context.new_page()
        page.goto(f"{sameorigin.url}/")
        with page.expect_download(timeout=15000) as started:
            page.click("text=Download data.csv")
        download = started.value
        assert download.suggested_filename == "data.csv"
        assert Path(download.path()).read_bytes().decode() == CSV
    finally:
        context.close()


def settled_hits(server: Server, request_line: str, expected: int) -> int:
    """The server's count once its log has caught up (bounded wait)."""
    deadline = time.monotonic() + 5
    while server.hits(request_line) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # and nothing more arrives
    return server.hits(request_line)


def test_cache_is_reused_for_a_minute_and_no_store_never(browser, sameorigin):
    cache_before = sameorigin.hits("GET /cache ")
    page_before = sameorigin.hits("GET / ")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{sameorigin.url}/")
        page.evaluate(
            """async () => {
                for (const path of ["/cache", "/cache", "/", "/"]) {
                    await (await fetch(path)).text();
                    await new Promise((done) => setTimeout(done, 200));  // let the cache write land
                }
            }"""
        )
    finally:
        context.close()
    assert settled_hits(sameorigin, "GET /cache ", cache_before + 1) == cache_before + 1
    assert settled_hits(sameorigin, "GET / ", page_before + 3) == page_before + 3


def test_an_overridden_view_is_framed_by_its_partner_only(
    browser, partner, attacker, with_partner_view
):
    view = f"{with_partner_view.url}/partner"
    framed_by_partner = frame(browser, f"{partner.url}/?target={view}", view)
    assert framed_by_partner.rendered, framed_by_partner
    framed_by_attacker = frame(browser, f"{attacker.url}/?target={view}", view)
    assert framed_by_attacker.blocked_by_headers, framed_by_attacker
    front_page = f"{with_partner_view.url}/"
    assert frame(
        browser, f"{partner.url}/?target={front_page}", front_page
    ).blocked_by_headers


@dataclass
class Console:
    """Everything a page said in Chromium's console, and its failed loads."""

    messages: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    loaded: list[str] = field(default_factory=list)
    looked: object = None  # what ``look`` found on the page

    def saw_message(self, message) -> None:
        self.messages.append(f"{message.type}: {message.text}")

    def saw_failure(self, request) -> None:
        self.failed.append(f"{request.url} {request.failure}")

    def saw_response(self, response) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.url} {response.status}")
        else:
            self.loaded.append(response.url)

    def saw_log_entry(self, event) -> None:
        """Chromium's own log (DevTools), which names the URL of a failed load."""
        entry = event["entry"]
        self.messages.append(
            f"{entry['level']}: {entry['text']} {entry.get('url', '')}"
        )


# What the home page shows: the nonce'd script ran, style.css applied.
HOME_PAGE = """() => ({
    script: document.body.dataset.script,
    stylesheet: [...document.styleSheets].some(
        (sheet) => sheet.href.endsWith("/static/style.css") && sheet.cssRules.length > 0
    ),
    maxWidth: getComputedStyle(document.body).maxWidth,
})"""


def console_of(browser, url: str, look: str | None = None) -> Console:
    console = Console()
    context = browser.new_context()
    try:
        page = context.new_page()
        page.on("console", console.saw_message)
        page.on("pageerror", console.saw_message)
        page.on("requestfailed", console.saw_failure)
        page.on("response", console.saw_response)
        devtools = context.new_cdp_session(page)
        devtools.on("Log.entryAdded", console.saw_log_entry)
        devtools.send("Log.enable")
        page.goto(url, wait_until="load", timeout=15000)
        page.wait_for_timeout(500)  # late warnings (favicon, policy parsing)
        if look is not None:
            console.looked = page.evaluate(look)
    finally:
        context.close()
    return console


def test_the_home_page_renders_whole_and_logs_nothing_in_chromiums_console(
    browser, sameorigin
):
    """Under the deny-by-default policy: its stylesheet applies, its favicon
    loads, its nonce'd script runs, and Chromium has nothing to say."""
    console = console_of(browser, f"{sameorigin.url}/", look=HOME_PAGE)
    assert console.messages == []
    assert console.failed == []
    assert console.looked == {
        "script": "ran",
        "stylesheet": True,
        "maxWidth": "640px",  # 40rem, from style.css
    }
    assert {
        f"{sameorigin.url}/static/style.css",
        f"{sameorigin.url}/static/favicon.svg",
    } <= set(console.loaded)


class UnknownFeaturePage(http.server.BaseHTTPRequestHandler):
    """The control: a page whose Permissions-Policy names a feature Chromium
    does not know (as the OWASP list's web-share), with no favicon."""

    def do_GET(self):
        if self.path == "/favicon.ico":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Permissions-Policy", "camera=(), web-share=()")
        self.end_headers()
        self.wfile.write(b"<!doctype html><title>control</title><p>control</p>\n")

    def log_message(self, *args):
        pass


def test_control_the_console_check_sees_a_policy_warning(browser):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), UnknownFeaturePage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        console = console_of(browser, f"http://127.0.0.1:{server.server_address[1]}/")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert any("web-share" in message for message in console.messages), console
    assert any(
        "status of 404" in message and "/favicon.ico" in message
        for message in console.messages
    ), console


# Cross-site request forgery: refused from Sec-Fetch-Site, before the view.
@dataclass
class Posted:
    status: int
    text: str
    headers: dict[str, str]


def post_form(browser, page_url: str) -> Posted:
    """Submit the form on ``page_url``: what the browser got back."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(page_url, wait_until="load", timeout=15000)
        with page.expect_navigation(timeout=15000) as navigation:
            page.click("button")
        response = navigation.value
        return Posted(
            response.status, page.inner_text("body").strip(), response.headers
        )
    finally:
        context.close()


def views_run(server: Server) -> int:
    return server.log.read_text().count("the change view ran")


def test_another_origins_form_is_refused_before_the_view_runs(
    browser, attacker, sameorigin, headers_off
):
    port = urlparse(attacker.url).port
    for other_origin in (
        f"http://localhost:{port}",  # another site
        attacker.url,  # the same site on another port: another origin still
    ):
        before = views_run(sameorigin)
        posted = post_form(
            browser, f"{other_origin}/form?target={sameorigin.url}/change"
        )
        assert (posted.status, posted.text) == (403, REFUSAL), other_origin
        assert "content-security-policy" in posted.headers  # the baseline's
        assert views_run(sameorigin) == before, other_origin
    # The control: the same form against the same views without the baseline.
    before = views_run(headers_off)
    posted = post_form(
        browser, f"http://localhost:{port}/form?target={headers_off.url}/change"
    )
    assert (posted.status, posted.text) == (200, "changed")
    assert views_run(headers_off) == before + 1


def test_a_trusted_origins_form_is_taken_and_no_other(
    browser, partner, attacker, with_partner_view
):
    before = views_run(with_partner_view)
    target = f"?target={with_partner_view.url}/change"
    posted = post_form(browser, f"{partner.url}/form{target}")
    assert (posted.status, posted.text) == (200, "changed")
    posted = post_form(browser, f"{attacker.url}/form{target}")
    assert (posted.status, posted.text) == (403, REFUSAL)
    assert views_run(with_partner_view) == before + 1


def test_the_services_own_form_and_fetch_post_succeed(browser, sameorigin):
    before = views_run(sameorigin)
    posted = post_form(browser, f"{sameorigin.url}/static/form.html")
    assert (posted.status, posted.text) == (200, "changed")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{sameorigin.url}/", wait_until="load", timeout=15000)
        fetched = page.evaluate(
            """async () => {
                const response = await fetch("/change", {method: "POST", body: "n=2"});
                return [response.status, await response.text()];
            }"""
        )
    finally:
        context.close()
    assert fetched == [200, "changed"]
    assert views_run(sameorigin) == before + 2


def test_reports_from_another_origins_page_still_reach_the_receiver(
    browser, attacker, sameorigin
):
    """A report is a cross-site POST (the organisation's other pages may report
    here too): the receiver is past the rule."""
    page = f"http://localhost:{urlparse(attacker.url).port}/reporting?target={sameorigin.url}/_security/csp-report"
    context = browser.new_context()
    try:
        context.new_page().goto(page, wait_until="load", timeout=15000)
        reported = sameorigin.violation(document=page, directive="script-src-elem")
    finally:
        context.close()
    assert reported is not None, "the cross-site report did not reach the receiver"
    assert reported["blocked"] == "inline"
