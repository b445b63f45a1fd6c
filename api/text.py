"""Human-readable text that people type and others read (names, titles, descriptions):
normalised, trimmed, bounded, and free of characters that change how text around them
reads or breaks what carries it: control characters (a line break in a name breaks an
email header), bidirectional overrides and other invisible formatting, line and
paragraph separators, surrogates, private-use and unassigned code points."""

from __future__ import annotations

import unicodedata

from api.errors import ErrorCode, UserFailure
from api.i18n import _

_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
_ALLOWED_IN_MULTILINE = frozenset({"\n", "\t"})


def refused_character(value: str, *, multiline: bool = False) -> str | None:
    """The first character this text may not hold, or None."""
    for ch in value:
        if unicodedata.category(ch) in _REFUSED_CATEGORIES and not (multiline and ch in _ALLOWED_IN_MULTILINE):
            return ch
    return None


def clean(value: str, *, field: str, what: str, max_length: int, min_length: int = 1, multiline: bool = False) -> str:
    """The text NFC-normalised and trimmed (line ends as \\n when multiline); INVALID_INPUT
    when it is too short, too long or holds a refused character."""
    if multiline:
        value = value.replace("\r\n", "\n")
    value = unicodedata.normalize("NFC", value).strip()
    if not min_length <= len(value) <= max_length:
        raise UserFailure.of(
            ErrorCode.INVALID_INPUT,
            _("%(what)s have %(min)s to %(max)s characters.", what=what, min=min_length, max=max_length),
            field,
        )
    bad = refused_character(value, multiline=multiline)
    if bad is not None:
        code_point = f"U+{ord(bad):04X}"
        raise UserFailure.of(
            ErrorCode.INVALID_INPUT,
            _(
                "%(what)s cannot contain control, formatting or invisible characters (found %(char)s).",
                what=what,
                char=code_point,
            ),
            field,
        )
    return value


def one_line(value: str) -> str:
    """For where a line break would do harm (an email header): every refused character
    becomes a space. A last defence; inputs are refused before they are stored."""
    return " ".join("".join(" " if unicodedata.category(ch) in _REFUSED_CATEGORIES else ch for ch in value).split())
