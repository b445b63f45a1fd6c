"""Per-request GraphQL context: who is asking, the request's one database session (used
by one resolver at a time), the units of work of its mutations, and the cookie the
response will carry."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError
from starlette.requests import Request
from starlette.responses import Response

from api import i18n
from api.credentials import NOTHING, Presented
from api.operators import sessions as operator_sessions
from api.operators.sessions import OperatorSessionInfo
from api.request_meta import Actor, ApplicationActor, OperatorActor, RequestMeta
from api.security import sessions
from api.security.sessions import SessionInfo
from api.services import Services
from api.settings import Settings
from api.webhooks import applications
from api.work import Work
from db.engine import UnitOfWorkSession
from db.enums import SessionStage

__all__ = ["Context", "Services"]

_UNRESOLVED = object()
T = TypeVar("T")
log = logging.getLogger("api.graphql")


@dataclass
class Context:
    request: Request
    services: Services
    meta: RequestMeta
    credentials: Presented = NOTHING
    # strawberry resolves sibling fields concurrently; the one session is used by one at a time.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _db: UnitOfWorkSession | None = None
    _inflight: set[asyncio.Future[Any]] = field(default_factory=set)
    _session: SessionInfo | object | None = _UNRESOLVED
    _operator: OperatorSessionInfo | None = None
    _application: ApplicationActor | None = None
    _response: Response | None = None

    @property
    def settings(self) -> Settings:
        return self.services.settings

    # --- the database -----------------------------------------------------------------

    def db(self) -> UnitOfWorkSession:
        if self._db is None:
            self._db = self.services.sessionmaker()
        return self._db

    def work(
        self, actor: Actor | None, operator: OperatorActor | None = None, application: ApplicationActor | None = None
    ) -> Work:
        """What a service needs, on this request's session."""
        return Work(
            db=self.db(),
            settings=self.settings,
            attempts=self.services.attempts,
            meta=self.meta,
            actor=actor,
            operator=operator,
            application=application,
        )

    async def read(self, work: Callable[[Work], Awaitable[T]]) -> T:
        """Run a read on the request's session, one resolver at a time. The work is
        shielded: when graphql-core cancels a resolver because a sibling failed, its
        database round-trip still completes (a cancelled one would leave the session
        half-way through acquiring its connection), and `close` waits for it."""
        actor = self.session.actor if self.session is not None and self.session.stage == SessionStage.FULL else None
        operator = self._operator.actor if self._operator is not None else None

        def reading() -> Work:
            return replace(self.work(actor, operator, self._application), pool=self.services.pool)

        async def locked() -> T:
            async with self.lock:
                try:
                    return await work(reading())
                except DBAPIError as error:
                    if not error.connection_invalidated:
                        raise
                    # The database restarted since this connection was pooled: once more,
                    # on a new one (the pool was invalidated with it).
                    await self.db().rollback()
                    return await work(reading())

        task = asyncio.ensure_future(locked())
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        return await asyncio.shield(task)

    async def close(self) -> None:
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)
        if self._db is not None:
            db, self._db = self._db, None
            try:
                await db.close()
            except Exception:  # a session that cannot close cleanly gives its connection up
                log.warning("closing the request's database session failed", exc_info=True)
                await db.invalidate()

    # --- authentication -------------------------------------------------------------

    def presented_token(self) -> tuple[str | None, str | None]:
        return self.credentials.token, self.credentials.source

    async def authenticate(self) -> None:
        """Looks up the presented session once, before the operation runs, so resolvers
        read it without awaiting (a fully synchronous execution is much cheaper)."""
        if self._session is _UNRESOLVED:
            token = self.credentials.token
            if applications.is_api_key(token):
                assert token is not None
                # Applications are back ends: their keys count in the Authorization header only.
                if self.credentials.source == "bearer":
                    self._application = await applications.resolve_key(self.services.pool, token)
                self._session = None
            elif operator_sessions.is_operator_token(token):
                assert token is not None
                self._operator = await operator_sessions.resolve(self.services.pool, self.settings, token)
                self._session = None
            else:
                self._session = await sessions.resolve(self.services.pool, token) if token else None

    @property
    def session(self) -> SessionInfo | None:
        """The session found by `authenticate` (None when there is none)."""
        if not isinstance(self._session, SessionInfo | None):
            raise RuntimeError("Context.authenticate() has not run")
        return self._session

    @property
    def locale(self) -> str:
        """What this request's messages are in: the signed-in account's locale, else the
        client's Accept-Language. Never the locale of an account an anonymous request names
        (a login, a reset): that would tell whether the account exists."""
        session = self._session if isinstance(self._session, SessionInfo) else None
        return session.locale if session else (self.meta.locale or i18n.DEFAULT_LOCALE)

    @property
    def operator(self) -> OperatorSessionInfo | None:
        """The operator session found by `authenticate` (an operator is never also a user)."""
        _ = self.session
        return self._operator

    @property
    def application(self) -> ApplicationActor | None:
        """The connected application whose API key was presented."""
        _ = self.session
        return self._application

    # --- the cookie -----------------------------------------------------------------

    @property
    def response(self) -> Response:
        """Headers (cookies) for the HTTP response; made only when a resolver sets one."""
        if self._response is None:
            self._response = Response()
        return self._response

    @property
    def cookie_headers(self) -> list[str]:
        return self._response.headers.getlist("set-cookie") if self._response is not None else []

    def cookie_mark(self) -> int:
        return len(self.cookie_headers)

    def reset_cookies(self, mark: int) -> None:
        """Drop the cookies set since `mark` (a unit of work that is run again)."""
        if self._response is not None:
            kept = self.cookie_headers[:mark]
            del self._response.headers["set-cookie"]
            for cookie in kept:
                self._response.headers.append("set-cookie", cookie)

    def set_session_cookie(self, token: str) -> None:
        # No Max-Age or Expires: the cookie ends with the browser; the server enforces timeouts.
        self.response.set_cookie(
            self.settings.session_cookie_name,
            token,
            path="/",
            secure=bool(self.settings.cookie_secure),
            httponly=True,
            samesite="lax",
        )

    def clear_session_cookie(self) -> None:
        self.response.delete_cookie(
            self.settings.session_cookie_name,
            path="/",
            secure=bool(self.settings.cookie_secure),
            httponly=True,
            samesite="lax",
        )
