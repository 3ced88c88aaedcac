"""An update branch's uv.lock: where and how uv makes it, what is refused
before uv runs, and whose a lock that is not made is to make."""

import sys
import tempfile
import tomllib

import pytest

from fleet import lock as lock_module
from fleet import update
from fleet.lock import (
    INDEX,
    LockError,
    LockFailure,
    lock_again,
    refusal,
)
from fleet.pull_request import pull_request
from fleet.update import NEEDS_LOCK, Branch, Outcome, locked
from testkit.commands import clean_env, run
from testkit.lock import UV
from tests.test_fleet_lockfile import HEADER, lock

STATIC = (
    b'[project]\nname = "svc"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
    b"dependencies = []\n"
)
# What `uv lock` makes of STATIC.
STATIC_LOCK = (
    HEADER
    + b'\n\n[[package]]\nname = "svc"\nversion = "0.1.0"\nsource = { virtual = "." }\n'
)


def with_dependency(requirement: str) -> bytes:
    return STATIC.replace(
        b"dependencies = []", f"dependencies = [{requirement!r}]".encode()
    )


REFUSED = {
    "dynamic": (
        b'[project]\nname = "svc"\ndynamic = ["version"]\n',
        "dynamic metadata",
    ),
    "sources": (
        STATIC + b'[tool.uv.sources]\nlib = { path = "../lib" }\n',
        "[tool.uv.sources]",
    ),
    "workspace": (
        STATIC + b'[tool.uv.workspace]\nmembers = ["libs/*"]\n',
        "a uv workspace",
    ),
    "index": (
        STATIC
        + b'[[tool.uv.index]]\nname = "ours"\nurl = "https://pkgs.example.com/simple"\n',
        "[[tool.uv.index]]",
    ),
    "index-url": (
        STATIC + b'[tool.uv]\nindex-url = "https://pkgs.example.com/simple"\n',
        "[tool.uv] index-url",
    ),
    "extra-index-url": (
        STATIC + b'[tool.uv]\nextra-index-url = ["https://pkgs.example.com/simple"]\n',
        "[tool.uv] extra-index-url",
    ),
    "find-links": (
        STATIC + b'[tool.uv]\nfind-links = ["https://pkgs.example.com/wheels/"]\n',
        "[tool.uv] find-links",
    ),
    "url-dependency": (
        with_dependency("lib @ https://pkgs.example.com/lib-1.0-py3-none-any.whl"),
        "[project] dependencies: 'lib @ https://pkgs.example.com/",
    ),
    "git-dependency": (
        with_dependency("lib[extra]@git+https://git.example.com/lib.git"),
        "[project] dependencies: 'lib[extra]@git+",
    ),
    "url-extra": (
        STATIC + b'[project.optional-dependencies]\nfast = ["lib @ file:///srv/lib"]\n',
        "[project.optional-dependencies] fast: 'lib @ file:///srv/lib'",
    ),
    "url-group": (
        STATIC
        + b'[dependency-groups]\ndev = [{ include-group = "x" }, "t @ https://x/t.whl"]\n',
        "[dependency-groups] dev: 't @ https://x/t.whl'",
    ),
    "url-uv-dev": (
        STATIC + b'[tool.uv]\ndev-dependencies = ["t @ https://x/t.whl"]\n',
        "[tool.uv] dev-dependencies",
    ),
    "not-toml": (b"[project\n", "is not TOML"),
    # uv's settings, recorded in uv.lock and dropped by --no-config: the team's
    # `uv lock --check` would refuse the lock made without them.
    "resolution": (
        STATIC + b'[tool.uv]\nresolution = "lowest-direct"\n',
        "sets [tool.uv] resolution, a uv setting that the fleet's lock does not apply",
    ),
    "exclude-newer": (
        STATIC + b'[tool.uv]\ndev-dependencies = []\nexclude-newer = "2025-01-01"\n',
        "sets [tool.uv] exclude-newer, a uv setting",
    ),
    "settings": (
        STATIC + b"[tool.uv]\nrequired-version = '>=0.13'\n[tool.uv.pip]\n",
        "[tool.uv] required-version, pip, uv settings that",
    ),
    "unmanaged": (STATIC + b"[tool.uv]\nmanaged = false\n", "uv does not lock it"),
}


@pytest.mark.parametrize(("pyproject", "said"), REFUSED.values(), ids=REFUSED.keys())
def test_what_locking_would_have_to_build_or_fetch_elsewhere_is_refused(
    pyproject, said
):
    found = refusal(pyproject)
    assert found is not None, pyproject
    assert said in found, found
    assert found.startswith("pyproject.toml ")
    assert "\n" not in found


