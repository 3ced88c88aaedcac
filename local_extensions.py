"""Jinja filters for this template, loaded by cookiecutter through ``_extensions``."""

import string

from cookiecutter.utils import simple_filter

KEPT = frozenset(
    string.ascii_letters + string.digits + " !#$%&()*+,-./:;<=>?@[]^_`{|}~"
)


@simple_filter
def escape_for_string(value):
    """Any text as the inside of a double-quoted Python or TOML string.

    Everything but plain printable ASCII (quotes, backslashes, newlines,
    non-ASCII) becomes a \\u escape, which both languages read back as the
    same text. No answer can end the string early, and with no quote inside
    ruff format has no reason to change the quote style.
    """
    return "".join(
        char
        if char in KEPT
        else f"\\U{ord(char):08x}"
        if ord(char) > 0xFFFF
        else f"\\u{ord(char):04x}"
        for char in str(value)
    )
