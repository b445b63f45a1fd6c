"""The operator console (the vendor's staff) in Chromium: its own login with password and
code, the tenants list, seat licences, a new tenant; suspending, reactivating and closing a
tenant, its legal hold and the operators' log. Users and operators see only their own pages."""

from __future__ import annotations

from typing import Any

from tests.e2e.browser import expect, open_page, shot
from tests.helpers import Api, code
from tests.operators.support import OPERATOR_PASSWORD, create_operator, signed_in_operator
from tests.tenancy.common import CONFIRM_SIGN_UP, signed_up


async def test_an_operator_logs_in_lists_tenants_changes_a_licence_and_creates_a_tenant(
    api: Api, chromium: Any
) -> None:
    owner = await api.owner("acme", seats=5)
    await api.member(owner, "mia")  # two seats in use
    for i in range(21):  # 22 tenants: two pages of 20
        await api.create_tenant(f"shop-{i:02}")
    staff = await create_operator(api, "olivia")  # as `python -m api create-operator` does

    # A tenant's user does not get the operator console.
    user_page, user_errors = await open_page(chromium)
    cookie = {"name": api.settings.session_cookie_name, "value": owner.browser.session_cookie, "url": api.base_url}
    await user_page.context.add_cookies([cookie])
    await user_page.goto(api.base_url + "/operator/tenants")
    await user_page.get_by_role("heading", name="Profile").wait_for()
    assert user_errors == []

    page, errors = await open_page(chromium)
    await page.goto(api.base_url + "/operator")
    await page.get_by_role("heading", name="Operator log in").wait_for()
    await page.get_by_label("Username", exact=True).fill("olivia")
    await page.get_by_label("Password", exact=True).fill(OPERATOR_PASSWORD)
    await page.get_by_label("Code", exact=True).fill("000000" if code(staff.secret) != "000000" else "111111")
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_text("The username, password or code is not right.").wait_for()
    await page.get_by_label("Code", exact=True).fill(code(staff.secret))
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_role("heading", name="Tenants").wait_for()

    # The list: counts, paging, search, state filter.
    tenants = page.get_by_role("table", name="Tenants")
    await page.get_by_text("22 tenants").wait_for()
    assert await tenants.locator("tbody tr").count() == 20
    acme = tenants.locator("tr[data-tenant='acme']")
    assert "2 of 5" in await acme.text_content()
    await shot(page, "operator-tenants")
    await page.get_by_role("link", name="Next page").click()
    await expect(tenants.locator("tbody tr")).to_have_count(2)
    await page.get_by_role("link", name="First page").click()
    await expect(tenants.locator("tbody tr")).to_have_count(20)
    await page.get_by_label("Search", exact=True).fill("acm")
    await page.get_by_role("button", name="Filter").click()
    await expect(tenants.locator("tbody tr")).to_have_count(1)
    await page.get_by_label("State", exact=True).select_option("SUSPENDED")
    await page.get_by_role("button", name="Filter").click()
    await page.get_by_text("0 tenants").wait_for()
    await page.go_back()
    await expect(tenants.locator("tbody tr")).to_have_count(1)

    # The seat licence: never below the seats in use.
    await tenants.get_by_role("link", name="Acme Ltd").click()
    await page.get_by_role("heading", name="Acme Ltd").wait_for()
    seats = page.get_by_label("Seats licensed", exact=True)
    await seats.fill("1")
    await page.get_by_role("button", name="Change licence").click()
    await page.get_by_text("2 seats are in use").wait_for()
    await expect(seats).to_have_attribute("aria-invalid", "true")
    await shot(page, "operator-tenant")
    await seats.fill("10")
    await page.get_by_role("button", name="Change licence").click()
    await expect(page.get_by_role("definition").filter(has_text="2 of 10")).to_have_count(1)
    assert await api.db.fetchval("SELECT seat_limit FROM tenant WHERE slug = 'acme'") == 10

    # A new tenant, whose owner is invited by email.
    await page.get_by_role("link", name="New tenant").click()
    await page.get_by_label("Organisation name", exact=True).fill("Globex Corporation")
    await page.get_by_label("Organisation address", exact=True).fill("globex")
    await page.get_by_label("Seats licensed", exact=True).fill("25")
    await page.get_by_label("Owner's username", exact=True).fill("hank")
    await page.get_by_label("Owner's email", exact=True).fill("hank@globex.example")
    await page.get_by_label("Company name", exact=True).fill("Globex Corporation")
    await page.get_by_role("button", name="Create tenant").click()
    # A contract record given in part is refused field by field.
    await expect(page.get_by_label("Billing email", exact=True)).to_have_attribute("aria-invalid", "true")
    await page.get_by_label("Company name", exact=True).fill("")
    await shot(page, "operator-new-tenant")
    await page.get_by_role("button", name="Create tenant").click()
    await page.get_by_role("heading", name="Globex Corporation").wait_for()
    await page.get_by_text("The owner was invited by email (hank@globex.example)").wait_for()
    assert "1 of 25" in await page.get_by_role("definition").nth(2).text_content()  # the invited owner
    await api.mailbox.wait_for("hank@globex.example")

    # An operator does not get the user console.
    await page.goto(api.base_url + "/account")
    await page.get_by_role("heading", name="Tenants").wait_for()
    assert errors == []


