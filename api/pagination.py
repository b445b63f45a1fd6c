"""Opaque keyset cursors and page-size checks shared by every connection.

A cursor is the sort key of a page's last row, as JSON in URL-safe base64. What comes
back from a client is hostile until proven otherwise: it is decoded only when short,
each part must have the declared kind and lie in the range the database can hold, and
anything else is BAD_USER_INPUT ("Invalid cursor.")."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from api.errors import BadInput
from api.i18n import _

MAX_PAGE = 100
MAX_CURSOR_LENGTH = 512
MAX_TEXT = 320
_BIGINT = 2**63 - 1
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 1, 1, tzinfo=UTC)

Kind = Literal["int", "text", "uuid", "datetime"]


def encode_cursor(*key: Any) -> str:
    """An opaque cursor holding the sort key of the last row of a page."""
    return base64.urlsafe_b64encode(orjson.dumps(key, default=str)).decode().rstrip("=")


def _part(value: Any, kind: Kind) -> Any:
    if kind == "int":
        if type(value) is int and 0 <= value <= _BIGINT:
            return value
    elif kind == "text":
        if isinstance(value, str) and len(value) <= MAX_TEXT and "\x00" not in value:
            return value
    elif kind == "uuid" and isinstance(value, str) and len(value) <= 36:
        return uuid.UUID(value)
    elif kind == "datetime" and isinstance(value, str) and len(value) <= 40:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is not None and _EARLIEST <= moment <= _LATEST:
            return moment
    raise ValueError(kind)


def decode_cursor(cursor: str, *kinds: Kind) -> list[Any]:
    """The sort key a cursor holds, one value per kind; BAD_USER_INPUT when it is not one of ours."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise BadInput(_("Invalid cursor."))
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(key, list) or len(key) != len(kinds):
            raise ValueError("shape")
        return [_part(value, kind) for value, kind in zip(key, kinds)]
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error, RecursionError, OverflowError):
        raise BadInput(_("Invalid cursor.")) from None


def check_first(first: int) -> None:
    if not 1 <= first <= MAX_PAGE:
        raise BadInput(_("`first` must be between 1 and %(max)s.", max=MAX_PAGE))
