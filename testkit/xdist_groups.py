"""Keep pytest-xdist's ``--dist loadgroup`` on pytest 9.2 (a pytest plugin).

pytest 9.2 keeps each test's id in a structured field; pytest-xdist 3.8 still
names a test's ``xdist_group`` by rewriting the old string field, which pytest
no longer reads. Every group is then silently ignored, and tests that share
slow set-up (Chromium, nginx, an installed bake) build it on every worker
(pytest-dev/pytest-xdist#1386). This writes the same ``nodeid@group`` id where
pytest now reads it; where xdist has already done so, it does nothing.
"""

import pytest
from _pytest.nodeid import NodeId


def group_of(item: pytest.Item) -> str | None:
    """The group name xdist would give: every ``xdist_group`` of the test, joined."""
    names = {
        str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
        for mark in item.iter_markers("xdist_group")
    }
    return "_".join(sorted(names)) or None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]):
    if not getattr(config.option, "loadgroup", False):  # set on xdist's workers only
        return
    for item in items:
        group = group_of(item)
        if group and not item.nodeid.endswith(f"@{group}"):
            item._id = NodeId.parse(f"{item.nodeid}@{group}")
