"""The /graphql endpoint: JSON over POST (GET for queries), no batches, GraphiQL in
development, errors in the contract's format, orjson. Responses follow GraphQL over
HTTP: application/graphql-response+json (request errors are 4xx without `data`) when
the Accept header prefers it, else application/json (200 for whatever GraphQL says)."""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

import orjson
from graphql import ExecutionResult
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.http.ides import get_graphql_ide_html

from api import i18n
from api.credentials import AmbiguousCredentials, Presented, presented
from api.graphql.context import Context, Services
from api.graphql.errors import format_error, internal_error
from api.graphql.executor import Executor, MutationOverGet
from api.graphql.http import GRAPHQL_RESPONSE, JSON, content_type, media_type, negotiate
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
        locale=i18n.from_accept_language(request.headers.get("accept-language")),
    )


NO_STORE = {"cache-control": "no-store"}


def _refusal(
    message: str, code: str, status: int, media: str = JSON, headers: dict[str, str] | None = None
) -> Response:
    return _errors([{"message": message, "extensions": {"code": code}}], status, media, headers)


def _errors(errors: list[dict[str, Any]], status: int, media: str, headers: dict[str, str] | None = None) -> Response:
    """A request error: no `data` under graphql-response+json (the specification's sign
    that nothing ran), `data: null` under application/json as legacy clients expect."""
    body = {"errors": errors} if media == GRAPHQL_RESPONSE else {"data": None, "errors": errors}
    return Response(
        orjson.dumps(body), status_code=status, media_type=content_type(media), headers={**NO_STORE, **(headers or {})}
    )


def _bad_request(message: str, media: str = JSON) -> Response:
    return _refusal(message, "BAD_USER_INPUT", 400, media)


COOKIE_RULE = "A request authenticated by the session cookie must be JSON or carry an X-Requested-With header."


def _cookie_rule_broken(request: Request, credentials: Presented) -> bool:
    """A request that uses the session cookie must be one a browser cannot send
    cross-site without a CORS preflight: JSON, or a custom header. A plain form post or
    a GET link from another site is refused (only the GraphiQL page, with no operation,
    may be opened by a link)."""
    if credentials.source != "cookie" or "x-requested-with" in request.headers:
        return False
    if request.method == "POST":
        return media_type(request.headers.get("content-type")) != JSON
    return "query" in request.query_params


PARAMETERS = ("query", "variables", "operationName", "extensions")
Operation = tuple[str, dict[str, Any] | None, str | None]  # query, variables, operationName


async def _read_operation(request: Request) -> Operation | str:
    """The query, variables and operation name of a well-formed request, or why the
    request is not one."""
    if request.method == "GET":
        params = request.query_params
        if any(len(params.getlist(key)) > 1 for key in PARAMETERS):
            return "Give `query`, `variables`, `operationName` and `extensions` at most once each."
        if "query" not in params:
            return "No GraphQL query found in the request."
        # An empty optional parameter is the same as an absent one (GraphQL over HTTP, GET).
        data: Any = {"query": params["query"]}
        data.update((key, params[key]) for key in PARAMETERS[1:] if params.get(key))
        for key in ("variables", "extensions"):
            if key in data:
                try:
                    data[key] = orjson.loads(data[key])
                except orjson.JSONDecodeError:
                    return f"`{key}` is not valid JSON."
    else:
        if media_type(request.headers.get("content-type")) != JSON:
            return "Send the operation as application/json."
        try:
            data = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return "The body is not valid JSON."
        if isinstance(data, list):
            return "Batching is not supported: send one operation per request."
    if not isinstance(data, dict):
        return "The body must be a JSON object."
    query, variables, operation_name = data.get("query"), data.get("variables"), data.get("operationName")
    if not isinstance(query, str) or not query:
        return "`query` must be a non-empty string."
    if not isinstance(variables, (dict, type(None))):
        return "`variables` must be an object."
    if not isinstance(operation_name, (str, type(None))):
        return "`operationName` must be a string."
    if not isinstance(data.get("extensions"), (dict, type(None))):
        return "`extensions` must be an object."
    return query, variables, operation_name


def _is_request_error(result: ExecutionResult) -> bool:
    """Whether the operation never ran: no data, and no error located at a field (a
    field error always has a path; parse, validation, operation and variable errors
    never do)."""
    return result.data is None and bool(result.errors) and all(error.path is None for error in result.errors or ())


MUTATION_OVER_GET = "A mutation must be sent with POST."


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
        accepted = negotiate(request.headers.get("accept"))
        media = accepted or JSON  # what refusals use until the Accept header is judged
        try:
            credentials = presented(request.headers, request.state.services.settings.session_cookie_name)
        except AmbiguousCredentials:
            return _bad_request("The request carries its credentials more than once.", media)
        if _cookie_rule_broken(request, credentials):
            return _refusal(COOKIE_RULE, "FORBIDDEN", 403, media)
        wants_ide = (
            request.method == "GET"
            and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        )
        if wants_ide and self.ide_html is not None:
            return HTMLResponse(self.ide_html)
        if accepted is None:
            return _refusal(f"Accept {GRAPHQL_RESPONSE} or {JSON}.", "BAD_USER_INPUT", 406)
        operation = await _read_operation(request)
        if isinstance(operation, str):
            return _bad_request(operation, media)
        query, variables, operation_name = operation

        services: Services = request.state.services
        context = Context(request=request, services=services, meta=client_meta(request), credentials=credentials)
        try:
            await context.authenticate()
        except Exception:  # the database is unreachable: masked, logged with the request id
            log.exception("session lookup failed")
            await context.close()
            return _errors([internal_error(context.meta.request_id)], 503, media)
        try:
            result = await self.executor.run(
                query, variables, operation_name, context, allow_mutations=request.method == "POST"
            )
        except MutationOverGet:
            if media == GRAPHQL_RESPONSE:
                return _refusal(MUTATION_OVER_GET, "BAD_USER_INPUT", 405, media, {"allow": "POST"})
            return _bad_request(MUTATION_OVER_GET, media)
        finally:
            await context.close()
        errors = [
            format_error(error, context.meta.request_id, suggestions=self.suggestions, locale=context.locale)
            for error in result.errors or ()
        ]
        if media == GRAPHQL_RESPONSE and _is_request_error(result):
            response = _errors(errors, 400, media)
        else:
            body: dict[str, Any] = {"data": result.data}
            if errors:
                body["errors"] = errors
            response = Response(orjson.dumps(body), media_type=content_type(media), headers=NO_STORE)
        for cookie in context.cookie_headers:
            response.headers.append("set-cookie", cookie)
        response.headers["content-language"] = context.locale
        response.headers.append("vary", "Accept-Language")
        return response
