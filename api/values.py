"""A marker for 'not given' in partial updates, distinct from an explicit None."""

from __future__ import annotations

import enum
from typing import Final, TypeAlias, TypeVar

T = TypeVar("T")


class _Unset(enum.Enum):
    UNSET = "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = _Unset.UNSET
Maybe: TypeAlias = T | _Unset
