"""The attempt limiter and the limits it applies, handed to services that count attempts."""

from __future__ import annotations

from dataclasses import dataclass

from api.auth.limits import Limits
from api.auth.ratelimit import Limiter


@dataclass(frozen=True)
class Guard:
    limiter: Limiter
    limits: Limits