@pytest.mark.parametrize(
    "requirement",
    [
        "flask>=3.1",
        "flask[async]>=3.1; python_version >= '3.12'",
        "pywin32; sys_platform == 'win32' and platform_release != '@'",
    ],
)
def test_a_requirement_from_the_index_is_not_refused(requirement):
    assert refusal(with_dependency(requirement)) is None


def test_the_projects_own_uv_metadata_is_not_refused_but_a_uv_toml_is():
    """What uv reads from pyproject.toml with --no-config too; a uv.toml beside
    it holds settings the team's uv applies and the fleet's would not."""
    metadata = b"[tool.uv]\n" + b"".join(
        f"{key} = []\n".encode()
        for key in (
            "constraint-dependencies",
            "default-groups",
            "environments",
            "cache-keys",
        )
    )
    assert refusal(STATIC + metadata + b"managed = true\npackage = false\n") is None
    found = refusal(STATIC, uv_toml=True)
    assert found == (
        "the service has a uv.toml, whose uv settings the fleet's lock does not apply"
    )


FAKE_UV = """#!/bin/sh
[ "$1" = lock ] || exit 1
{{ pwd; ls -A; echo "$@"; env; }} > {record}
printf 'made by the fake uv\\n' > uv.lock
"""


def uv_on_path(tmp_path, monkeypatch, script: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "uv").write_text(script)
    (bin_dir / "uv").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{clean_env()['PATH']}")


@pytest.fixture
def fake_uv(tmp_path, monkeypatch):
    """A ``uv`` first on PATH that notes where and how it ran, and writes a lock."""
    record = tmp_path / "uv-ran"
    uv_on_path(tmp_path, monkeypatch, FAKE_UV.format(record=record))
    return record


@pytest.mark.parametrize(("pyproject", "said"), REFUSED.values(), ids=REFUSED.keys())
def test_a_refused_pyproject_is_never_handed_to_uv(fake_uv, pyproject, said):
    with pytest.raises(LockError) as raised:
        lock_again(pyproject, None, STATIC_LOCK, clean_env())
    assert str(raised.value) == refusal(pyproject)
    assert not fake_uv.exists()


def test_uv_locks_in_a_scratch_folder_with_no_configuration_from_the_index(fake_uv):
    """It sees the merged pyproject.toml and the starting lock, nothing of the
    service's tree, no configuration file, and no index but PyPI's."""
    made = lock_again(
        STATIC,
        None,
        STATIC_LOCK,
        clean_env(
            UV_INDEX_URL="https://pkgs.example.com/simple",
            UV_EXTRA_INDEX_URL="https://pkgs.example.com/simple",
            UV_FIND_LINKS="https://pkgs.example.com/wheels/",
            UV_CONFIG_FILE="/srv/uv.toml",
            UV_OFFLINE="1",
        ),
    )
    assert made == b"made by the fake uv\n"
    where, listing, listing_2, arguments, *env = fake_uv.read_text().splitlines()
    assert where.startswith(tempfile.gettempdir())
    assert [listing, listing_2] == ["pyproject.toml", "uv.lock"]
    assert arguments.split()[:7] == [
        "lock", "--quiet", "--no-build", "--no-config", "--default-index", INDEX, "--python",
    ]  # fmt: skip
    assert "UV_NO_CONFIG=1" in env
    assert "UV_OFFLINE=1" in env
    assert not [line for line in env if "pkgs.example.com" in line or "/srv/" in line]


def test_a_uv_toml_around_where_uv_runs_is_ignored(tmp_path, monkeypatch):
    """Offline, from uv's cache: a uv.toml taking packages from elsewhere, in a
    folder above the scratch one (uv reads those unless told not to), changes nothing."""
    tree = tmp_path / "service"
    tree.mkdir()
    (tree / "uv.toml").write_text(
        'find-links = ["http://127.0.0.1:9/wheels/"]\nno-index = true\n'
    )  # were it read, nothing would come from the index (tried: the lock fails)
    monkeypatch.setattr(tempfile, "tempdir", str(tree))
    made = lock_again(
        with_dependency("blinker>=1.9"), None, STATIC_LOCK, clean_env(UV_OFFLINE="1")
    )
    (blinker,) = [
        p for p in tomllib.loads(made.decode())["package"] if p["name"] == "blinker"
    ]
    assert blinker["source"] == {"registry": INDEX}
    assert sorted(path.name for path in tree.iterdir()) == [
        "uv.toml"
    ]  # scratch removed


