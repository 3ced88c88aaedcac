"""Say where the project is and what to do next. Offline and idempotent: it only prints.

The hook runs inside the new project, so its full path is the one the person
can use from wherever they typed the command (a `cd` line would be wrong
after `--output-dir`, and need shell quoting). os and sys are loaded before
any hook code runs; importing more would add to every bake.
"""

import os
import sys

print(
    f"\nBaked {os.getcwd()}. Next, in that directory:\n  uv sync\n  uv run pytest\n",
    file=sys.stderr,
)
