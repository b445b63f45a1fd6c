"""Counting SQL statements per request, for tests that hold the query budget: every
statement on either driver path (SQLAlchemy, and the bare asyncpg lookup pool)
increments the counter of the request that runs it."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_current: ContextVar[list[int] | None] = ContextVar("sql_statements", default=None)
_texts: ContextVar[list[str] | None] = ContextVar("sql_texts", default=None)
# The statements of the most recent request, for tests that look at what was asked.
LAST_REQUEST: list[str] = []


def _note(statement: str) -> None:
    counter = _current.get()
    if counter is not None:
        counter[0] += 1
    texts = _texts.get()
    if texts is not None:
        texts.append(statement)


def _count(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
    _note(statement)


def _log_asyncpg(record: Any) -> None:
    _note(getattr(record, "query", ""))


def install_sqlalchemy_hook() -> None:
    if not event.contains(Engine, "before_cursor_execute", _count):
        event.listen(Engine, "before_cursor_execute", _count)


async def init_asyncpg_connection(connection: Any) -> None:
    connection.add_query_logger(_log_asyncpg)


class SqlCountMiddleware:
    """Adds X-SQL-Statements to each response (enabled by SQL_COUNT_HEADER, for tests)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        install_sqlalchemy_hook()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        counter = [0]
        texts: list[str] = []
        token = _current.set(counter)
        texts_token = _texts.set(texts)

        async def send_with_count(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-sql-statements", str(counter[0]).encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_count)
        finally:
            _current.reset(token)
            _texts.reset(texts_token)
            LAST_REQUEST[:] = texts
