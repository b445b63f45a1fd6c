"""Passkeys and step-up in the console, in Chromium with the DevTools protocol's virtual
authenticator: a passkey added on the security page, renamed and removed; signing in with it
alone (the username field's autofill, and the button); as the second factor after a
password; and as the proof the "Confirm it's you" dialog asks for before a sensitive
action, which then goes through without being repeated. The dialog's password path, its
errors next to the field, and cancelling it with Escape."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from api import clock
from tests.e2e.browser import expect, open_page, shot
from tests.helpers import PASSWORD, Api
from tests.helpers import code as totp_code

OLD = timedelta(minutes=11)  # older than a sensitive action accepts (10 minutes)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    # The relying party is the host the browser sees (see Device.open); the origin is known
    # once the server listens.
    return {"webauthn_rp_id": "localhost"}


class Device:
    """A page whose browser has a platform authenticator (the DevTools protocol's virtual
    one: user-verifying, discoverable credentials), and the console's address as it sees it.

    WebAuthn needs a secure context whose host is the relying party id. The server listens on
    127.0.0.1, so the browser goes to localhost (a secure context over plain http) and the
    settings, which the ceremonies read each time, accept that origin."""

    page: Any
    errors: list[str]
    origin: str
    cdp: Any
    authenticator: str

    @classmethod
    async def open(cls, api: Api, chromium: Any) -> Device:
        device = cls()
        device.origin = api.base_url.replace("127.0.0.1", "localhost")
        api.settings.webauthn_origins = [device.origin]
        device.page, device.errors = await open_page(chromium)
        device.cdp = await device.page.context.new_cdp_session(device.page)
        await device.cdp.send("WebAuthn.enable")
        options = {
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": True,
            "hasUserVerification": True,
            "isUserVerified": True,
            "automaticPresenceSimulation": True,
        }
        added = await device.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
        device.authenticator = added["authenticatorId"]
        return device

    async def touchable(self, yes: bool) -> None:
        """Whether the authenticator answers by itself (the user touching it). The virtual
        one answers the autofill prompt at once; not touching it keeps that prompt pending,
        as a real user who types a password does."""
        await self.cdp.send(
            "WebAuthn.setAutomaticPresenceSimulation", {"authenticatorId": self.authenticator, "enabled": yes}
        )

    async def stored(self) -> list[dict[str, Any]]:
        answer = await self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator})
        return answer["credentials"]  # type: ignore[no-any-return]


async def log_in_with_password(page: Any, origin: str, username: str = "owner") -> None:
    await page.goto(origin + "/login")
    await page.get_by_label("Organisation", exact=True).fill("acme")
    await page.get_by_label("Username or email", exact=True).fill(username)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()


async def add_passkey(page: Any, name: str) -> None:
    await page.get_by_role("link", name="Security").click()
    await page.get_by_label("Name of the new passkey", exact=True).fill(name)
    await page.get_by_role("button", name="Add a passkey").click()
    await page.get_by_text(f"The passkey “{name}” is added.").wait_for()


async def log_out(page: Any, username: str = "owner") -> None:
    await page.get_by_role("button", name=f"Log out {username}").click()
    await page.get_by_role("heading", name="Log in").wait_for()


async def chromium_proofs(api: Api, user_id: str) -> list[str]:
    """How the browser's sessions of this account proved who is there (not the test client's)."""
    rows = await api.db.fetch(
        "SELECT proof_method FROM user_session WHERE user_id = $1 AND user_agent NOT LIKE 'pytest-browser%'", user_id
    )
    return [r["proof_method"] for r in rows]


async def test_a_user_adds_a_passkey_and_signs_in_with_it_alone(api: Api, chromium: Any) -> None:
    owner = await api.owner("acme")
    device = await Device.open(api, chromium)
    page = device.page
    await log_in_with_password(page, device.origin)
    await page.get_by_role("heading", name="Profile").wait_for()

    # Added on the security page: a discoverable credential on the device, its public key here.
    await add_passkey(page, "Work laptop")
    passkeys = page.get_by_role("table", name="Your passkeys")
    await expect(passkeys.locator("tbody tr:not([hidden])")).to_have_count(1)
    [held] = await device.stored()
    assert held["isResidentCredential"] is True
    assert await api.db.fetchval("SELECT name FROM webauthn_credential WHERE user_id = $1", owner.id) == "Work laptop"

    # Renamed; a name the API refuses is reported next to the field.
    await page.get_by_role("button", name="Rename Work laptop").click()
    name = page.get_by_label("New name for Work laptop", exact=True)
    await expect(name).to_be_focused()
    await name.fill("bad\u202ename")
    await page.get_by_role("button", name="Save name").click()
    await expect(name).to_have_attribute("aria-invalid", "true")
    await name.fill("Laptop")
    await page.get_by_role("button", name="Save name").click()
    await passkeys.get_by_role("cell", name="Laptop", exact=True).wait_for()
    await expect(passkeys.get_by_role("cell", name="Never", exact=True)).to_have_count(1)  # not used yet
    await shot(page, "passkeys")

    # Signing in from the username field's autofill: the organisation is remembered, the
    # browser offers the passkey, and (the virtual authenticator picking it at once) the user
    # is in without typing a username or password.
    await log_out(page)
    await page.get_by_role("heading", name="Profile").wait_for()
    assert await api.count("audit_event", "action = 'passkey.used'") == 1

    # With the button: first without the organisation, which it needs.
    await device.touchable(False)  # the autofill prompt stays open meanwhile
    await log_out(page)
    identifier = page.get_by_label("Username or email", exact=True)
    assert await identifier.get_attribute("autocomplete") == "username webauthn"
    organisation = page.get_by_label("Organisation", exact=True)
    await organisation.fill("")
    await page.get_by_role("button", name="Sign in with a passkey").click()
    await expect(organisation).to_have_attribute("aria-invalid", "true")
    await page.get_by_text("Enter your organisation's address first.").wait_for()
    await shot(page, "login-passkey")
    await organisation.fill("acme")
    async with page.expect_response(lambda r: b"beginPasskeyLogin" in (r.request.post_data_buffer or b"")):
        await organisation.press("Tab")  # a new autofill prompt for this organisation, pending
    await page.wait_for_timeout(200)
    await device.touchable(True)
    await page.get_by_role("button", name="Sign in with a passkey").click()
    await page.get_by_role("heading", name="Profile").wait_for()
    assert await api.count("audit_event", "action = 'passkey.used'") == 2
    assert await chromium_proofs(api, owner.id) == ["passkey"]  # its password sessions ended

    # Removed, after a confirmation (the sign-in was a fresh proof: no step-up).
    await page.get_by_role("link", name="Security").click()
    await passkeys.get_by_role("cell", name="Laptop", exact=True).wait_for()
    await page.get_by_role("button", name="Remove Laptop").click()
    await expect(page.get_by_role("button", name="Keep it")).to_be_focused()  # not the removal
    await page.get_by_role("button", name="Keep it").click()
    await expect(page.get_by_role("button", name="Remove Laptop")).to_be_focused()
    await expect(page.get_by_role("button", name="Yes, remove it")).to_have_count(0)
    await page.get_by_role("button", name="Remove Laptop").click()
    await page.get_by_role("button", name="Yes, remove it").click()
    await page.get_by_text("The passkey “Laptop” is removed.").wait_for()
    await page.get_by_text("You have no passkeys yet.").wait_for()
    assert await api.count("webauthn_credential") == 0
    assert device.errors == []


async def test_a_passkey_is_the_fresh_proof_before_an_export(api: Api, chromium: Any) -> None:
    await api.owner("acme")
    device = await Device.open(api, chromium)
    page = device.page
    await log_in_with_password(page, device.origin)
    await page.get_by_role("heading", name="Profile").wait_for()
    await add_passkey(page, "Laptop")

    # Eleven minutes on, the export asks for a fresh proof; the account's only second factor
    # is the passkey now, so a password alone would not do and is not offered.
    clock.advance(OLD)
    await page.get_by_role("link", name="My data").click()
    await page.get_by_role("button", name="Request a copy").click()
    dialog = page.get_by_role("dialog", name="Confirm it's you")
    await dialog.wait_for()
    use_passkey = dialog.get_by_role("button", name="Use a passkey")
    await expect(use_passkey).to_be_focused()
    await expect(dialog.get_by_label("Password", exact=True)).to_have_count(0)
    await shot(page, "step-up")
    assert await api.count("data_request") == 0

    # The passkey answers; the export request is repeated by the console, not by the user.
    await use_passkey.click()
    await expect(dialog).to_have_count(0)
    requests = page.get_by_role("table", name="Your requests")
    await requests.get_by_role("cell", name="EXPORT", exact=True).wait_for()
    assert await api.count("data_request", "kind = 'EXPORT'") == 1
    assert await api.count("audit_event", "action = 'session.reauthenticated'") == 1
    assert await page.get_by_text("Not done").count() == 0
    assert device.errors == []


async def test_the_password_confirms_it_is_you_and_escape_leaves_the_action_undone(api: Api, chromium: Any) -> None:
    await api.owner("acme")  # no second factor: the password alone is a proof
    device = await Device.open(api, chromium)
    page = device.page
    await log_in_with_password(page, device.origin)
    await page.get_by_role("heading", name="Profile").wait_for()
    clock.advance(OLD)
    await page.get_by_role("link", name="My data").click()
    request = page.get_by_role("button", name="Request a copy")

    # Escape cancels: the page says the export was not made.
    await request.click()
    dialog = page.get_by_role("dialog", name="Confirm it's you")
    password = dialog.get_by_label("Password", exact=True)
    await expect(password).to_be_focused()
    assert await dialog.get_by_label("Code from your authenticator app or a recovery code", exact=True).count() == 0
    await expect(dialog.get_by_role("button", name="Use a passkey")).to_be_hidden()  # the account has none
    await page.keyboard.press("Escape")
    await expect(dialog).to_have_count(0)
    await page.get_by_text("Not done: you did not confirm it's you.").wait_for()
    assert await api.count("data_request") == 0

    # A wrong password is reported next to its field, in the dialog; the right one goes on.
    await request.click()
    await password.fill("not my password")
    await dialog.get_by_role("button", name="Confirm").click()
    await expect(password).to_have_attribute("aria-invalid", "true")
    assert await dialog.locator(".field-error").first.text_content()
    await password.fill(PASSWORD)
    await dialog.get_by_role("button", name="Confirm").click()
    await expect(dialog).to_have_count(0)
    await page.get_by_role("table", name="Your requests").get_by_role("cell", name="EXPORT", exact=True).wait_for()
    assert await api.count("data_request", "kind = 'EXPORT'") == 1
    assert device.errors == []


async def test_after_a_password_a_passkey_is_the_second_factor(api: Api, chromium: Any) -> None:
    owner = await api.owner("acme")
    device = await Device.open(api, chromium)
    page = device.page
    await log_in_with_password(page, device.origin)
    await page.get_by_role("heading", name="Profile").wait_for()
    await add_passkey(page, "Laptop")

    # The user types the password; the autofill prompt, left alone, ends with it (were it
    # still pending, the browser would refuse the next request for a passkey).
    await device.touchable(False)
    await log_out(page)
    await log_in_with_password(page, device.origin)
    await page.get_by_role("heading", name="Two-step verification").wait_for()
    await shot(page, "second-factor-passkey")
    await device.touchable(True)
    await page.get_by_role("button", name="Use a passkey instead").click()
    await page.get_by_role("heading", name="Profile").wait_for()
    assert await chromium_proofs(api, owner.id) == ["password+passkey"]
    assert await api.count("audit_event", "action = 'mfa.verified'") == 1

    # An authenticator app beside the passkey: the security page shows both, and new
    # recovery codes take the password and a code.
    await page.get_by_role("link", name="Security").click()
    await page.get_by_role("button", name="Set up an authenticator app").click()
    secret = await page.get_by_test_id("totp-secret").text_content()
    await page.get_by_label("Code from the app", exact=True).fill(totp_code(secret))
    await page.get_by_role("button", name="Turn on").click()
    await page.get_by_role("list", name="Recovery codes").wait_for()
    await page.get_by_role("link", name="Security").click()
    await page.get_by_text("On, with an authenticator app. 10 recovery codes left.").wait_for()
    await expect(
        page.get_by_role("table", name="Your passkeys").get_by_role("cell", name="Laptop", exact=True)
    ).to_be_visible()
    renewal = page.get_by_role("region", name="New recovery codes")
    await renewal.get_by_label("Password", exact=True).fill(PASSWORD)
    clock.advance(timedelta(seconds=30))  # a new time step: the enrollment code was spent
    await renewal.get_by_label("Code from the app or a recovery code", exact=True).fill(totp_code(secret))
    await renewal.get_by_role("button", name="Make new codes").click()
    await expect(page.get_by_role("list", name="Recovery codes").locator("li")).to_have_count(10)
    assert device.errors == []
