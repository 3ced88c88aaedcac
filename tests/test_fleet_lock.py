"""An update branch's uv.lock: when it is made again, from what, and what is refused."""

import pytest

from fleet.lock import LockError, lock_again, needs_lock, refusal, starting_lock
from fleet.pull_request import pull_request
from testkit.commands import clean_env

HEADER = b'version = 1\nrevision = 5\nrequires-python = ">=3.11"'


def lock(*entries: tuple[str, str]) -> bytes:
    blocks = [
        f'[[package]]\nname = "{name}"\nversion = "{version}"'
        for name, version in entries
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


STATIC = (
    b'[project]\nname = "svc"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
    b"dependencies = []\n"
)
# What `uv lock` makes of STATIC.
STATIC_LOCK = (
    HEADER
    + b'\n\n[[package]]\nname = "svc"\nversion = "0.1.0"\nsource = { virtual = "." }\n'
)


@pytest.mark.parametrize(
    ("pyproject", "said"),
    [
        (STATIC, None),
        (b'[project]\nname = "svc"\ndynamic = ["version"]\n', "dynamic metadata"),
        (
            STATIC + b'[tool.uv.sources]\nlib = { path = "../lib" }\n',
            "[tool.uv.sources]",
        ),
        (STATIC + b'[tool.uv.workspace]\nmembers = ["libs/*"]\n', "a uv workspace"),
        (b"[project\n", "is not TOML"),
    ],
    ids=["static", "dynamic", "sources", "workspace", "not-toml"],
)
def test_what_locking_would_have_to_build_is_refused(pyproject, said):
    found = refusal(pyproject)
    assert found is None if said is None else said in found


def test_a_refused_pyproject_is_never_handed_to_uv(tmp_path):
    """A hatch metadata hook is the service's code: uv would run it to read a
    dynamic version, even with --no-build."""
    marker = tmp_path / "ran"
    (tmp_path / "hatch_build.py").write_text(f"open({str(marker)!r}, 'w')\n")
    (tmp_path / "pyproject.toml").write_bytes(
        b'[project]\nname = "svc"\ndynamic = ["version"]\n'
        b'[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
        b"[tool.hatch.metadata.hooks.custom]\n"
    )
    with pytest.raises(LockError) as raised:
        lock_again(tmp_path, None, lock(("svc", "0.1.0")), clean_env())
    assert str(raised.value) == (
        "cannot lock uv.lock again: pyproject.toml has dynamic metadata, which only "
        "a build can tell; run uv lock on the branch"
    )
    assert not marker.exists()
    assert not (tmp_path / "uv.lock").exists()


def test_a_dependency_added_on_the_branch_is_locked(tmp_path):
    """Offline, from uv's cache: Flask is in the lock of every bake."""
    (tmp_path / "pyproject.toml").write_bytes(
        STATIC.replace(b"dependencies = []", b'dependencies = ["blinker>=1.9"]')
    )
    made = lock_again(tmp_path, STATIC_LOCK, STATIC_LOCK, clean_env(UV_OFFLINE="1"))
    assert b'name = "blinker"\nversion = "' in made
    assert b'{ name = "blinker", specifier = ">=1.9" }' in made


def test_a_lock_uv_cannot_make_is_one_line(tmp_path):
    (tmp_path / "pyproject.toml").write_bytes(
        STATIC.replace(b"dependencies = []", b'dependencies = ["flask>=99"]')
    )
    with pytest.raises(LockError) as raised:
        lock_again(tmp_path, None, STATIC_LOCK, clean_env(UV_OFFLINE="1"))
    message = str(raised.value)
    assert message.startswith("uv lock failed: "), message
    assert "\n" not in message
    assert "flask" in message, message


@pytest.mark.parametrize(
    ("conflicts", "says"), [(["pyproject.toml"], True), (["src/x.py"], False)]
)
def test_pr_md_says_to_lock_after_resolving_pyproject(conflicts, says):
    text = pull_request("svc", "template", "v3.1.0", "v3.2.0", [], None, conflicts)
    assert ("`uv lock`, and commit `uv.lock`" in text) is says


def test_a_service_without_a_pyproject_gets_one_line(tmp_path):
    with pytest.raises(
        LockError, match=r"^cannot lock uv.lock again: no pyproject.toml; "
    ):
        lock_again(tmp_path, None, STATIC_LOCK, clean_env())
