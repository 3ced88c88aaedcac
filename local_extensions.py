"""Jinja filters for this template, loaded by cookiecutter through ``_extensions``.

Typed text reaches Python and TOML source only inside a double-quoted string,
through one of these filters. Each writes a character as it was typed unless
it must be escaped; an escaped character becomes \\uXXXX (\\UXXXXXXXX above
U+FFFF), which Python and TOML both read back as that same character.
"""

import unicodedata

from cookiecutter.utils import simple_filter

# Latin letters with no decomposition that people's names use; none of them
# looks like an ASCII letter, so ruff's RUF001 leaves them alone.
NAME_LETTERS = frozenset("ÆæØøßẞÐðÞþŁłĐđŒœĦħŊŋ")


def escaped(char):
    code = ord(char)
    return f"\\U{code:08x}" if code > 0xFFFF else f"\\u{code:04x}"


def invisible(char):
    """Controls, format marks (bidi, zero-width), separators but the space, unassigned."""
    category = unicodedata.category(char)
    return category[0] == "C" or (category[0] == "Z" and char != " ")


def accented_latin(char):
    """é, Ü, ñ, İ...: an ASCII letter with combining marks (canonical decomposition)."""
    base, *marks = unicodedata.normalize("NFD", char)
    return (
        bool(marks)
        and base.isascii()
        and base.isalpha()
        and all(unicodedata.category(mark).startswith("M") for mark in marks)
    )


def kept_in_python(char):
    if char.isascii():
        return char.isprintable() and char not in '"\\'
    return accented_latin(char) or char in NAME_LETTERS


def python_string(text):
    """Any text as the inside of a double-quoted Python string (valid TOML too).

    Printable ASCII (apostrophes included) and Latin letters such as é, ü, ø
    stay as typed. A backslash is doubled. A double quote becomes \\u0022:
    written as \\" it would make ruff format turn the string into a
    single-quoted one. Everything else (controls, bidi and zero-width marks,
    punctuation and letters of other scripts, some of which ruff's RUF001
    flags as look-alikes of ASCII) is a \\u escape. Nothing can end the
    string early, and the baked project stays ruff-clean.
    """
    return "".join(
        "\\\\" if char == "\\" else char if kept_in_python(char) else escaped(char)
        for char in text
    )


def toml_string(text):
    """Any text as the inside of a TOML basic string ("..."), as it was typed.

    Only the double quote and the backslash get a backslash, and invisible
    characters (controls, bidi and zero-width marks, separators but the space)
    a \\u escape. Letters and punctuation of every script stay as they are:
    ruff does not read TOML.
    """
    return "".join(
        f"\\{char}" if char in '"\\' else escaped(char) if invisible(char) else char
        for char in text
    )


STRING_BODIES = {"python": python_string, "toml": toml_string}


@simple_filter
def escape_for_string(value, language="python"):
    """``{{ x | escape_for_string }}`` in Python source, ``escape_for_string("toml")`` in TOML.

    One filter, so that ``_extensions`` (which cookiecutter copies into every
    replay file) stays the same and older replay files still bake.
    """
    return STRING_BODIES[language](str(value))
