"""Real HTTP receivers for outbound events (small servers on loopback, started by the
tests), and set-up of endpoints and connected applications through the API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.helpers import Api, Browser

Handler = Callable[["Received"], Awaitable[int]]


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    """Answers each POST with `status(...)` (200 by default), keeping what came: every
    request, and the ones it accepted (a 2xx)."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    accepted: list[Received] = field(default_factory=list)
    respond: Handler | None = None
    secret: str | None = None

    def verified(self) -> list[dict[str, Any]]:
        """Every accepted body, each verified with the standardwebhooks library itself."""
        assert self.secret, "set the receiver's signing secret first"
        hook = Webhook(self.secret)
        return [hook.verify(r.body, r.headers) for r in self.accepted]

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in self.verified() if e["type"] == event_type]

    async def wait_for(self, predicate: Callable[[Receiver], bool], timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"the receiver did not get what was expected: {len(self.accepted)} accepted")
            await asyncio.sleep(0.05)

    async def wait_for_type(self, event_type: str, count: int = 1, timeout: float = 20) -> list[dict[str, Any]]:
        await self.wait_for(lambda r: len(r.of_type(event_type)) >= count, timeout)
        return self.of_type(event_type)


@contextlib.asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    got = Receiver()

    async def hook(request: Request) -> Response:
        received = Received(dict(request.headers), await request.body(), time.monotonic())
        got.requests.append(received)
        status = await got.respond(received) if got.respond else 200
        if 200 <= status < 300:
            got.accepted.append(received)
        return Response(status_code=status)

    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    got.url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    try:
        yield got
    finally:
        server.should_exit = True
        await task


CREATE_ENDPOINT = """
mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) {
  endpoint { id url eventTypes enabled } signingSecret errors { field code message } } }
"""
ENDPOINT_DELIVERIES = """
query($status: DeliveryStatus) { webhookEndpoints { id enabled disabledReason failingSince
  deliveries(status: $status) { edges { node { id eventId eventType status attemptCount lastStatusCode lastError
    attempts { statusCode error latencyMs } } } } } }
"""
CREATE_APPLICATION = """
mutation($input: CreateApplicationInput!) { createApplication(input: $input) {
  application { id name } signingSecret errors { field code message } } }
"""
CREATE_KEY = """
mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id prefix } key errors { field code } } }
"""
CONFIRM_ERASURE = """
mutation($id: ID!) { confirmErasure(input: {dataRequestId: $id}) { ok status errors { field code } } }
"""
DELIVER_PART = """
mutation($id: ID!, $data: JSON!) { deliverExportPart(input: {dataRequestId: $id, data: $data}) {
  ok status errors { field code message } } }
"""


async def deliveries_in(admin: Browser, status: str, timeout: float = 10) -> list[dict[str, Any]]:
    """The (first) endpoint's deliveries in `status`, once there are any: the sender records
    an outcome in a transaction of its own, after the receiver has answered."""
    deadline = time.monotonic() + timeout
    while True:
        found = (await admin.gql(ENDPOINT_DELIVERIES, {"status": status})).data["webhookEndpoints"][0]["deliveries"]
        if found["edges"]:
            return [edge["node"] for edge in found["edges"]]
        if time.monotonic() > deadline:
            raise AssertionError(f"no {status} delivery within {timeout}s")
        await asyncio.sleep(0.05)


async def endpoint(admin: Browser, got: Receiver, types: list[str]) -> str:
    made = (await admin.gql(CREATE_ENDPOINT, {"input": {"url": got.url, "eventTypes": types}})).ok(
        "createWebhookEndpoint"
    )
    got.secret = made["signingSecret"]
    return str(made["endpoint"]["id"])


@dataclass
class Connected:
    id: str
    key: str
    receiver: Receiver

    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.key}"}


async def application(
    api: Api,
    operator: Browser,
    got: Receiver,
    name: str,
    *,
    types: list[str] | None = None,
    erasure: bool = False,
    export: bool = False,
) -> Connected:
    made = (
        await operator.gql(
            CREATE_APPLICATION,
            {
                "input": {
                    "name": name,
                    "webhookUrl": got.url,
                    "eventTypes": types or [],
                    "takesErasure": erasure,
                    "takesExport": export,
                }
            },
        )
    ).ok("createApplication")
    got.secret = made["signingSecret"]
    key = (await operator.gql(CREATE_KEY, {"input": {"applicationId": made["application"]["id"], "name": "main"}})).ok(
        "createApiKey"
    )
    return Connected(made["application"]["id"], key["key"], got)
