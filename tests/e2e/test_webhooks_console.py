"""Outbound events in the console, in Chromium, with real receivers (loopback servers the
tests start) and the real worker: an administrator's webhook endpoint with its secret shown
once and checked by the receiver with the standardwebhooks library, its deliveries, retry
and replay; an operator's connected application with its API keys; the applications'
parts on data requests, for administrators and for the person who asked."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook

from api import clock
from tests.e2e.browser import expect, open_page, shot
from tests.helpers import ADD_USER, PASSWORD, Api, login
from tests.operators.support import signed_in_operator
from tests.queries import REQUEST_EXPORT
from tests.tenancy.common import operator_browser
from tests.webhooks.support import Received, Receiver, application, receiver

SESSION_INFO = "query($t: String!) { sessionInfo(token: $t) { tenantSlug } }"
DELETE_ACCOUNT = "mutation($p: String!) { deleteAccount(input: {password: $p}) { ok errors { code } } }"


async def as_user(chromium: Any, api: Api, cookie: str | None, path: str) -> tuple[Any, list[str], list[str]]:
    """A page signed in with a session made over the API, opened at `path`; its script
    errors; and the messages of the confirmation dialogs, which are accepted."""
    assert cookie
    page, errors = await open_page(chromium, permissions=["clipboard-read", "clipboard-write"])
    await page.context.add_cookies([{"name": api.settings.session_cookie_name, "value": cookie, "url": api.base_url}])
    dialogs: list[str] = []

    async def accept(dialog: Any) -> None:
        dialogs.append(dialog.message)
        await dialog.accept()

    page.on("dialog", accept)
    await page.goto(api.base_url + path)
    return page, errors, dialogs


async def add_endpoint(page: Any, got: Receiver, types: list[str]) -> str:
    """Adds an endpoint through the page; the secret shown once is copied with the Copy
    button (read back from the clipboard) and given to the receiver."""
    add = page.get_by_role("region", name="Add an endpoint")
    await add.get_by_label("URL", exact=True).fill(got.url)
    for name in types:
        await add.get_by_label(name, exact=True).check()
    await add.get_by_label("Description", exact=True).fill("Our SIEM")
    await add.get_by_role("button", name="Add endpoint").click()
    panel = page.get_by_role("region", name=f"Signing secret for {got.url}")
    await panel.get_by_text("Copy it now: it will not be shown again.").wait_for()
    await panel.get_by_role("button", name="Copy").click()
    await panel.get_by_text("Copied.").wait_for()
    secret = await page.evaluate("navigator.clipboard.readText()")
    assert secret.startswith("whsec_") and secret == await panel.get_by_test_id("shown-once").text_content()
    got.secret = secret
    return str(secret)


async def test_an_administrator_adds_an_endpoint_and_its_receiver_verifies_what_comes(api: Api, chromium: Any) -> None:
    owner = await api.owner("acme")
    async with receiver() as got:
        page, errors, dialogs = await as_user(chromium, api, owner.browser.session_cookie, "/account")
        await page.get_by_role("heading", name="Profile", exact=True).wait_for()
        await page.get_by_role("link", name="Webhooks", exact=True).click()
        await page.get_by_role("heading", name="Webhooks", exact=True).wait_for()
        await page.get_by_text("No endpoints yet.").wait_for()

        # No event type chosen: said next to the group of checkboxes.
        add = page.get_by_role("region", name="Add an endpoint")
        await add.get_by_label("URL", exact=True).fill(got.url)
        await add.get_by_role("button", name="Add endpoint").click()
        await add.get_by_text("Choose at least one event type.").wait_for()
        await expect(add.get_by_role("group", name="Event types")).to_have_attribute("aria-invalid", "true")
        assert await add.get_by_label("export.requested", exact=True).count() == 0  # applications' only

        secret = await add_endpoint(page, got, ["user.created"])
        endpoint = page.get_by_role("region", name=f"Endpoint {got.url}")
        await expect(endpoint.get_by_text("Enabled", exact=True)).to_have_count(1)

        # An event is caused; the receiver checks its signature with the secret from the page.
        (await owner.browser.gql(ADD_USER, {"input": {"username": "mia", "email": "mia@acme.example"}})).ok("addUser")
        [event] = await got.wait_for_type("user.created")  # each accepted body verified with the secret
        assert event["data"]["username"] == "mia"
        [came] = got.accepted
        assert Webhook(secret).verify(came.body, came.headers) == event
        await endpoint.get_by_role("button", name="Refresh").click()
        deliveries = endpoint.get_by_role("table", name=f"Deliveries to {got.url}")
        row = deliveries.locator("tbody tr").first
        await expect(row).to_have_attribute("data-status", "SUCCEEDED")
        assert got.accepted[0].id in await row.text_content()  # the webhook-id the receiver got
        assert "HTTP 200" in await row.get_by_role("list", name="Attempts of user.created").text_content()
        await page.get_by_role("button", name="I have stored it").click()
        await expect(page.get_by_test_id("shown-once")).to_have_count(0)

        # Edit: one more type; a bad URL is refused next to its field.
        await endpoint.get_by_text("Edit", exact=True).click()
        edit = endpoint.locator("details form")
        await edit.get_by_label("URL", exact=True).fill("ftp://example.com/")
        await edit.get_by_role("button", name="Save changes").click()
        await expect(edit.get_by_label("URL", exact=True)).to_have_attribute("aria-invalid", "true")
        await edit.get_by_label("URL", exact=True).fill(got.url)
        await edit.get_by_label("consent.withdrawn", exact=True).check()
        await edit.get_by_role("button", name="Save changes").click()
        await page.get_by_text(f"Saved {got.url}.").wait_for()
        assert await endpoint.get_by_role("definition").filter(has_text="user.created, consent.withdrawn").count() == 1

        # Disabled by hand, and enabled again.
        await endpoint.get_by_role("button", name="Disable").click()
        await expect(endpoint.get_by_text("Disabled: disabled by an administrator")).to_have_count(1)
        await endpoint.get_by_role("button", name="Enable").click()
        await page.get_by_text("Events made while it was disabled were not sent").wait_for()

        # A new secret, shown once; what is sent from now on is signed with it.
        await endpoint.get_by_role("button", name="New signing secret").click()
        rotated = page.get_by_role("region", name=f"New signing secret for {got.url}")
        new_secret = await rotated.get_by_test_id("shown-once").text_content()
        assert new_secret and new_secret != secret and "receiver needs it at once" in dialogs[-1]
        got.secret = new_secret
        got.accepted.clear()  # signed with the old one
        (await owner.browser.gql(ADD_USER, {"input": {"username": "max", "email": "max@acme.example"}})).ok("addUser")
        [event] = await got.wait_for_type("user.created")
        assert event["data"]["username"] == "max"
        await page.reload()
        await expect(page.get_by_test_id("shown-once")).to_have_count(0)  # once means once

        # Deleted, after a confirmation.
        await endpoint.get_by_role("button", name="Delete").click()
        await page.get_by_text(f"Deleted {got.url}.").wait_for()
        assert "Delete the endpoint" in dialogs[-1]
        await page.get_by_text("No endpoints yet.").wait_for()
        assert await api.count("webhook_endpoint") == 0
        assert errors == []


@pytest.mark.parametrize("settings_overrides", [{"webhook_retry_schedule": []}])
async def test_a_failed_delivery_shows_its_error_and_is_retried_and_replayed_from_the_page(
    api: Api, chromium: Any
) -> None:
    owner = await api.owner("acme")
    async with receiver() as got:
        up = False

        async def flaky(_: Received) -> int:
            return 200 if up else 500

        got.respond = flaky
        page, errors, _ = await as_user(chromium, api, owner.browser.session_cookie, "/admin/webhooks")
        await page.get_by_role("heading", name="Webhooks", exact=True).wait_for()
        await add_endpoint(page, got, ["user.created"])
        started = datetime.now(UTC) - timedelta(minutes=1)
        for name in ("mia", "max"):
            (await owner.browser.gql(ADD_USER, {"input": {"username": name, "email": f"{name}@acme.example"}})).ok(
                "addUser"
            )
        for _ in range(200):  # both attempts made and recorded
            if await api.count("webhook_delivery", "status = 'FAILED'") == 2:
                break
            await asyncio.sleep(0.05)

        endpoint = page.get_by_role("region", name=f"Endpoint {got.url}")
        await endpoint.get_by_label("Show", exact=True).select_option("FAILED")
        deliveries = endpoint.get_by_role("table", name=f"Deliveries to {got.url}")
        failed = deliveries.locator("tbody tr[data-status='FAILED']")
        await expect(failed).to_have_count(2)
        assert "HTTP 500" in await failed.first.text_content()  # the error, and the attempt's status code
        newest_id = await failed.first.get_attribute("data-delivery")
        await page.reload()  # the card's state says since when it fails; the filter is back to all
        await expect(endpoint.get_by_text("Failing since")).to_have_count(1)

        # The receiver recovers: "Retry now" on the newest, which then succeeds.
        up = True
        newest = deliveries.locator(f"tr[data-delivery='{newest_id}']")
        await newest.get_by_role("button", name="Retry now").click()
        await expect(newest).to_have_attribute("data-status", "SUCCEEDED", timeout=15_000)
        attempts = newest.get_by_role("list", name="Attempts of user.created").locator("li")
        await expect(attempts).to_have_count(2)
        assert "HTTP 500" in await attempts.nth(0).text_content() and "HTTP 200" in await attempts.nth(1).text_content()
        await expect(endpoint.get_by_text("Enabled", exact=True)).to_have_count(1)  # failing no more
        await shot(page, "webhooks")

        # Replay since a time before both: only the one still not received is sent again.
        replay = endpoint.get_by_label("Replay events since", exact=True)
        await replay.fill(started.astimezone().strftime("%Y-%m-%dT%H:%M"))
        await endpoint.get_by_role("button", name="Replay").click()
        await endpoint.get_by_text("1 event queued to be sent again.").wait_for()
        await got.wait_for(lambda r: len({x.id for x in r.accepted}) == 2)
        assert sorted(e["data"]["username"] for e in got.of_type("user.created")) == ["max", "mia"]
        # Too long ago: said next to the field.
        await replay.fill("2020-01-01T00:00")
        await endpoint.get_by_role("button", name="Replay").click()
        await endpoint.get_by_text("Events are kept for 14 days").wait_for()
        await expect(replay).to_have_attribute("aria-invalid", "true")
        assert errors == []


async def test_an_operator_registers_an_application_and_manages_its_api_keys(api: Api, chromium: Any) -> None:
    owner = await api.owner("acme")
    staff = await signed_in_operator(api, "olivia")
    assert staff.browser is not None
    async with receiver() as got:
        page, errors, dialogs = await as_user(chromium, api, staff.browser.session_cookie, "/operator/tenants")
        await page.get_by_role("heading", name="Tenants", exact=True).wait_for()  # before going on from it
        await page.get_by_role("link", name="Applications", exact=True).click()
        await page.get_by_role("heading", name="Applications", exact=True).wait_for()
        await page.get_by_text("No applications yet.").wait_for()

        register = page.get_by_role("region", name="Register an application")
        await register.get_by_label("Name", exact=True).fill("crm")
        await register.get_by_label("Webhook URL", exact=True).fill("https://10.0.0.1/hook")
        await register.get_by_label("user.created", exact=True).check()
        await register.get_by_label("Takes part in erasure (confirms each erasure)").check()
        await register.get_by_role("button", name="Register application").click()
        await expect(register.get_by_label("Webhook URL", exact=True)).to_have_attribute("aria-invalid", "true")
        await register.get_by_label("Webhook URL", exact=True).fill(got.url)
        await register.get_by_role("button", name="Register application").click()
        panel = page.get_by_role("region", name="Signing secret for crm")
        await panel.get_by_text("it will not be shown again").wait_for()
        got.secret = await panel.get_by_test_id("shown-once").text_content()

        crm = page.get_by_role("region", name="Application crm")
        assert await crm.get_by_role("definition").filter(has_text="erasure").count() == 1
        (await owner.browser.gql(ADD_USER, {"input": {"username": "mia", "email": "mia@acme.example"}})).ok("addUser")
        [event] = await got.wait_for_type("user.created")  # verified with the secret from the page
        assert event["data"]["username"] == "mia"
        await crm.get_by_role("button", name="Refresh").click()
        await expect(crm.get_by_role("table", name="Deliveries to crm").locator("tbody tr").first).to_have_attribute(
            "data-status", "SUCCEEDED"
        )

        # An API key: shown once, then known by its first characters only.
        await crm.get_by_label("Key name", exact=True).fill("production back end")
        await crm.get_by_role("button", name="Create API key").click()
        shown = page.get_by_role("region", name="API key production back end for crm")
        key = await shown.get_by_test_id("shown-once").text_content()
        assert key
        found = await api.browser().gql(
            SESSION_INFO, {"t": owner.browser.session_cookie}, authorization=f"Bearer {key}"
        )
        assert found.data == {"sessionInfo": {"tenantSlug": "acme"}}
        row = crm.get_by_role("table", name="API keys of crm").locator("tr[data-key='production back end']")
        prefix = (await row.locator("td").nth(1).text_content() or "").rstrip("…")
        assert prefix and key.startswith(prefix)
        await expect(row.get_by_text("Active", exact=True)).to_have_count(1)
        await shot(page, "operator-applications")
        await page.reload()
        await expect(page.get_by_test_id("shown-once")).to_have_count(0)
        assert key not in (await page.locator("main").text_content() or "")

        # Revoked after a confirmation: it stops working at once.
        await row.get_by_role("button", name="Revoke production back end").click()
        await page.get_by_text("Revoked the key production back end of crm.").wait_for()
        assert "It stops working at once." in dialogs[-1]
        await expect(row.get_by_text("Revoked", exact=False)).to_have_count(1)
        refused = await api.browser().gql(
            SESSION_INFO, {"t": owner.browser.session_cookie}, authorization=f"Bearer {key}"
        )
        assert refused.codes == ["UNAUTHENTICATED"]

        # Replay: it has every event already.
        await crm.get_by_role("button", name="Replay").click()
        await crm.get_by_text("Nothing to send again").wait_for()
        assert errors == []


@pytest.mark.parametrize("settings_overrides", [{"webhook_retry_schedule": []}])
async def test_data_requests_show_the_applications_parts_and_overdue_ones(api: Api, chromium: Any) -> None:
    owner = await api.owner("acme")
    mia = await api.member(owner, "mia")
    max_ = await api.member(owner, "max")
    operator, _ = await operator_browser(api)
    async with receiver() as crm_hooks, receiver() as billing_hooks:

        async def down(_: Received) -> int:
            return 503

        billing_hooks.respond = down
        await application(api, operator, crm_hooks, "crm", erasure=True)
        await application(api, operator, billing_hooks, "billing", export=True)

        # Mia's export: billing cannot be asked for its part, which her page names as missing.
        (await mia.browser.gql(REQUEST_EXPORT)).ok("requestDataExport")
        page, errors, _ = await as_user(chromium, api, mia.browser.session_cookie, "/account/data")
        requests = page.get_by_role("table", name="Your requests")
        await requests.get_by_role("link", name="Download").wait_for(timeout=20_000)
        missing = await requests.locator(".parts-missing").text_content()
        assert "billing" in missing and "could not be delivered" in missing

        # Max's erasure waits for crm's confirmation; a month on it is overdue.
        (await max_.browser.gql(DELETE_ACCOUNT, {"p": PASSWORD})).ok("deleteAccount")
        await crm_hooks.wait_for_type("user.erased")
        clock.advance(timedelta(days=32))
        again = api.browser()
        (await login(again)).ok("login")  # the old session has ended by then
        page, errors2, _ = await as_user(chromium, api, again.session_cookie, "/admin/requests")
        await page.get_by_role("heading", name="Data requests", exact=True).wait_for()
        await page.get_by_text("1 request is past its legal due date").wait_for()
        table = page.get_by_role("table", name="Data requests")
        erasure = table.locator("tr.overdue")
        assert "ERASURE" in await erasure.text_content()
        await expect(erasure.get_by_text("Overdue", exact=True)).to_have_count(1)
        await expect(erasure.locator("li[data-application='crm'][data-status='PENDING']")).to_have_count(1)
        export = table.locator("tr", has=page.locator("li[data-application='billing']"))
        assert "missing" in await export.text_content() and "COMPLETED" in await export.text_content()
        await shot(page, "admin-data-requests")
        assert errors == [] and errors2 == []
