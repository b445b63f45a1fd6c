"""Domain errors. Services raise these; the GraphQL layer maps them to the contract:
`UserFailure` becomes a payload's `errors`, the others become top-level errors."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from api.i18n import _, ngettext


class ErrorCode(StrEnum):
    INVALID_INPUT = "INVALID_INPUT"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    INVALID_CODE = "INVALID_CODE"
    INVALID_TOKEN = "INVALID_TOKEN"
    PASSWORD_POLICY = "PASSWORD_POLICY"
    DUPLICATE = "DUPLICATE"
    SEAT_LIMIT_REACHED = "SEAT_LIMIT_REACHED"
    LAST_OWNER = "LAST_OWNER"
    ALREADY_ENABLED = "ALREADY_ENABLED"
    NOT_ENABLED = "NOT_ENABLED"
    NOT_FOUND = "NOT_FOUND"
    REAUTHENTICATION_REQUIRED = "REAUTHENTICATION_REQUIRED"
    SEATS_IN_USE = "SEATS_IN_USE"
    TENANT_SUSPENDED = "TENANT_SUSPENDED"
    TENANT_CLOSED = "TENANT_CLOSED"
    SIGNUP_DISABLED = "SIGNUP_DISABLED"
    LAST_SECOND_FACTOR = "LAST_SECOND_FACTOR"


@dataclass(frozen=True)
class Problem:
    code: ErrorCode
    message: str
    field: str | None = None
    # The input row a bulk operation's problem is about.
    index: int | None = None


class UserFailure(Exception):
    """An expected failure the user can act on; nothing was changed."""

    def __init__(self, *problems: Problem) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = list(problems)

    @classmethod
    def of(cls, code: ErrorCode, message: str, field: str | None = None) -> UserFailure:
        return cls(Problem(code, message, field))


class RecordedFailure(UserFailure):
    """An expected failure whose record must stand: the failed attempt's audit event
    commits although the payload reports an error (e.g. a wrong password)."""


class Unauthenticated(Exception):
    """No valid session for something that needs one."""


class Forbidden(Exception):
    """Authenticated, but not allowed to do this."""


class NotFound(Exception):
    """No such object visible to the caller."""


class RateLimited(Exception):
    def __init__(self, retry_after: int, limit: str | None = None) -> None:
        super().__init__(
            ngettext(
                "Too many attempts; try again in %(n)s second.",
                "Too many attempts; try again in %(n)s seconds.",
                retry_after,
            )
        )
        self.retry_after = retry_after
        self.limit = limit  # which limit (its name), for callers that apply several at once


class ReauthRequired(Exception):
    """A sensitive action needs a fresher or stronger proof of who is there
    (top-level REAUTH_REQUIRED; `reauthenticate` gives one)."""

    def __init__(self, max_age_seconds: int, methods: list[str]) -> None:
        super().__init__(_("Confirm it is you: prove who you are again (reauthenticate), then repeat this."))
        self.max_age_seconds = max_age_seconds
        self.methods = methods


class BadInput(Exception):
    """A query argument out of range (top-level BAD_USER_INPUT)."""
