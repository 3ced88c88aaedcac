"""The nginx the service ships limits the violation-report receiver, and only it.

The same set-up as test_proxy.py (its helpers and fixtures): Debian's nginx
with the bake's deploy/nginx.conf, its marked lines pointed at one gunicorn
replica on 127.0.0.1. A second client address is 127.0.0.2 (all of 127/8 is
loopback on Linux).
"""

import json
import ssl
import time

import pytest

from testkit.servers import get, post
from tests import test_proxy
from tests.test_proxy import nginx, replica

# test_proxy.py's fixtures, here by name: nginx (or a skip), a bake, trustme's TLS.
nginx_binary = test_proxy.nginx_binary
project = test_proxy.project
tls = test_proxy.tls

pytestmark = pytest.mark.xdist_group("proxy")

RECEIVER = "/_security/csp-report"
REPORT = json.dumps(
    {
        "csp-report": {
            "document-uri": "https://example-service.example.com/",
            "effective-directive": "script-src-elem",
            "blocked-uri": "inline",
            "disposition": "enforce",
        }
    }
)
RATE, BURST = 10, 20  # per second, and at once: deploy/nginx.conf's limit_req
FLOOD = 60


def post_report(port: int, context: ssl.SSLContext, client: str = "127.0.0.1") -> int:
    """One report POSTed from the address ``client``: the status."""
    return post(port, RECEIVER, REPORT, "application/csp-report", context, client)


def test_one_client_flooding_the_receiver_gets_429_others_and_pages_do_not(
    project, tls, tmp_path
):
    with (
        replica(project, tmp_path, hops=1) as app,
        nginx(tmp_path / "nginx", project, [app.port, app.port], tls) as proxy,
    ):
        context = tls.context()
        started = time.monotonic()
        flood = [post_report(proxy.https_port, context) for _ in range(FLOOD)]
        seconds = time.monotonic() - started
        other_client = post_report(proxy.https_port, context, client="127.0.0.2")
        pages = [
            get(proxy.https_port, path, tls=context)[0]
            for path in ["/", "/healthz"] * FLOOD
        ]
        time.sleep(0.5)  # gunicorn's access log, written as each request ends
        reached_app = app.log.read_text().count(f'"POST {RECEIVER} ')
    passed = flood.count(204)
    assert set(flood) == {204, 429}, flood
    assert flood[: BURST + 1] == [204] * (BURST + 1)  # a burst is let through
    assert passed <= BURST + 1 + RATE * seconds + 1, (passed, seconds)
    assert other_client == 204  # the limit is per client address
    assert set(pages) == {200}  # the rest of the service is not limited
    assert reached_app == passed + 1  # 429 is nginx's own: the app never saw those
