"""The baked service's uv.lock: the lock ``uv lock`` makes for a bake, with the
service's own entry written so that every answer set renders its lock.

A bake must not need the network, so the template ships the lock. Only the
service's own entry varies with the answers (its name; the description and
authors are not in a lock), but uv sorts entries by name, so where it goes
depends on the name: the entry is written once, and put between the two
packages whose names the service's sorts between. ``make lock`` writes the
template's file from ``uv lock`` run on the default bake, from the index the
fleet's update branches lock from (fleet.lock.INDEX) and no configuration file;
tests/test_matrix.py proves each bake's lock is the one uv makes.

    make lock                          # after changing the baked dependencies
    make lock LOCK_ARGS=--upgrade      # every pin to the newest that fits
"""

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from fleet.lock import INDEX
from fleet.lockfile import read
from testkit import TEMPLATE

LOCK = TEMPLATE / "{{cookiecutter.project_slug}}" / "uv.lock"
UV = Path(sys.executable).parent / "uv"  # the version the Makefile pins
DEFAULT_SLUG = "example-service"
SLUG = "cookiecutter.project_slug"
# How uv is run for the lock: the same index and settings as fleet.lock's.
UV_LOCK = [UV, "lock", "--quiet", "--no-config", "--default-index", INDEX]


def templated(lock: str, slug: str = DEFAULT_SLUG) -> str:
    """``lock`` (made for a bake named ``slug``) as the template's Jinja source."""
    assert not re.search(r"\{[{%#]", lock), "the lock holds Jinja syntax"
    header, found = read(lock)
    (own_entry,) = [entry for entry in found if entry.name == slug]
    others = [entry for entry in found if entry is not own_entry]
    own = own_entry.text.replace(f'name = "{slug}"', f'name = "{{{{ {SLUG} }}}}"', 1)
    parts = [
        "{#- The service's own entry goes where its name sorts, as uv writes it.\n"
        "    Written by `make lock` (testkit/lock.py): do not edit by hand. -#}\n"
        f"{{%- set own_entry -%}}\n{own}\n{{%- endset -%}}\n",
        header,
    ]
    names = [entry.name for entry in others]
    for index, entry in enumerate(others):
        after = f'{SLUG} > "{names[index - 1]}" and ' if index else ""
        parts.append(
            f'{{% if {after}{SLUG} < "{names[index]}" %}}\n\n{{{{ own_entry }}}}{{% endif %}}'
        )
        parts.append(f"\n\n{entry.text}")
    parts.append(
        f'{{% if {SLUG} > "{names[-1]}" %}}\n\n{{{{ own_entry }}}}{{% endif %}}\n'
    )
    return "".join(parts)


def main() -> None:
    """Lock the default bake again (from PyPI) and write the template's uv.lock.

    uv keeps every pin that still fits the baked pyproject.toml; arguments go
    to ``uv lock`` (``--upgrade``, ``--upgrade-package flask``).
    """
    from testkit.bake import bake

    with tempfile.TemporaryDirectory(prefix="lock-") as scratch:
        project = bake(Path(scratch))
        subprocess.run([*UV_LOCK, *sys.argv[1:]], cwd=project, check=True)
        LOCK.write_text(templated((project / "uv.lock").read_text()))
    print(f"wrote {LOCK.relative_to(TEMPLATE)}")


if __name__ == "__main__":
    main()
