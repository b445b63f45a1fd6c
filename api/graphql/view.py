"""The /graphql endpoint: strawberry's ASGI view with our context, error format and JSON."""

from __future__ import annotations

from typing import Any

import orjson
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET
from starlette.requests import Request
from starlette.responses import Response

from api.graphql.context import Context, Services
from api.graphql.errors import format_error
from api.request_meta import RequestMeta


def client_meta(request: Request) -> RequestMeta:
    user_agent = request.headers.get("user-agent")
    return RequestMeta(
        ip_address=request.client.host if request.client else None,
        user_agent=user_agent[:512] if user_agent else None,
        request_id=request.scope.get("state", {}).get("request_id") or RequestMeta().request_id,
    )


class GraphQLView(GraphQL):  # type: ignore[type-arg]
    async def get_context(self, request: Request, response: Response) -> Context:  # type: ignore[override]
        services: Services = request.state.services
        context = Context(request=request, response=response, services=services, meta=client_meta(request))
        request.state.graphql_context = context
        return context

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)
        finally:
            context = getattr(request.state, "graphql_context", None)
            if context is not None:
                await context.close()

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:  # type: ignore[override]
        out: dict[str, Any] = {"data": result.data}
        if result.errors:
            request_id = request.scope.get("state", {}).get("request_id", "")
            out["errors"] = [format_error(error, request_id) for error in result.errors]
        return out  # type: ignore[return-value]

    def encode_json(self, data: object) -> bytes:  # type: ignore[override]
        return orjson.dumps(data)
