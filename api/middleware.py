"""ASGI middleware: a request id on every request (also in the response header)."""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.observability import request_id_var

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Takes a well-formed X-Request-ID from the caller (a proxy's), else makes one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_ID.fullmatch(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        request_id_var.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        await self.app(scope, receive, send_with_id)


_REFUSED = (
    b'{"data":null,"errors":[{"message":"A request authenticated by the session cookie must be JSON '
    b'or carry an X-Requested-With header.","extensions":{"code":"FORBIDDEN"}}]}'
)


class CookieCsrfMiddleware:
    """Refuses a GraphQL operation that carries the session cookie unless a browser could
    not have sent it cross-site without a CORS preflight: a JSON content type, or a custom
    header. A plain form post or a GET link from another site gets 403."""

    def __init__(self, app: ASGIApp, cookie_name: str) -> None:
        self.app = app
        self.cookie = cookie_name.encode() + b"="

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/graphql" and scope["method"] in ("GET", "POST") and self._refuse(scope):
            await send({"type": "http.response.start", "status": 403, "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": _REFUSED})
            return
        await self.app(scope, receive, send)

    def _refuse(self, scope: Scope) -> bool:
        headers = dict(scope["headers"])
        cookies = headers.get(b"cookie", b"")
        if not any(part.strip().startswith(self.cookie) for part in cookies.split(b";")):
            return False
        if b"x-requested-with" in headers:
            return False
        if scope["method"] == "POST":
            return not headers.get(b"content-type", b"").lower().startswith(b"application/json")
        # GET: only the GraphiQL page (no operation in the URL) is harmless.
        return b"query=" in scope.get("query_string", b"")
