"""Which written-out copies of the policy disagree with what a bake sends.

The policy is written out in several places on purpose: a pin that computed
its values from the code it pins would follow any mistake. So a change made
in one place alone must fail, naming each copy left behind. The truth is what
the baked service sends; each copy is read the way a person reads it.
"""

import ast
import re
import runpy
from dataclasses import dataclass
from pathlib import Path

from testkit import TEMPLATE
from testkit.bake import bake, live_headers
from testkit.commands import python

EXPECTED = "tests/expected.py"
PINNED = "{{cookiecutter.project_slug}}/tests/test_security_headers.py"
BAKED_MANUAL = "{{cookiecutter.project_slug}}/docs/baseline.md"
BENCH_CLAIMS = "benchmarks/bench.py"
COPIES = (EXPECTED, PINNED, BAKED_MANUAL, BENCH_CLAIMS)

# What describes one response rather than the policy.
PER_RESPONSE = {
    "content-type",
    "content-length",
    "content-disposition",
    "accept-ranges",
    "date",
    "etag",
    "last-modified",
    "location",
    "allow",
    "vary",
    "set-cookie",
}
CODE = re.compile(r"`([^`]*)`")


def policy_headers(headers: list[list[str]]) -> dict[str, str]:
    return {name: value for name, value in headers if name.lower() not in PER_RESPONSE}


def disagreement(copy: str, lists: set[str], sent: set[str]) -> list[str]:
    found = []
    if sent - lists:
        found.append(f"{copy}: does not list {sorted(sent - lists)}, which are sent")
    if lists - sent:
        found.append(f"{copy}: lists {sorted(lists - sent)}, which are not sent")
    return found


def check_expected(template: Path, https: dict[str, str]) -> list[str]:
    """The template's own table of expected headers (defaults: SAMEORIGIN, HSTS on)."""
    expected = runpy.run_path(str(template / EXPECTED))
    same = {**expected["SAME_FOR_EVERY_ANSWER"], **expected["HTTPS_ONLY"]}
    listed = {*same, "X-Frame-Options", "Content-Security-Policy"}
    listed |= {"Strict-Transport-Security", "Cache-Control", "Integrity-Policy"}
    found = disagreement(EXPECTED, listed, set(https))
    wanted = {
        **same,
        "Content-Security-Policy": expected["CSP_SELF"] + expected["OVER_HTTPS"],
        "Integrity-Policy": expected["INTEGRITY_POLICY"]
        + expected["INTEGRITY_POLICY_OVER_HTTPS"],
    }
    for name, value in wanted.items():
        if name in https and https[name] != value:
            found.append(
                f"{EXPECTED}: {name} is {value!r}, but {https[name]!r} is sent"
            )
    return found


def check_pinned(project: Path) -> list[str]:
    """The baked pin, run as its team runs it."""
    result = python(
        "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", "-k",
        "baseline_exactly", cwd=project, check=False,
    )  # fmt: skip
    if result.returncode == 0:
        return []
    failure = next(
        (line for line in result.stdout.splitlines() if line.startswith("E  ")),
        result.stdout.strip().splitlines()[-1:],
    )
    return [f"{PINNED}: its pinned values disagree: {str(failure).strip()}"]


def manual_table(project: Path) -> dict[str, str]:
    """The baked manual's header table: header -> its value cell."""
    text = (project / "docs/baseline.md").read_text()
    table = text.split("| header | value | why |", 1)[1].split("\n\n", 1)[0]
    rows = [line.split("|") for line in table.splitlines()[2:]]
    return {cells[1].strip(): cells[2].strip() for cells in rows if len(cells) > 3}


def check_manual(
    project: Path, https: dict[str, str], http: dict[str, str]
) -> list[str]:
    table = manual_table(project)
    listed = {name for name, value in table.items() if "never sent" not in value}
    found = disagreement(BAKED_MANUAL, listed, set(https))
    for name, cell in table.items():
        shown = CODE.findall(cell)
        if not shown or name not in https:
            continue
        sent = {https[name], http.get(name, "")}
        parts = [p for p in re.split(r",\s*|\s*\.\.\.\s*", shown[0]) if p]
        if "..." in shown[0]:
            fits = all(part in https[name].split(", ") for part in parts)
        else:
            fits = shown[0] in sent
        if not fits:
            found.append(
                f"{BAKED_MANUAL}: shows {name} as {shown[0]!r}, but {https[name]!r} is sent"
            )
    return found


def check_bench(template: Path, https: dict[str, str]) -> list[str]:
    tree = ast.parse((template / BENCH_CLAIMS).read_text())
    claims = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(getattr(t, "id", None) == "BASELINE" for t in node.targets)
    )
    return disagreement(BENCH_CLAIMS, set(claims), set(https))


@dataclass
class Sent:
    """What a bake of a template sends, and what its baked copies get wrong about it."""

    https: dict[str, str]
    http: dict[str, str]
    baked_copies: list[str]  # the pin's and the manual's disagreements


def sent_by_a_bake(workdir: Path, template: Path = TEMPLATE) -> Sent:
    """The default bake of ``template``, served, and its pin run."""
    project = bake(workdir, template=template)
    report = live_headers(project, "example_service")
    https = policy_headers(report["https /"]["headers"])
    http = policy_headers(report["http /"]["headers"])
    return Sent(
        https, http, [*check_pinned(project), *check_manual(project, https, http)]
    )


def stale_copies(
    workdir: Path, template: Path = TEMPLATE, sent: Sent | None = None
) -> list[str]:
    """One line per copy of the policy that disagrees with the default bake.

    ``sent`` is that bake's, when already known: a change outside the baked
    project (the template's own tests, the benchmark) leaves the bake as it was.
    """
    sent = sent or sent_by_a_bake(workdir, template)
    return [
        *check_expected(template, sent.https),
        *sent.baked_copies,
        *check_bench(template, sent.https),
    ]
