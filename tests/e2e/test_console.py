"""The reference console, driven end to end in Chromium (Debian's, through Playwright)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from api import clock
from tests.e2e.browser import expect, open_page, shot
from tests.helpers import ADD_USER, PASSWORD, VIEWER, Api, login
from tests.helpers import code as totp_code


async def test_a_member_goes_through_every_flow_in_the_browser(api: Api, chromium, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    owner = await api.owner("acme")
    (
        await owner.browser.gql(
            ADD_USER, {"input": {"username": "mia", "email": "mia@acme.example", "displayName": "Mia"}}
        )
    ).ok("addUser")
    [invitation] = await api.mailbox.wait_for("mia@acme.example")
    link = invitation.link().replace(api.settings.app_url, api.base_url)

    context = await chromium.new_context(accept_downloads=True, viewport={"width": 1100, "height": 800})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # Accept the invitation from the email.
    await page.goto(link)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await shot(page, "accept-invitation")
    await page.get_by_role("button", name="Set password and continue").click()
    await page.get_by_role("heading", name="Profile").wait_for()
    await shot(page, "profile")
    assert "session" not in await page.evaluate("document.cookie")  # HttpOnly

    # Enroll TOTP from the shown secret.
    await page.get_by_role("link", name="Security").click()
    await page.get_by_role("button", name="Set up an authenticator app").click()
    secret = await page.get_by_test_id("totp-secret").text_content()
    await page.get_by_label("Code from the app", exact=True).fill(totp_code(secret))
    await shot(page, "security-enrollment")
    await page.get_by_role("button", name="Turn on").click()
    await page.get_by_role("list", name="Recovery codes").wait_for()
    assert await page.get_by_role("list", name="Recovery codes").locator("li").count() == 10

    # Log out, and in again with a code.
    await page.get_by_role("button", name="Log out mia").click()
    await page.get_by_role("heading", name="Log in").wait_for()
    await page.get_by_label("Organisation", exact=True).fill("acme")
    await page.get_by_label("Username or email", exact=True).fill("mia")
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await shot(page, "login")
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_role("heading", name="Two-step verification").wait_for()
    clock.advance(timedelta(seconds=30))  # a new time step: the enrollment code was spent
    await page.get_by_label("Code", exact=True).fill(totp_code(secret))
    await page.get_by_role("button", name="Verify").click()
    await page.get_by_role("heading", name="Profile").wait_for()

    # Toggle a consent and see it in the history.
    await page.get_by_role("link", name="Consents").click()
    await page.get_by_role("button", name="Agree: Newsletter and offers").click()
    await page.get_by_role("button", name="Withdraw: Newsletter and offers").wait_for()
    history = page.get_by_role("table", name="Consent history")
    assert "newsletter" in await history.text_content() and "agreed" in await history.text_content()
    await shot(page, "consents")

    # Request an export and download it.
    await page.get_by_role("link", name="My data").click()
    await page.get_by_role("button", name="Request a copy").click()
    download_link = page.get_by_role("link", name="Download")
    await download_link.wait_for(timeout=20000)
    await shot(page, "my-data")
    async with page.expect_download() as waiting:
        await download_link.click()
    download = await waiting.value
    saved = tmp_path / "export.json"
    await download.save_as(saved)
    archive = json.loads(saved.read_text())
    assert archive["profile"]["username"] == "mia" and archive["format"] == "account-export/1"

    # Revoke another session (a second device, logged in with a code).
    other = api.browser()
    assert (await login(other, identifier="mia")).ok("login")["status"] == "MFA_REQUIRED"
    clock.advance(timedelta(seconds=30))
    verify = "mutation($c: String!) { verifyMfa(input: {code: $c}) { status } }"
    assert (await other.gql(verify, {"c": totp_code(secret)})).data["verifyMfa"]["status"] == "SUCCESS"
    await page.get_by_role("link", name="Sessions").click()
    rows = page.locator("tbody tr")
    await rows.nth(1).wait_for()
    assert await rows.count() == 2
    await shot(page, "sessions")
    await page.get_by_role("button", name="Sign out pytest-browser/1.0").click()
    await expect(rows).to_have_count(1)
    assert (await other.gql(VIEWER)).data["viewer"] is None

    # The browser rules, seen from a real page: a simple cross-site-style post is refused.
    status = await page.evaluate("""fetch('/graphql', {method: 'POST', headers: {'content-type': 'text/plain'},
        body: JSON.stringify({query: '{ viewer { user { id } } }'})}).then(r => r.status)""")
    assert status == 403

    # Delete the account.
    await page.get_by_role("link", name="My data").click()
    delete_form = page.get_by_role("region", name="Delete your account")
    await delete_form.get_by_label("Password", exact=True).fill(PASSWORD)
    await delete_form.get_by_role("button", name="Delete my account").click()
    await page.get_by_role("heading", name="Account deleted").wait_for()
    assert await api.count("app_user", "username = 'mia'") == 0
    assert errors == []
    await context.close()


async def test_administrators_see_their_pages(api: Api, chromium) -> None:  # type: ignore[no-untyped-def]
    owner = await api.owner("acme")
    await api.member(owner, "mia")
    context = await chromium.new_context(viewport={"width": 1200, "height": 800})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(api.base_url + "/login")
    await page.get_by_label("Organisation", exact=True).fill("acme")
    await page.get_by_label("Username or email", exact=True).fill("owner")
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_role("heading", name="Profile").wait_for()
    for name, heading, screenshot in (
        ("Users", "Users", "admin-users"),
        ("Purposes", "Purposes", "admin-purposes"),
        ("Audit log", "Audit log", "admin-audit"),
        ("Data requests", "Data requests", None),
        ("Settings", "Organisation settings", "admin-settings"),
    ):
        await page.get_by_role("link", name=name, exact=True).click()
        await page.get_by_role("heading", name=heading, exact=True).wait_for()
        if screenshot:
            await shot(page, screenshot)
    # The audit log's retention is the owner's setting, within 30 to 3650 days (the page
    # the loop ended on).
    retention = page.get_by_label("Keep audit log events for days", exact=True)
    await retention.fill("20")
    await page.get_by_role("button", name="Save settings").click()
    await expect(retention).to_have_attribute("aria-invalid", "true")
    await retention.fill("400")
    await page.get_by_role("button", name="Save settings").click()
    await page.get_by_text("Saved.").wait_for()
    assert await api.db.fetchval("SELECT audit_retention_days FROM tenant") == 400
    # Add someone from the Users page; a bad address is reported next to its field.
    await page.get_by_role("link", name="Users", exact=True).click()
    await page.get_by_label("Username", exact=True).fill("sam")
    await page.get_by_label("Email", exact=True).fill("not-an-email")
    await page.get_by_role("button", name="Add and invite").click()
    await page.get_by_text("Not a valid email address").wait_for()
    assert await page.get_by_label("Email", exact=True).get_attribute("aria-invalid") == "true"
    await page.get_by_label("Email", exact=True).fill("sam@acme.example")
    await page.get_by_role("button", name="Add and invite").click()
    await page.locator("tr[data-user='sam']").wait_for()
    assert errors == []
    await context.close()


async def test_an_administrator_sees_the_owners_settings_but_cannot_change_them(api: Api, chromium) -> None:  # type: ignore[no-untyped-def]
    owner = await api.owner("acme")
    admin = await api.member(owner, "adam", role="ADMIN")
    page, errors = await open_page(chromium)
    cookie = {"name": api.settings.session_cookie_name, "value": admin.browser.session_cookie, "url": api.base_url}
    await page.context.add_cookies([cookie])
    await page.goto(api.base_url + "/admin/settings")
    retention = page.get_by_label("Keep audit log events for days", exact=True)
    await expect(retention).to_be_disabled()
    await expect(page.get_by_label("Erase accounts unused for days (empty: keep)", exact=True)).to_be_disabled()
    assert await page.get_by_role("link", name="Contract").count() == 0  # the contract is the owner's
    assert await page.get_by_role("region", name="Danger zone").count() == 0
    await page.get_by_label("Name", exact=True).fill("Acme International")
    await page.get_by_role("button", name="Save settings").click()
    await page.get_by_text("Saved.").wait_for()
    assert await api.db.fetchval("SELECT name FROM tenant") == "Acme International"
    await page.goto(api.base_url + "/admin/contract")
    await page.get_by_role("heading", name="Not found").wait_for()
    assert errors == []
