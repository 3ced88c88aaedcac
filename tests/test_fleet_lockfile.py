"""An update branch's uv.lock, when it is made again and from what: the
release's pins and the team's own entries, every entry of uv's lock file kept."""

import tomllib

import pytest

from fleet.lock import (
    INDEX,
    needs_lock,
    starting_lock,
)
from fleet.lockfile import LockfileError, read, written

HEADER = b'version = 1\nrevision = 5\nrequires-python = ">=3.11"'
PYPI = f'{{ registry = "{INDEX}" }}'


def lock(*entries: tuple[str, str] | tuple[str, str, str]) -> bytes:
    """A lock of (name, version[, source]) entries, from PyPI unless said."""
    blocks = [
        f'[[package]]\nname = "{name}"\nversion = "{version}"\nsource = {source[0] if source else PYPI}'
        for name, version, *source in entries
    ]
    return b"\n\n".join([HEADER, *(block.encode() for block in blocks)]) + b"\n"


OLD = {"pyproject.toml": b"old", "uv.lock": b"old lock"}
NEW = {"pyproject.toml": b"new", "uv.lock": b"new lock"}


@pytest.mark.parametrize(
    ("base", "merged", "conflicts", "wanted"),
    [
        (OLD, NEW, [], False),  # the release's own pair: the template's tests hold it
        (OLD, {**NEW, "pyproject.toml": b"new, and ours"}, [], True),
        (OLD, {**NEW, "uv.lock": b"merged"}, ["uv.lock"], True),
        ({"pyproject.toml": b"old"}, {**NEW, "pyproject.toml": b"ours"}, [], True),  # before uv
        (OLD, {**NEW, "pyproject.toml": b"<<<<<<<"}, ["pyproject.toml"], False),
        (NEW, {**NEW, "pyproject.toml": b"ours"}, [], False),  # the release kept the lock
    ],
    ids=[
        "as-released", "own-dependency", "lock-conflict", "before-uv",
        "pyproject-conflict", "lock-unchanged",
    ],
)  # fmt: skip
def test_when_the_branch_locks_again(base, merged, conflicts, wanted):
    assert needs_lock(base, NEW, merged, conflicts) is wanted


def test_a_release_without_a_lock_never_locks():
    assert not needs_lock({}, {"pyproject.toml": b"x"}, {"pyproject.toml": b"y"}, [])


def test_locking_starts_from_the_releases_pins_and_the_teams_own_packages():
    ours = lock(("flask", "3.1.2"), ("requests", "2.32.5"), ("service", "0.1.0"))
    theirs = lock(("flask", "3.1.3"), ("service", "0.1.0"), ("werkzeug", "3.1.9"))
    start = starting_lock(ours, theirs).decode()
    assert start.startswith(HEADER.decode() + "\n\n[[package]]\n")
    assert 'name = "flask"\nversion = "3.1.3"' in start
    assert "3.1.2" not in start
    assert 'name = "requests"\nversion = "2.32.5"' in start
    assert start.count('name = "service"') == 1
    assert starting_lock(None, theirs) == theirs
    assert starting_lock(b"\xff not text", theirs) == theirs
    assert starting_lock(b"[[package]\n", theirs) == theirs


def test_every_entry_of_a_forked_package_is_carried_and_only_from_the_index():
    """uv locks two versions of one name when the resolution forks on markers:
    both of the team's are carried, and both of the release's kept, while an
    entry from a git repository or a folder is left for uv to drop."""
    ours = lock(
        ("numpy", "2.2.6"),
        ("numpy", "2.3.5"),
        ("private", "1.0", '{ git = "https://git.example.com/private?rev=main#abc" }'),
        ("sibling", "0.1.0", '{ directory = "../sibling" }'),
    )
    theirs = lock(("flask", "3.1.3"), ("werkzeug", "3.1.8"), ("werkzeug", "3.1.9"))
    _, entries = read(starting_lock(ours, theirs).decode())
    assert [entry.key[:2] for entry in entries] == [
        ("flask", "3.1.3"),
        ("werkzeug", "3.1.8"),
        ("werkzeug", "3.1.9"),
        ("numpy", "2.2.6"),
        ("numpy", "2.3.5"),
    ]


def test_a_lock_is_taken_apart_by_toml_and_put_back_as_uv_wrote_it():
    text = lock(
        ("numpy", "2.2.6"),
        ("numpy", "2.2.6", '{ registry = "https://mirror.example.com/simple" }'),
    ).decode()
    header, entries = read(text)
    assert header == HEADER.decode()
    assert (
        len({entry.key for entry in entries}) == 2
    )  # one name, one version, two sources
    assert written(header, entries) == text
    assert [entry.source for entry in entries] == [
        package["source"] for package in tomllib.loads(text)["package"]
    ]


@pytest.mark.parametrize(
    "text",
    [
        "[[package]\n",  # not TOML
        'version = 1\n[[package]]\nname = "a"\n',  # no blank line: the header would hold it
        'version = 1\n\n[[package]]\nname = "a"\n[[package]]\nname = "b"\n',
        'version = 1\n\n[[package]]\nversion = "1.0"\n',  # no name
    ],
    ids=["not-toml", "entry-in-header", "two-in-one-block", "nameless"],
)
def test_a_lock_laid_out_otherwise_is_refused_not_guessed(text):
    with pytest.raises(LockfileError):
        read(text)
