"""The /graphql endpoint: JSON over POST (GET for queries), no batches, GraphiQL in
development, errors in the contract's format, orjson."""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.http.ides import get_graphql_ide_html

from api.credentials import AmbiguousCredentials, Presented, presented
from api.graphql.context import Context, Services
from api.graphql.errors import format_error, internal_error
from api.graphql.executor import Executor, MutationOverGet
from api.request_meta import RequestMeta

log = logging.getLogger("api.graphql")


def client_address(request: Request) -> str | None:
    """The client's IP address (a trusted proxy's X-Forwarded-For already applied), or
    None when what is there is not an address."""
    host = request.client.host if request.client else None
    try:
        return str(ipaddress.ip_address(host)) if host else None
    except ValueError:
        return None


def client_meta(request: Request) -> RequestMeta:
    user_agent = request.headers.get("user-agent")
    return RequestMeta(
        ip_address=client_address(request),
        user_agent=user_agent[:512] if user_agent else None,
        request_id=request.scope.get("state", {}).get("request_id") or RequestMeta().request_id,
    )


NO_STORE = {"cache-control": "no-store"}


def _refusal(message: str, code: str, status: int) -> Response:
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=NO_STORE)


def _bad_request(message: str) -> Response:
    return _refusal(message, "BAD_USER_INPUT", 400)


COOKIE_RULE = "A request authenticated by the session cookie must be JSON or carry an X-Requested-With header."


def _cookie_rule_broken(request: Request, credentials: Presented) -> bool:
    """A request that uses the session cookie must be one a browser cannot send
    cross-site without a CORS preflight: JSON, or a custom header. A plain form post or
    a GET link from another site is refused (only the GraphiQL page, with no operation,
    may be opened by a link)."""
    if credentials.source != "cookie" or "x-requested-with" in request.headers:
        return False
    if request.method == "POST":
        return not request.headers.get("content-type", "").lower().startswith("application/json")
    return "query" in request.query_params


def _unavailable(request_id: str) -> Response:
    body = {"data": None, "errors": [internal_error(request_id)]}
    return Response(orjson.dumps(body), status_code=503, media_type="application/json")


class GraphQLEndpoint:
    def __init__(self, executor: Executor, *, graphiql: bool, suggestions: bool) -> None:
        self.executor = executor
        self.suggestions = suggestions
        self.ide_html = get_graphql_ide_html("graphiql") if graphiql else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        try:
            credentials = presented(request.headers, request.state.services.settings.session_cookie_name)
        except AmbiguousCredentials:
            return _bad_request("The request carries its credentials more than once.")
        if _cookie_rule_broken(request, credentials):
            return _refusal(COOKIE_RULE, "FORBIDDEN", 403)
        if request.method == "GET":
            params = request.query_params
            if any(len(params.getlist(key)) > 1 for key in ("query", "variables", "operationName")):
                return _bad_request("Give `query`, `variables` and `operationName` at most once each.")
            if "query" not in params:
                if self.ide_html is not None and "text/html" in request.headers.get("accept", ""):
                    return HTMLResponse(self.ide_html)
                return _bad_request("No GraphQL query found in the request.")
            data: Any = {"query": request.query_params["query"], "operationName": request.query_params.get("operationName")}
            if "variables" in request.query_params:
                try:
                    data["variables"] = orjson.loads(request.query_params["variables"])
                except orjson.JSONDecodeError:
                    return _bad_request("`variables` is not valid JSON.")
        else:
            if not request.headers.get("content-type", "").lower().startswith("application/json"):
                return _bad_request("Send the operation as application/json.")
            try:
                data = orjson.loads(await request.body())
            except orjson.JSONDecodeError:
                return _bad_request("The body is not valid JSON.")
            if isinstance(data, list):
                return _bad_request("Batching is not supported: send one operation per request.")
        if not isinstance(data, dict):
            return _bad_request("The body must be a JSON object.")
        query, variables, operation_name = data.get("query"), data.get("variables"), data.get("operationName")
        if not isinstance(query, str) or not query:
            return _bad_request("`query` must be a non-empty string.")
        if not isinstance(variables, (dict, type(None))):
            return _bad_request("`variables` must be an object.")
        if not isinstance(operation_name, (str, type(None))):
            return _bad_request("`operationName` must be a string.")

        services: Services = request.state.services
        context = Context(request=request, services=services, meta=client_meta(request), credentials=credentials)
        try:
            await context.authenticate()
        except Exception:  # the database is unreachable: masked, logged with the request id
            log.error("session lookup failed", exc_info=True)
            await context.close()
            return _unavailable(context.meta.request_id)
        try:
            result = await self.executor.run(query, variables, operation_name, context, allow_mutations=request.method == "POST")
        except MutationOverGet:
            return _bad_request("A mutation must be sent with POST.")
        finally:
            await context.close()
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [format_error(error, context.meta.request_id, suggestions=self.suggestions) for error in result.errors]
        response = Response(orjson.dumps(body), media_type="application/json", headers=NO_STORE)
        for cookie in context.cookie_headers:
            response.headers.append("set-cookie", cookie)
        return response
