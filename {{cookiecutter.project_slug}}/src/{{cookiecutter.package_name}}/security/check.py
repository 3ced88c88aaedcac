"""``flask --app {{ cookiecutter.package_name }} security check URL...``: does the live deployment send what this service sends?

A proxy or CDN in front of the service can strip a header, add a second copy,
or, with the proxy hop not trusted, hide HTTPS from the app so that HSTS is
never sent. The tests cannot see any of that; this command asks the deployment.

The expected side is computed by the app itself: its test client asks for the
same path over https, with the settings of the environment the command runs
in, so settings, per-view overrides and a view's own headers are accounted
for. Run it with the deployment's settings (in its container, or with the same
``FLASK_*`` variables).

Which headers are compared: every header the app sends except those that
describe one particular response or its connection (``NOT_COMPARED``: dates,
lengths, validators, cookies, hop-by-hop headers). So a header added to the
baseline is checked at once, with no list here to keep up to date. A header
whose value the app itself changes from one request to the next (a request
id) is checked for presence only; a CSP nonce is matched as a pattern.

The live headers are also held against the floor (``live``: a CSP without a
directive the floor requires, a source it refuses that SECURITY_EXCEPTIONS does
not register, HSTS shorter than baked, ...), the same judgement the platform
team's fleet report makes of the same deployment. The fleet fetches it the
same way too (``fetch``: one GET, redirects on the same origin only, the
system's CAs and ``--cafile``'s).
"""

import json
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from .compare import NONCE, Expected, Problem, by_name, verdict
from .fetch import Unreachable, failed, get, not_a_page, request_target, tls_context
from .floor import read_exceptions
from .live import assess

TIMEOUT_SECONDS = 10.0
USER_AGENT = "{{ cookiecutter.project_slug }}-security-check"

# Headers that describe one response or its transport, not the policy.
NOT_COMPARED = frozenset(
    {
        # this body's representation
        "content-type",
        "content-length",
        "content-encoding",
        "content-language",
        "content-range",
        "content-disposition",
        "accept-ranges",
        # this response's validators and age; Vary is a proxy's to extend (gzip)
        "date",
        "etag",
        "last-modified",
        "expires",
        "age",
        "vary",
        # per client or per request
        "set-cookie",
        "location",
        "retry-after",
        "allow",
        # the connection, not the response (hop-by-hop)
        "connection",
        "keep-alive",
        "transfer-encoding",
        "upgrade",
        "trailer",
        # who answered: checked for disclosure instead
        "server",
        "x-powered-by",
    }
)


@dataclass
class Result:
    url: str
    status: int | None = None
    compared: int = 0
    problems: list[Problem] = field(default_factory=list)
    error: str | None = None

    @property
    def outcome(self) -> str:
        if self.error is not None:
            return "error"
        return "mismatch" if self.problems else "ok"

    def line(self) -> str:
        """One line for people, whatever the URL or the server sent."""
        if self.error is not None:
            text = f"ERROR {self.url}: {self.error}"
        elif self.problems:
            found = "; ".join(problem.describe() for problem in self.problems)
            text = f"MISMATCH {self.url} ({self.status}): {found}"
        else:
            text = f"OK {self.url} ({self.status}): {self.compared} headers as the service sends them"
        return printable(text)

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "result": self.outcome,
            # as the fleet report's live column: ok, differs or below-floor
            "live": None if self.error is not None else verdict(self.problems),
            "status": self.status,
            "error": self.error,
            "compared": self.compared,
            "problems": [problem.as_dict() for problem in self.problems],
        }


def printable(text: str) -> str:
    """Control characters (a newline in a URL or header) shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def app_headers(app: Flask, url: str) -> list[tuple[str, str]]:
    """What the app sends for the URL's path over https, asked through its test client."""
    parts = urlsplit(url)
    base_url = "https://" + parts.netloc.rpartition("@")[2]
    with app.test_client().get(request_target(parts), base_url=base_url) as response:
        return list(response.headers.items())


def expected_headers(app: Flask, url: str) -> list[Expected]:
    """The headers to compare, from two answers of the app to the same request."""
    first, second = by_name(app_headers(app, url)), by_name(app_headers(app, url))
    expected = []
    for lowered, (name, values) in first.items():
        if lowered in NOT_COMPARED:
            continue
        again = second.get(lowered, (name, []))[1]
        steady = [NONCE.sub("'nonce-'", v) for v in values] == [
            NONCE.sub("'nonce-'", v) for v in again
        ]
        expected.append(Expected(name, tuple(values), exact=steady))
    return expected


def check_url(
    app: Flask,
    url: str,
    context: ssl.SSLContext | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> Result:
    parts = urlsplit(url)
    if parts.scheme.lower() == "http":
        # What browsers get is what is sent over https: plain http only redirects.
        https = urlunsplit(parts._replace(scheme="https"))
        return Result(url, error=f"check the https:// URL instead: {https}")
    try:
        answer = get(url, context, timeout, USER_AGENT)
    except Unreachable as error:
        return Result(url, error=str(error))
    why = failed(answer.status)
    if why is not None:  # a proxy's 502 carries none of the service's headers
        return Result(url, answer.status, error=why)
    try:
        expected = expected_headers(app, answer.url)  # where it was redirected to
    except Exception as error:  # a finding about the app, not a crash of the check
        return Result(
            url, answer.status, error=f"the service itself failed on it: {error!r}"
        )
    exceptions = read_exceptions(app.config)
    odd = not_a_page(answer.status)
    problems = [Problem("Status", "status", detail=odd)] if odd else []
    problems += assess(expected, answer.headers, exceptions)
    return Result(url, answer.status, len(expected), problems)


def exit_code(results: Iterable[Result]) -> int:
    """2 when any URL could not be checked, else 1 on any mismatch, else 0."""
    outcomes = {result.outcome for result in results}
    if "error" in outcomes:
        return 2
    return 1 if "mismatch" in outcomes else 0


@click.command("check")
@click.argument("urls", metavar="URL...", nargs=-1, required=True)
@click.option(
    "--cafile",
    type=click.Path(dir_okay=False),
    help="PEM file of CAs to trust besides the system's store (a private CA).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead.")
@with_appcontext
def check(urls: tuple[str, ...], cafile: str | None, as_json: bool) -> None:
    """Compare the security headers each URL sends with this service's own.

    One GET per URL (redirects followed on the same origin only, 10 s in
    all); the expected headers are what this app sends for the final path over
    https, with the settings of this environment: run it with the deployment's
    settings. An answer 5xx is an error; another that is neither a page nor a
    redirect (404) a mismatch. Exit 0 when all match,
    1 on any mismatch, 2 when any URL could not be checked (an http:// one
    is not: check its https:// URL).
    """
    # Read once, and only when needed: loading the system's store takes a while.
    needs_tls = cafile is not None or any(
        urlsplit(url).scheme == "https" for url in urls
    )
    try:
        context = tls_context(cafile) if needs_tls else None
    except OSError as error:
        click.echo(printable(f"ERROR --cafile {cafile}: {error}"), err=True)
        raise click.exceptions.Exit(2) from None
    results = [check_url(current_app, url, context) for url in urls]
    if as_json:
        click.echo(json.dumps([result.as_dict() for result in results], indent=2))
    else:
        for result in results:
            click.echo(result.line())
    raise click.exceptions.Exit(exit_code(results))
