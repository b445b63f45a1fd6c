"""Mutations: who may call each, and one unit of work per mutation.

`@mutation(Payload, caller=ADMIN)` on a resolver `(self, work, [ctx,] **arguments)`
declares the GraphQL field (the arguments are the resolver's own, as strawberry reads
them), checks the caller before anything runs, and runs the resolver in one transaction
on the request's session: commit when it returns; roll back when it raises; an expected
failure (`UserFailure`) becomes `Payload(errors=[...])` with the other fields null; a
deadlock, a serialization failure or a uniqueness taken by a concurrent commit runs it
again (up to three times; the last, DUPLICATE). Afterwards, whatever
the outcome, the writes that must stand (api.attempts) are made. This is the only place
that commits a request's changes."""

from __future__ import annotations

import functools
import inspect
import logging
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import strawberry
from sqlalchemy.exc import DBAPIError

from api.errors import ErrorCode, Forbidden, Unauthenticated, UserFailure
from api.graphql.context import Context
from api.graphql.types import Info, Payload, UserError
from api.i18n import _
from api.operators.sessions import OperatorSessionInfo
from api.request_meta import Actor, ApplicationActor, OperatorActor
from api.security.sessions import SessionInfo
from api.work import Work
from db.enums import SessionStage

log = logging.getLogger("api.graphql")
P = TypeVar("P")

# A deadlock or serialization failure says nothing about the request: run it again.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})
# A uniqueness a service checked but a concurrent commit took first: run again, the
# service's own check now sees it and says what is taken; if it still happens, DUPLICATE.
UNIQUE_VIOLATION = "23505"
SAVED_MEANWHILE = _("Something this conflicts with was saved at the same moment; reload and try again.")
ATTEMPTS = 3


@dataclass(frozen=True)
class Caller:
    """Who may call a mutation: anyone, or a user session in one of `stages` (`admin`
    also asks for the ADMIN or OWNER role), and/or (`operators`) an operator session."""

    stages: frozenset[SessionStage] | None
    admin: bool = False
    operators: bool = False
    applications: bool = False

    def admit(
        self,
        session: SessionInfo | None,
        operator: OperatorSessionInfo | None,
        application: ApplicationActor | None = None,
    ) -> None:
        """Nothing when the caller may call; else UNAUTHENTICATED or FORBIDDEN."""
        if self.stages is None:
            return
        if operator is not None:
            if self.operators:
                return
            raise Forbidden()  # an operator never acts as a tenant's user
        if application is not None:
            if self.applications:
                return
            raise Forbidden()
        if session is None:
            raise Unauthenticated()
        if not self.stages:
            raise Forbidden()  # a user at an operators-only mutation
        if session.stage not in self.stages:
            raise Unauthenticated()
        if self.admin and not session.actor.is_admin:
            raise Forbidden()


ANYONE = Caller(None)
USER = Caller(frozenset({SessionStage.FULL}))
ADMIN = Caller(frozenset({SessionStage.FULL}), admin=True)
PENDING_SECOND_FACTOR = Caller(frozenset({SessionStage.MFA_PENDING}))
ENROLLING = Caller(frozenset({SessionStage.FULL, SessionStage.MFA_ENROLLMENT}))
OPERATOR = Caller(frozenset(), operators=True)
APPLICATION = Caller(frozenset(), applications=True)
ADMIN_OR_OPERATOR = Caller(frozenset({SessionStage.FULL}), admin=True, operators=True)
# The OWNER (the service checks the role) or an operator.
OWNER_OR_OPERATOR = Caller(frozenset({SessionStage.FULL}), admin=True, operators=True)


def is_transient(error: BaseException) -> bool:
    """A conflict to retry (deadlock, serialization), or a connection found dead (the
    database restarted; the pool is invalidated and the retry takes a new one)."""
    return isinstance(error, DBAPIError) and (
        error.connection_invalidated or getattr(error.orig, "sqlstate", None) in TRANSIENT_SQLSTATES
    )


async def unit_of_work(
    ctx: Context,
    actor: Actor | None,
    payload: type[Payload] | None,
    run: Callable[[Work], Awaitable[P]],
    operator: OperatorActor | None = None,
    application: ApplicationActor | None = None,
) -> P:
    """Run `run` in one transaction on the request's session (see the module's doc)."""
    async with ctx.lock:
        db = ctx.db()
        cookies = ctx.cookie_mark()
        for attempt in range(1, ATTEMPTS + 1):
            work = ctx.work(actor, operator, application)
            try:
                result = await run(work)
                await db.finish()
                return result
            except UserFailure as failure:
                await db.rollback()
                if payload is None:
                    raise
                return cast(P, payload(errors=[UserError.from_problem(p, ctx.locale) for p in failure.problems]))
            except DBAPIError as error:
                await db.rollback()
                duplicate = getattr(error.orig, "sqlstate", None) == UNIQUE_VIOLATION
                if duplicate and attempt == ATTEMPTS:
                    conflict = UserFailure.of(ErrorCode.DUPLICATE, SAVED_MEANWHILE)
                    if payload is None:
                        raise conflict from None
                    return cast(P, payload(errors=[UserError.from_problem(p, ctx.locale) for p in conflict.problems]))
                if not (is_transient(error) or duplicate) or attempt == ATTEMPTS:
                    raise
                ctx.reset_cookies(cookies)
                log.info("a mutation met a transient conflict; attempt %d", attempt + 1)
            except BaseException:
                await db.rollback()
                raise
            finally:
                await ctx.services.attempts.record(work.standing)
        raise AssertionError("unreachable")


def mutation(
    payload: type[Payload] | None, *, caller: Caller, description: str | None = None
) -> Callable[[Callable[..., Awaitable[Any]]], Any]:
    """Declare a mutation field whose resolver runs in its own unit of work (see the
    module's doc). The resolver takes `work` (and, to set cookies or read the
    credentials, `ctx`) besides its GraphQL arguments, which strawberry reads from it."""

    def decorate(resolver: Callable[..., Awaitable[Any]]) -> Any:
        hints = typing.get_type_hints(resolver)
        signature = inspect.signature(resolver)
        injected = {name for name in ("work", "ctx") if name in signature.parameters}
        arguments = [
            p.replace(annotation=hints.get(n, p.annotation))
            for n, p in signature.parameters.items()
            if n not in injected and n != "self"
        ]

        @functools.wraps(resolver)
        async def field(self: Any, info: Info, **kwargs: Any) -> Any:
            ctx: Context = info.context
            await ctx.authenticate()
            session, operator, application = ctx.session, ctx.operator, ctx.application
            caller.admit(session, operator, application)
            actor = session.actor if session is not None else None
            extra = {"ctx": ctx} if "ctx" in injected else {}
            return await unit_of_work(
                ctx,
                actor,
                payload,
                lambda work: resolver(self, work=work, **extra, **kwargs),
                operator.actor if operator is not None else None,
                application,
            )

        self_parameter = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
        info_parameter = inspect.Parameter("info", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Info)
        field.__signature__ = signature.replace(  # type: ignore[attr-defined]  # what strawberry reads
            parameters=[self_parameter, info_parameter, *arguments], return_annotation=hints["return"]
        )
        field.__annotations__ = {**{p.name: p.annotation for p in arguments}, "info": Info, "return": hints["return"]}
        del field.__wrapped__  # strawberry must read this signature, not the resolver's
        return strawberry.mutation(field, description=description)

    return decorate
