"""Audit scenarios of the outbound-event mutations (tests/audit/test_mutation_coverage.py):
each sets the stage and returns the mutation as the act. The receivers need not answer:
nothing here waits for a delivery."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from tests.helpers import ADD_USER, PASSWORD, Api, Browser
from tests.queries import REQUEST_EXPORT
from tests.tenancy.common import operator_browser
from tests.webhooks.support import (
    CONFIRM_ERASURE,
    CREATE_APPLICATION,
    CREATE_ENDPOINT,
    CREATE_KEY,
    DELIVER_PART,
    Receiver,
    application,
)

Act = Callable[[], Awaitable[None]]


def _an_hour_ago() -> str:
    return (datetime.now(UTC) - timedelta(hours=1)).isoformat()


NOWHERE = "http://127.0.0.1:9/hook"  # the discard port: nothing listens


async def _endpoint(api: Api) -> tuple[Browser, str]:
    owner = await api.owner("acme")
    made = await owner.browser.gql(CREATE_ENDPOINT, {"input": {"url": NOWHERE, "eventTypes": ["user.created"]}})
    return owner.browser, made.ok("createWebhookEndpoint")["endpoint"]["id"]


def _act(browser: Browser, query: str, name: str, variables: dict[str, object] | None = None) -> Act:
    async def act() -> None:
        (await browser.gql(query, variables or {})).ok(name)

    return act


async def s_create_webhook_endpoint(api: Api) -> Act:
    owner = await api.owner("acme")
    return _act(
        owner.browser,
        CREATE_ENDPOINT,
        "createWebhookEndpoint",
        {"input": {"url": NOWHERE, "eventTypes": ["user.created"]}},
    )


async def s_update_webhook_endpoint(api: Api) -> Act:
    browser, endpoint_id = await _endpoint(api)
    query = "mutation($id: ID!) { updateWebhookEndpoint(input: {id: $id, enabled: false}) { errors { code } } }"
    return _act(browser, query, "updateWebhookEndpoint", {"id": endpoint_id})


async def s_delete_webhook_endpoint(api: Api) -> Act:
    browser, endpoint_id = await _endpoint(api)
    return _act(
        browser,
        "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { errors { code } } }",
        "deleteWebhookEndpoint",
        {"id": endpoint_id},
    )


async def s_rotate_webhook_endpoint_secret(api: Api) -> Act:
    browser, endpoint_id = await _endpoint(api)
    query = "mutation($id: ID!) { rotateWebhookEndpointSecret(id: $id) { signingSecret errors { code } } }"
    return _act(browser, query, "rotateWebhookEndpointSecret", {"id": endpoint_id})


async def s_replay_webhook_endpoint(api: Api) -> Act:
    browser, endpoint_id = await _endpoint(api)
    query = "mutation($i: ReplayInput!) { replayWebhookEndpoint(input: $i) { queued errors { code } } }"
    return _act(browser, query, "replayWebhookEndpoint", {"i": {"id": endpoint_id, "since": _an_hour_ago()}})


async def s_retry_webhook_delivery(api: Api) -> Act:
    browser, _ = await _endpoint(api)
    await browser.gql(ADD_USER, {"input": {"username": "mia", "email": "mia@acme.example"}})
    for _ in range(200):  # its first attempt has failed (nothing listens) and it waits for the next
        if await api.count("webhook_delivery", "attempts >= 1 AND locked_until IS NULL"):
            break
        await asyncio.sleep(0.05)
    delivery_id = await api.db.fetchval("SELECT id::text FROM webhook_delivery")
    query = "mutation($id: ID!) { retryWebhookDelivery(id: $id) { errors { code } } }"
    return _act(browser, query, "retryWebhookDelivery", {"id": delivery_id})


async def s_confirm_erasure(api: Api) -> Act:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    operator, _ = await operator_browser(api)
    crm = await application(api, operator, Receiver(url=NOWHERE), "crm", erasure=True)
    delete = "mutation($p: String!) { deleteAccount(input: {password: $p}) { errors { code } } }"
    (await member.browser.gql(delete, {"p": PASSWORD})).ok("deleteAccount")
    request_id = await api.db.fetchval("SELECT id::text FROM data_request WHERE kind = 'ERASURE'")
    client = api.browser()

    async def act() -> None:
        (await client.gql(CONFIRM_ERASURE, {"id": request_id}, **crm.headers())).ok("confirmErasure")

    return act


async def s_deliver_export_part(api: Api) -> Act:
    owner = await api.owner("acme")
    operator, _ = await operator_browser(api)
    crm = await application(api, operator, Receiver(url=NOWHERE), "crm", export=True)
    request_id = (await owner.browser.gql(REQUEST_EXPORT)).ok("requestDataExport")["dataRequest"]["id"]
    client = api.browser()

    async def act() -> None:
        (await client.gql(DELIVER_PART, {"id": request_id, "data": {"x": 1}}, **crm.headers())).ok("deliverExportPart")

    return act


# --- in the operators' log -------------------------------------------------------------


async def _application(api: Api) -> tuple[Browser, str]:
    operator, _ = await operator_browser(api)
    made = await operator.gql(CREATE_APPLICATION, {"input": {"name": "crm", "webhookUrl": NOWHERE}})
    return operator, made.ok("createApplication")["application"]["id"]


async def s_create_application(api: Api) -> Act:
    operator, _ = await operator_browser(api)
    return _act(operator, CREATE_APPLICATION, "createApplication", {"input": {"name": "crm", "webhookUrl": NOWHERE}})


async def s_update_application(api: Api) -> Act:
    operator, app_id = await _application(api)
    query = "mutation($id: ID!) { updateApplication(input: {id: $id, takesErasure: true}) { errors { code } } }"
    return _act(operator, query, "updateApplication", {"id": app_id})


async def s_delete_application(api: Api) -> Act:
    operator, app_id = await _application(api)
    return _act(
        operator,
        "mutation($id: ID!) { deleteApplication(id: $id) { errors { code } } }",
        "deleteApplication",
        {"id": app_id},
    )


async def s_rotate_application_secret(api: Api) -> Act:
    operator, app_id = await _application(api)
    query = "mutation($id: ID!) { rotateApplicationSecret(id: $id) { signingSecret errors { code } } }"
    return _act(operator, query, "rotateApplicationSecret", {"id": app_id})


async def s_replay_application(api: Api) -> Act:
    operator, app_id = await _application(api)
    query = "mutation($i: ReplayInput!) { replayApplication(input: $i) { queued errors { code } } }"
    return _act(operator, query, "replayApplication", {"i": {"id": app_id, "since": _an_hour_ago()}})


async def s_create_api_key(api: Api) -> Act:
    operator, app_id = await _application(api)
    return _act(operator, CREATE_KEY, "createApiKey", {"input": {"applicationId": app_id, "name": "main"}})


async def s_revoke_api_key(api: Api) -> Act:
    operator, app_id = await _application(api)
    made = await operator.gql(CREATE_KEY, {"input": {"applicationId": app_id, "name": "main"}})
    key_id = made.ok("createApiKey")["apiKey"]["id"]
    return _act(
        operator, "mutation($id: ID!) { revokeApiKey(id: $id) { errors { code } } }", "revokeApiKey", {"id": key_id}
    )
