"""Say what to do next. Offline and idempotent: it only prints."""

import json
import sys

answers = json.loads(r"""{{ cookiecutter | tojson }}""")
print(
    f"\nBaked {answers['project_slug']}. Next:\n"
    f"  cd {answers['project_slug']}\n"
    "  python3 -m venv .venv && .venv/bin/pip install -e '.[dev]'\n"
    "  .venv/bin/pytest\n",
    file=sys.stderr,
)