def test_a_dependency_added_on_the_branch_is_locked():
    """Offline, from uv's cache: Flask is in the lock of every bake."""
    made = lock_again(
        with_dependency("blinker>=1.9"),
        STATIC_LOCK,
        STATIC_LOCK,
        clean_env(UV_OFFLINE="1"),
    )
    assert b'name = "blinker"\nversion = "' in made
    assert b'{ name = "blinker", specifier = ">=1.9" }' in made


def test_the_projects_own_uv_metadata_is_locked_as_the_teams_uv_would(tmp_path):
    """Offline: constraints and default groups are read with --no-config too, so
    the team's uv, reading its configuration, takes the lock as it is."""
    pyproject = with_dependency("blinker>=1.9") + (
        b'[dependency-groups]\nlint = ["blinker"]\n'
        b'[tool.uv]\nconstraint-dependencies = ["blinker<99"]\ndefault-groups = ["lint"]\n'
    )
    made = lock_again(pyproject, None, STATIC_LOCK, clean_env(UV_OFFLINE="1"))
    assert b'constraints = [{ name = "blinker", specifier = "<99" }]' in made
    assert b'default-groups = ["lint"]' in made
    (tmp_path / "pyproject.toml").write_bytes(pyproject)
    (tmp_path / "uv.lock").write_bytes(made)
    run(UV, "lock", "--check", "--offline", "--python", sys.executable, cwd=tmp_path)


def test_a_lock_uv_cannot_make_is_one_line():
    with pytest.raises(LockError) as raised:
        lock_again(
            with_dependency("flask>=99"), None, STATIC_LOCK, clean_env(UV_OFFLINE="1")
        )
    message = str(raised.value)
    assert message.startswith("uv lock failed: "), message
    assert "\n" not in message
    assert "flask" in message, message


def test_a_service_without_a_pyproject_gets_one_line():
    with pytest.raises(LockError, match=r"^no pyproject.toml$"):
        lock_again(None, None, STATIC_LOCK, clean_env())


NO_SOLUTION = (
    "error: No solution found when resolving dependencies\n"
    "  cause: Because only blinker<=1.9.0 is available and your project depends on "
    "blinker>=99, we can conclude that your project's requirements are unsatisfiable.\n"
)  # uv 0.13.8's words, as for the others
UV_SAYS = {
    "no-solution": (1, NO_SOLUTION, LockError, "No solution found"),
    "unparsable": (2, "error: Failed to parse: `pyproject.toml`\n", LockError, "parse"),
    # A malformed requirement (flask>>=3), as uv 0.13.8 says it under --no-build.
    "bad-requirement": (
        2,
        "error: Failed to build `svc @ file:///tmp/x`\n"
        "  Caused by: Building source distributions for `svc` is disabled\n",
        LockError,
        "Failed to build",
    ),
    "bad-group": (
        2,
        "error: Project `svc` has malformed dependency groups\n",
        LockError,
        "malformed dependency groups",
    ),
    "undefined-default-group": (
        2,
        "error: Default group `nope` (from `tool.uv.default-groups`) is not defined "
        "in the project's `dependency-groups` table\n",
        LockError,
        "Default group `nope`",
    ),
    "network": (
        2,
        "error: Failed to fetch: https://pypi.org/simple/blinker/\n"
        "  cause: error sending request for url (https://pypi.org/simple/blinker/)\n"
        "  cause: client error (Connect)\n",
        LockFailure,
        "Failed to fetch: https://pypi.org/simple/blinker/: error sending request",
    ),
    "offline": (
        1,
        NO_SOLUTION + "\nhint: Packages were unavailable because the network was "
        "disabled. When the network is disabled, registry packages may only be read "
        "from the cache.\n",
        LockFailure,
        "(offline: UV_OFFLINE, from uv's cache)",
    ),
    "cache": (
        2,
        "error: Failed to initialize cache at `/nonexistent/uv`\n"
        "  Caused by: Not a directory (os error 20)\n",
        LockFailure,
        "Failed to initialize cache",
    ),
    "disk-full": (
        2,
        "error: failed to write to file `/tmp/x/uv.lock`: No space left on device "
        "(os error 28)\n",
        LockFailure,
        "No space left on device",
    ),
    "interpreter": (
        2,
        "error: The requested interpreter resolved to Python 3.11.7, which is "
        "incompatible with the project's Python requirement: `>=3.12`\n",
        LockFailure,
        "incompatible",
    ),
}


