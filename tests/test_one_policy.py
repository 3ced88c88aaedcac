"""One policy, several written-out copies: a change in one place alone fails,
naming every copy it left behind (CONTRIBUTING.md lists them)."""

from pathlib import Path

import pytest

from testkit.policy_copies import (
    BAKED_MANUAL,
    BENCH_CLAIMS,
    COPIES,
    EXPECTED,
    PINNED,
    sent_by_a_bake,
    stale_copies,
)
from testkit.template_copy import template_repository

BAKED = "{{cookiecutter.project_slug}}/"
POLICY = (
    "{{cookiecutter.project_slug}}/src/{{cookiecutter.package_name}}/security/policy.py"
)
# One worker bakes the template as it is, once, for every test here.
pytestmark = pytest.mark.xdist_group("one-policy")


@pytest.fixture(scope="module")
def as_it_is(tmp_path_factory):
    return sent_by_a_bake(tmp_path_factory.mktemp("as-it-is"))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


@pytest.mark.check
def test_every_copy_of_the_policy_agrees_with_what_is_sent(tmp_path, as_it_is):
    assert stale_copies(tmp_path, sent=as_it_is) == []


def test_a_header_added_to_the_code_alone_names_every_copy(tmp_path):
    template = template_repository(tmp_path / "template")
    edit(
        template / POLICY,
        '("X-DNS-Prefetch-Control", "off"),',
        '("X-DNS-Prefetch-Control", "off"),\n            ("Origin-Agent-Cluster", "?1"),',
    )
    stale = stale_copies(tmp_path / "out", template)
    for copy in COPIES:
        assert any(line.startswith(f"{copy}: ") for line in stale), (copy, stale)
    assert any("Origin-Agent-Cluster" in line for line in stale)


@pytest.mark.parametrize(
    ("copy", "old", "new"),
    [
        (
            EXPECTED,
            '"X-DNS-Prefetch-Control": "off",',
            '"X-DNS-Prefetch-Control": "on",',
        ),
        (
            PINNED,
            '"Referrer-Policy": "strict-origin',
            '"Referrer-Policy": "no-referrer',
        ),
        (BAKED_MANUAL, "| `nosniff` |", "| `sniff` |"),
        (BENCH_CLAIMS, '    "X-DNS-Prefetch-Control",\n', ""),
    ],
    ids=["expected", "pinned-test", "baked-manual", "bench-claims"],
)
def test_a_copy_changed_alone_is_named(tmp_path, as_it_is, copy, old, new):
    template = template_repository(tmp_path / "template")
    edit(template / copy, old, new)
    baked_as_it_is = None if copy.startswith(BAKED) else as_it_is
    stale = stale_copies(tmp_path / "out", template, baked_as_it_is)
    assert stale, "the change went unnoticed"
    assert all(line.startswith(f"{copy}: ") for line in stale), stale
