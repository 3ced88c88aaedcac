"""The template copy that the cruft and pre-commit tests work on holds what git tracks.

A checkout collects files git does not track (a ``ci.log`` left at the root,
say); they are not the template, and copied they would fail the template's
own pre-commit run. An edit not yet committed is the change under test, so it
must reach the copy.
"""

from pathlib import Path

from testkit.commands import git
from testkit.template_copy import template_repository


def files_in(repository: Path) -> set[str]:
    return {
        path.relative_to(repository).as_posix()
        for path in repository.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(repository).parts
    }


def test_a_stray_file_stays_out_and_uncommitted_changes_come_in(tmp_path):
    checkout = template_repository(tmp_path / "checkout")  # this template, committed
    committed = files_in(checkout)
    assert {"cookiecutter.json", "hooks/pre_gen_project.py"} <= committed
    (checkout / "ci.log").write_text("left behind by a run\n")
    (checkout / "CHANGELOG.md").write_text("## 1.1.0\n\nNot committed yet.\n")
    (checkout / "local_extensions.py").unlink()  # deleted, not committed yet

    copy = template_repository(tmp_path / "copy", source=checkout)

    assert "ci.log" not in files_in(copy)
    assert files_in(copy) == committed - {"local_extensions.py"}
    assert (copy / "CHANGELOG.md").read_text() == "## 1.1.0\n\nNot committed yet.\n"
    assert git("status", "--porcelain", cwd=copy).stdout == ""  # committed there