@pytest.mark.parametrize(
    ("status", "stderr", "kind", "said"), UV_SAYS.values(), ids=UV_SAYS.keys()
)
def test_only_what_uv_says_of_the_services_pyproject_is_the_teams_to_lock(
    tmp_path, monkeypatch, status, stderr, kind, said
):
    """The network, the fleet's cache or Python: the fleet's (update makes no
    branch of it). Anything else uv says of the pyproject.toml (no versions for
    its requirements, not read, a requirement or group malformed): the team's,
    needs-uv-lock."""
    script = f"#!/bin/sh\ncat >&2 <<'EOF'\n{stderr}EOF\nexit {status}\n"
    uv_on_path(tmp_path, monkeypatch, script)
    files = {"pyproject.toml": with_dependency("blinker>=99")}
    if kind is LockError:
        lock_file, state, reason = locked(files, None, STATIC_LOCK)
        assert (lock_file, state) == (STATIC_LOCK, NEEDS_LOCK)
    else:
        with pytest.raises(LockFailure) as raised:
            locked(files, None, STATIC_LOCK)
        reason = str(raised.value)
    assert reason.startswith("uv lock failed: "), reason
    assert said in reason, reason
    assert "\n" not in reason


def test_uv_missing_or_too_slow_is_the_fleets_failure(tmp_path, monkeypatch):
    monkeypatch.setattr(lock_module, "uv_binary", lambda: None)
    with pytest.raises(LockFailure, match=r"^uv is not installed \(pip install uv\)$"):
        lock_again(STATIC, None, STATIC_LOCK, clean_env())
    monkeypatch.undo()
    uv_on_path(tmp_path, monkeypatch, "#!/bin/sh\nexec sleep 5\n")
    monkeypatch.setattr(lock_module, "TIMEOUT", 0.2)
    with pytest.raises(LockFailure, match=r"^uv lock took over 0.2 s$"):
        lock_again(STATIC, None, STATIC_LOCK, clean_env())


def test_a_lock_not_made_leaves_the_releases_lock_and_asks_a_person(
    fake_uv, tmp_path, monkeypatch
):
    monkeypatch.setenv(
        "UV_CACHE_DIR", str(tmp_path / "cache")
    )  # uv is not asked for it
    pyproject = REFUSED["url-dependency"][0]
    files = {"pyproject.toml": pyproject}
    lock_file, state, reason = locked(files, lock(("old", "1.0")), STATIC_LOCK)
    assert (lock_file, state, reason) == (STATIC_LOCK, NEEDS_LOCK, refusal(pyproject))
    assert not fake_uv.exists()
    outcome = Outcome("svc", merge="clean", lock=state, lock_reason=reason)
    assert outcome.exit_status == 1  # a person's turn, not an error
    assert Outcome("svc", merge="clean", lock="locked").exit_status == 0


def test_a_branch_whose_lock_is_not_made_is_not_tested(tmp_path):
    """``uv sync --locked`` would refuse its lock: its tests wait for the team's."""
    outcome = Outcome("svc", merge="clean", lock=NEEDS_LOCK, lock_reason="why")
    branch = Branch(
        "baseline/v2", tmp_path / "repo", tmp_path, "v1", "v2", [], "0" * 40, True
    )
    update.test_branches([(outcome, branch)], tmp_path / "tests")
    assert outcome.tests is None
    assert not (tmp_path / "tests").exists()


def test_pr_md_says_first_that_the_team_must_lock():
    reason = refusal(REFUSED["index-url"][0])
    text = pull_request("svc", "template", "v3.1.0", "v3.2.0", [], None, [], reason)
    title, first, *_ = text.split("\n\n")
    assert title == "# Baseline v3.2.0 for svc"
    assert first.startswith(
        "**Run `uv lock` on this branch, and commit `uv.lock`, before merging.**"
    )
    assert f"The lock could not be made here: {reason}." in first
    assert "Not run: `uv.lock` is to be locked first" in text
    assert "uv lock" not in pull_request("svc", "t", "v3.1.0", "v3.2.0", [], None, [])


@pytest.mark.parametrize(
    ("conflicts", "says"), [(["pyproject.toml"], True), (["src/x.py"], False)]
)
def test_pr_md_says_to_lock_after_resolving_pyproject(conflicts, says):
    text = pull_request("svc", "template", "v3.1.0", "v3.2.0", [], None, conflicts)
    assert ("`uv lock`, and commit `uv.lock`" in text) is says
