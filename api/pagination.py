"""Opaque keyset cursors and page-size checks shared by every connection."""

from __future__ import annotations

import base64
import json
from typing import Any

from api.errors import BadInput

MAX_PAGE = 100


def encode_cursor(*key: Any) -> str:
    """An opaque cursor holding the sort key of the last row of a page."""
    return base64.urlsafe_b64encode(json.dumps(key, default=str, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """The sort key a cursor holds; BAD_USER_INPUT when it is not one of ours."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        key = None
    if not isinstance(key, list) or len(key) != size:
        raise BadInput("Invalid cursor.")
    return key


def check_first(first: int) -> None:
    if not 1 <= first <= MAX_PAGE:
        raise BadInput(f"`first` must be between 1 and {MAX_PAGE}.")
