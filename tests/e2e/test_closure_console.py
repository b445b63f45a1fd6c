"""The owner closes the organisation from the danger zone: typed address, password and
second factor; then a closed page says what was erased and how long the contract is kept."""

from __future__ import annotations

from typing import Any

from tests.e2e.browser import expect, open_page, shot
from tests.helpers import PASSWORD, Api, code, enroll

UPDATE_CONTRACT = """
mutation($input: UpdateContractInput!) { updateContract(input: $input) { contract { companyName } errors { field code message } } }
"""


async def test_the_owner_closes_the_organisation_through_the_danger_zone(api: Api, chromium: Any) -> None:
    owner = await api.owner("acme")
    contract = {
        "companyName": "Acme Ltd",
        "postalAddress": "1 Road Runner Way\nPhoenix AZ 85001",
        "country": "US",
        "billingEmail": "billing@acme.example",
        "contactName": "Wile E. Coyote",
    }
    (await owner.browser.gql(UPDATE_CONTRACT, {"input": contract})).ok("updateContract")
    await api.member(owner, "mia")
    secret, _ = await enroll(owner.browser)  # an owner with 2FA is asked for a code too
    page, errors = await open_page(chromium)
    cookie = owner.browser.session_cookie
    await page.context.add_cookies([{"name": api.settings.session_cookie_name, "value": cookie, "url": api.base_url}])

    await page.goto(api.base_url + "/admin/settings")
    await page.get_by_role("region", name="Danger zone").get_by_role("link", name="Close the organisation…").click()
    await page.get_by_role("heading", name="Close the organisation", exact=True).wait_for()
    zone = page.get_by_role("region", name="Danger zone")
    text = await zone.text_content()
    assert "Every account is erased at once" in text and "legal hold until" in text and "cannot be undone" in text
    button = zone.get_by_role("button", name="Close the organisation permanently")
    address = zone.get_by_label("Organisation address", exact=True)
    await expect(button).to_be_disabled()
    await address.fill("acm")
    await expect(button).to_be_disabled()
    await address.fill("acme")
    await expect(button).to_be_enabled()

    # A wrong password is said next to its field, and nothing is closed.
    await zone.get_by_label("Password", exact=True).fill("not-the-password")
    await zone.get_by_label("Code from your authenticator app or a recovery code", exact=True).fill(code(secret))
    await shot(page, "close-organisation")
    await button.click()
    await expect(zone.get_by_label("Password", exact=True)).to_have_attribute("aria-invalid", "true")
    assert await api.db.fetchval("SELECT state FROM tenant WHERE slug = 'acme'") == "ACTIVE"

    await zone.get_by_label("Password", exact=True).fill(PASSWORD)
    await button.click()
    await page.get_by_role("heading", name="Organisation closed").wait_for()
    closed = page.get_by_role("definition")
    facts = await closed.all_text_contents()
    retain_until = await api.db.fetchval("SELECT retain_until FROM tenant WHERE slug = 'acme'")
    assert facts[1] == "2" and str(retain_until.year) in facts[2], facts
    assert await api.db.fetchval("SELECT company_name FROM tenant_contract") == "Acme Ltd"  # under legal hold
    await shot(page, "organisation-closed")
    assert await api.db.fetchval("SELECT state FROM tenant WHERE slug = 'acme'") == "CLOSED"
    assert await api.count("app_user") == 0

    # The session is gone: a reload keeps the closed page; other pages lead to the login.
    await page.reload()
    await page.get_by_role("heading", name="Organisation closed").wait_for()
    assert "2" in await page.get_by_role("definition").nth(1).text_content()
    await page.goto(api.base_url + "/account")
    await page.get_by_role("heading", name="Log in").wait_for()
    assert errors == []
