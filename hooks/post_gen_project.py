"""Say what to do next. Offline and idempotent: it only prints.

It imports only sys (json would double its start-up, and every bake starts
it): the slug reaches it through the same escaping filter as the project's
own source.
"""

import sys

SLUG = "{{ cookiecutter.project_slug | escape_for_string }}"
print(
    f"\nBaked {SLUG}. Next:\n"
    f"  cd {SLUG}\n"
    "  python3 -m venv .venv && .venv/bin/pip install -e '.[dev]'\n"
    "  .venv/bin/pytest\n",
    file=sys.stderr,
)
