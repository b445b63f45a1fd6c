"""GraphQL types shared across domains: enums, UserError, PageInfo, OkPayload, and the
helper that turns a resolver into a transactional mutation returning a payload."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any, TypeVar

import strawberry
from sqlalchemy.exc import DBAPIError
from strawberry.types import Info

from api.errors import ErrorCode as DomainErrorCode
from api.errors import Problem, RecordedFailure, UserFailure
from api.graphql.context import Context

log = logging.getLogger("api.graphql")
ErrorCode = strawberry.enum(DomainErrorCode, name="ErrorCode")


@strawberry.enum
class Role(Enum):
    OWNER = strawberry.enum_value("OWNER", description="Holds the contract and billing relationship; can manage admins.")
    ADMIN = strawberry.enum_value("ADMIN", description="Manages users, purposes, settings, audit log and data requests of the tenant.")
    MEMBER = "MEMBER"


@strawberry.enum
class AccountStatus(Enum):
    INVITED = strawberry.enum_value("INVITED", description="Added by an administrator; has not yet set a password.")
    ACTIVE = "ACTIVE"
    DISABLED = strawberry.enum_value("DISABLED", description="Cannot log in; sessions revoked.")


@strawberry.type
class UserError:
    field: str | None = strawberry.field(
        description="The input field the error is about, as a path such as `input.password`; null when it is about the whole request."
    )
    message: str
    code: ErrorCode  # type: ignore[valid-type]

    @classmethod
    def from_problem(cls, problem: Problem) -> UserError:
        return cls(field=problem.field, message=problem.message, code=problem.code)


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None

    @classmethod
    def of(cls, cursors: list[str], has_next_page: bool) -> PageInfo:
        return cls(has_next_page=has_next_page, end_cursor=cursors[-1] if cursors else None)


@strawberry.type
class OkPayload:
    ok: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class PasswordInput:
    password: str
    code: str | None = strawberry.field(
        default=None, description="A second factor (TOTP or recovery code) where the action needs one, e.g. regenerateRecoveryCodes."
    )


Info = Info[Context, None]  # type: ignore[misc]
P = TypeVar("P")


# A deadlock or serialization failure says nothing about the request: run it again.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})
ATTEMPTS = 3


def is_transient(error: BaseException) -> bool:
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) in TRANSIENT_SQLSTATES


def transactional(payload: Callable[..., P]) -> Callable[[Callable[..., Awaitable[P]]], Callable[..., Awaitable[P]]]:
    """Run a mutation resolver in one transaction on the request's session: commit when it
    returns, roll back when it raises. An expected failure (`UserFailure`) rolls back too
    and becomes `payload(errors=[...])` with every other field null. A transient
    conflict with another transaction (deadlock, serialization failure) rolls back and
    runs the resolver again, up to three times."""

    def decorate(resolver: Callable[..., Awaitable[P]]) -> Callable[..., Awaitable[P]]:
        @functools.wraps(resolver)
        async def run(*args: Any, **kwargs: Any) -> P:
            ctx: Context = kwargs["info"].context
            await ctx.session_info()  # authenticate before the unit of work begins
            async with ctx.lock:
                db = ctx.db()
                cookies = ctx.cookie_mark()
                for attempt in range(1, ATTEMPTS + 1):
                    try:
                        result = await resolver(*args, **kwargs)
                        await db.commit()
                        return result
                    except UserFailure as failure:
                        await (db.commit() if isinstance(failure, RecordedFailure) else db.rollback())
                        return payload(errors=[UserError.from_problem(p) for p in failure.problems])
                    except DBAPIError as error:
                        await db.rollback()
                        if not is_transient(error) or attempt == ATTEMPTS:
                            raise
                        ctx.reset_cookies(cookies)
                        log.info("mutation %s met a transient conflict; attempt %d", resolver.__name__, attempt + 1)
                    except BaseException:
                        await db.rollback()
                        raise
                raise AssertionError("unreachable")

        return run

    return decorate
