"""testkit and fleet are installed, nothing else of the checkout is importable, and testkit's pytest plugin works.

The baked projects' tools run in this same .venv: were the checkout on the
path (the whole checkout rather than links to the two packages), a bake could import the
template's own ``tests`` or ``local_extensions`` and pass for the wrong reason.
"""

from testkit import TEMPLATE
from testkit.commands import python

CHECKOUT_NAMES = ["tests", "local_extensions", "hooks", "benchmarks"]


def test_testkit_and_fleet_import_from_anywhere_and_nothing_else_of_the_checkout_does(
    tmp_path,
):
    code = (
        "import importlib.util, testkit, fleet.report\n"
        "print(testkit.TEMPLATE)\n"
        f"print([n for n in {CHECKOUT_NAMES!r} if importlib.util.find_spec(n)])\n"
    )
    result = python("-c", code, cwd=tmp_path)
    assert result.stdout.splitlines() == [str(TEMPLATE), "[]"]


GROUPED = """
import os, pytest
pytestmark = pytest.mark.xdist_group("shared-set-up")
@pytest.mark.parametrize("n", range(6))
def test_grouped(n):
    with open("workers.txt", "a") as log:
        log.write(f"grouped {os.environ['PYTEST_XDIST_WORKER']}\\n")
"""
SPREAD = """
import os, pytest
@pytest.mark.parametrize("n", range(6))
def test_spread(n):
    with open("workers.txt", "a") as log:
        log.write(f"spread {os.environ['PYTEST_XDIST_WORKER']}\\n")
"""


def test_an_xdist_group_runs_on_one_worker(tmp_path):
    """What ``make test`` relies on to build each slow set-up once (testkit.xdist_groups)."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_grouped.py").write_text(GROUPED)
    (tmp_path / "test_spread.py").write_text(SPREAD)
    python(
        "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2",
        "--dist", "loadgroup", "-p", "testkit.xdist_groups", cwd=tmp_path,
    )  # fmt: skip
    ran = [line.split() for line in (tmp_path / "workers.txt").read_text().splitlines()]
    assert len(ran) == 12
    assert len({worker for kind, worker in ran if kind == "grouped"}) == 1, ran
    assert len({worker for _, worker in ran}) == 2, ran