async def test_an_operator_suspends_reactivates_and_closes_a_tenant_then_sees_its_legal_hold(
    api: Api, chromium: Any
) -> None:
    token = await signed_up(api, "initech")  # with a contract record, from sign-up
    (await api.browser().gql(CONFIRM_SIGN_UP, {"t": token})).ok("confirmSignUp")
    staff = await signed_in_operator(api, "olivia")
    assert staff.browser is not None
    page, errors = await open_page(chromium)
    cookie = {"name": api.settings.session_cookie_name, "value": staff.browser.session_cookie, "url": api.base_url}
    await page.context.add_cookies([cookie])
    await page.goto(api.base_url + "/operator/tenant?slug=initech")
    await page.get_by_role("heading", name="Initech B.V.").wait_for()

    await page.get_by_label("Reason", exact=True).fill("Invoices unpaid since March")
    await page.get_by_role("button", name="Suspend tenant").click()
    await page.get_by_role("button", name="Reactivate tenant").wait_for()
    assert await api.db.fetchval("SELECT state FROM tenant WHERE slug = 'initech'") == "SUSPENDED"
    await page.get_by_role("button", name="Reactivate tenant").click()
    await page.get_by_role("button", name="Suspend tenant").wait_for()
    assert await api.db.fetchval("SELECT state FROM tenant WHERE slug = 'initech'") == "ACTIVE"

    # Closing: the danger zone's button waits for the typed address.
    zone = page.get_by_role("region", name="Danger zone")
    button = zone.get_by_role("button", name="Close tenant permanently")
    await expect(button).to_be_disabled()
    await zone.get_by_label("Organisation address", exact=True).fill("initec")
    await expect(button).to_be_disabled()
    await zone.get_by_label("Organisation address", exact=True).fill("initech")
    await expect(button).to_be_enabled()
    # A fresh proof of who is there, as for the owner: password and a code.
    await zone.get_by_label("Your password", exact=True).fill(OPERATOR_PASSWORD)
    await zone.get_by_label("Code from your authenticator app", exact=True).fill(code(staff.secret))
    await shot(page, "operator-close-tenant")
    await button.click()
    await page.get_by_text("Every account is erased; the contract record is under legal hold.").wait_for()
    assert await api.db.fetchval("SELECT state FROM tenant WHERE slug = 'initech'") == "CLOSED"
    assert await api.count("app_user") == 0

    await page.get_by_role("link", name="Legal holds").first.click()
    hold = page.get_by_role("table", name="Legal holds").locator("tr[data-tenant='initech']")
    await hold.wait_for()
    text = await hold.text_content()
    assert "Initech B.V." in text and "Keizersgracht 1" in text and "invoices-7391@initech.example" in text
    await shot(page, "operator-legal-holds")

    await page.get_by_role("link", name="Operator log").click()
    log = page.get_by_role("table", name="Operator log")
    await log.wait_for()
    actions = await log.locator("tbody tr td:nth-child(2)").all_text_contents()
    assert actions[:3] == ["tenant.closed", "tenant.reactivated", "tenant.suspended"], actions
    assert "Invoices unpaid since March" in await log.text_content()
    await shot(page, "operator-log")
    assert errors == []
