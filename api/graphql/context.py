"""Per-request GraphQL context: the request's one database session, who is asking,
and the cookie the response will carry."""

from __future__ import annotations

import asyncio

import asyncpg
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response

from api.auth import sessions
from api.auth.service import Guard
from api.auth.sessions import SessionInfo
from api.errors import Forbidden, Unauthenticated
from api.request_meta import Actor, RequestMeta
from api.settings import Settings

_UNRESOLVED = object()


def presented_token(request: Request, cookie_name: str) -> tuple[str | None, str | None]:
    """(token, source) from `Authorization: Bearer` or the session cookie."""
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip(), "bearer"
    cookie = request.cookies.get(cookie_name)
    return (cookie, "cookie") if cookie else (None, None)


@dataclass
class Services:
    """What the app builds once at start-up and every request shares."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    guard: Guard
    pool: asyncpg.Pool  # bare connections for the per-request session lookup


@dataclass
class Context:
    request: Request
    services: Services
    meta: RequestMeta
    # strawberry resolves sibling fields concurrently; the one session is used by one at a time.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _db: AsyncSession | None = None
    _session: object = _UNRESOLVED
    _response: Response | None = None

    @property
    def response(self) -> Response:
        """Headers (cookies) for the HTTP response; made only when a resolver sets one."""
        if self._response is None:
            self._response = Response()
        return self._response

    @property
    def cookie_headers(self) -> list[str]:
        return self._response.headers.getlist("set-cookie") if self._response is not None else []

    @property
    def settings(self) -> Settings:
        return self.services.settings

    def db(self) -> AsyncSession:
        if self._db is None:
            self._db = self.services.sessionmaker()
        return self._db

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """The request's session for a read, one resolver at a time."""
        async with self.lock:
            yield self.db()

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    # --- authentication -------------------------------------------------------------

    def presented_token(self) -> tuple[str | None, str | None]:
        return presented_token(self.request, self.settings.session_cookie_name)

    async def authenticate(self) -> None:
        """Looks up the presented session once, before the operation runs, so resolvers
        read it without awaiting (a fully synchronous execution is much cheaper)."""
        if self._session is _UNRESOLVED:
            token, _ = self.presented_token()
            self._session = await sessions.resolve(self.services.pool, token) if token else None

    @property
    def session(self) -> SessionInfo | None:
        """The session found by `authenticate` (None when there is none)."""
        if self._session is _UNRESOLVED:
            raise RuntimeError("Context.authenticate() has not run")
        return self._session  # type: ignore[return-value]

    async def session_info(self) -> SessionInfo | None:
        await self.authenticate()
        return self._session  # type: ignore[return-value]

    async def full_session(self) -> SessionInfo:
        info = await self.session_info()
        if info is None or info.stage != "full":
            raise Unauthenticated()
        return info

    async def session_in_stage(self, *stages: str) -> SessionInfo:
        """A session of one of these stages (a pending MFA session can only verify; an
        enrollment session can only enroll), else UNAUTHENTICATED."""
        info = await self.session_info()
        if info is None or info.stage not in stages:
            raise Unauthenticated()
        return info

    async def actor(self) -> Actor:
        """The user behind a full session, or UNAUTHENTICATED."""
        info = await self.session_info()
        if info is None or info.stage != "full":
            raise Unauthenticated()
        return info.actor

    async def admin(self) -> Actor:
        actor = await self.actor()
        if not actor.is_admin:
            raise Forbidden()
        return actor

    # --- the cookie -----------------------------------------------------------------

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
            self.settings.session_cookie_name, path="/", secure=bool(self.settings.cookie_secure), httponly=True, samesite="lax"
        )
