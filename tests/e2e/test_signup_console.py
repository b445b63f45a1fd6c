"""Buying the product in the browser: the sign-up form, the emailed confirmation link, the
first login as the new organisation's owner, and its contract page."""

from __future__ import annotations

from typing import Any

from tests.e2e.browser import open_page, shot
from tests.helpers import PASSWORD, Api

BUYER = "bea.buyer@initech.example"


async def test_a_buyer_signs_up_confirms_the_email_and_logs_in_as_owner(api: Api, chromium: Any) -> None:
    page, errors = await open_page(chromium)
    await page.goto(api.base_url + "/login")
    await page.get_by_role("link", name="Sign up").click()
    # Every page the console adds is its own shell, under the same strict policy.
    for path in ("/signup", "/signup/confirm", "/closed", "/admin/contract", "/admin/close", "/operator/login"):
        response = await page.request.get(api.base_url + path)
        policy = response.headers["content-security-policy"]
        assert response.ok and "script-src 'self';" in policy and "style-src 'self';" in policy, path
    await page.get_by_role("heading", name="Sign up").wait_for()
    for label, value in (
        ("Organisation name", "Initech B.V."),
        ("Organisation address", "initech"),
        ("Username", "bea"),
        ("Email", BUYER),
        ("Password", PASSWORD),
        ("Company name", "Initech B.V."),
        ("Postal address", "Keizersgracht 1\n1015 CC Amsterdam"),
        ("Country", "UK"),  # not ISO 3166: GB is
        ("VAT number (optional)", "NL 8191.13.456 B01"),
        ("Billing email", "invoices@initech.example"),
        ("Contact name", "Bea Buyer"),
    ):
        await page.get_by_label(label, exact=True).fill(value)
    await page.get_by_role("button", name="Sign up").click()
    # The error comes back for input.contract.country and stands next to that field.
    await page.get_by_text("The country is a two-letter ISO 3166 code").wait_for()
    country = page.get_by_label("Country", exact=True)
    assert await country.get_attribute("aria-invalid") == "true"
    assert await api.count("tenant") == 0
    await shot(page, "signup")
    await country.fill("NL")
    await page.get_by_role("button", name="Sign up").click()
    await page.get_by_role("heading", name="Check your email").wait_for()
    assert BUYER in await page.get_by_role("status").first.text_content()

    # The link in the email creates the organisation; its page leads to the login, prefilled.
    [mail] = await api.mailbox.wait_for(BUYER)
    assert "/signup/confirm?token=" in mail.link()
    await page.goto(mail.link().replace(api.settings.app_url, api.base_url))
    await page.get_by_role("heading", name="Your organisation is ready").wait_for()
    await shot(page, "signup-confirmed")
    await page.get_by_role("link", name="Log in", exact=True).last.click()
    await page.get_by_role("heading", name="Log in").wait_for()
    assert await page.get_by_label("Organisation", exact=True).input_value() == "initech"
    await page.get_by_label("Username or email", exact=True).fill("bea")
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_role("heading", name="Profile").wait_for()
    assert "Role: OWNER" in await page.locator("main").text_content()

    # The owner sees and corrects the contract record given at sign-up.
    await page.get_by_role("link", name="Contract", exact=True).click()
    await page.get_by_role("heading", name="Contract", exact=True).wait_for()
    assert await page.get_by_label("Postal address", exact=True).input_value() == "Keizersgracht 1\n1015 CC Amsterdam"
    assert await page.get_by_label("VAT number (optional)", exact=True).input_value() == "NL819113456B01"
    await page.get_by_label("Billing email", exact=True).fill("finance@initech.example")
    await page.get_by_role("button", name="Save contract").click()
    await page.get_by_text("Saved.").wait_for()
    await shot(page, "contract")
    stored = await api.db.fetchval("SELECT billing_email FROM tenant_contract")
    assert stored == "finance@initech.example"
    assert errors == []
