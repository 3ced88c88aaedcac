"""testkit and fleet are installed, and nothing else of the checkout is importable.

The baked projects' tools run in this same .venv: were the checkout on the
path (an editable install that is not exact), a bake could import the
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
