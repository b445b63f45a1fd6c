"""Self-service sign-up: nothing exists until the buyer confirms the emailed link; then
the organisation exists with the buyer as its ACTIVE OWNER, the trial licence and the
contract record. The answer never tells whether an organisation address is taken."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from api import clock
from tests.helpers import PASSWORD, Api, login
from tests.tenancy.common import BUYER_EMAIL, CONFIRM_SIGN_UP, CONTRACT, SIGN_UP, sign_up_input, signed_up


async def test_nothing_exists_until_the_buyer_confirms_then_they_own_the_organisation(api: Api) -> None:
    answer = await api.browser().gql(SIGN_UP, {"input": sign_up_input()})
    assert answer.ok("signUp")["ok"] is True
    for table in ("tenant", "app_user", "tenant_contract", "audit_event", "account_token"):
        assert await api.count(table) == 0, table
    [mail] = await api.queued_to(BUYER_EMAIL)
    assert "/signup/confirm?token=" in mail.body
    token = await api.queued_token(BUYER_EMAIL)

    confirmed = (await api.browser().gql(CONFIRM_SIGN_UP, {"t": token})).ok("confirmSignUp")
    assert confirmed == {"tenantSlug": "initech", "username": "bea-buyer", "errors": []}
    tenant = await api.db.fetchrow("SELECT state, seat_limit, name FROM tenant WHERE slug = 'initech'")
    assert tuple(tenant) == ("ACTIVE", api.settings.signup_trial_seats, "Initech B.V.")
    owner = await api.db.fetchrow("SELECT role, status, email_verified FROM app_user")
    assert tuple(owner) == ("OWNER", "ACTIVE", True)
    assert await api.count("purpose") > 0

    browser = api.browser()
    assert (await login(browser, tenant="initech", identifier="bea-buyer")).ok("login")["status"] == "SUCCESS"
    tenant_view = (await browser.gql(CONTRACT)).data["viewer"]["tenant"]
    assert tenant_view == {
        "state": "ACTIVE",
        "contract": {
            "companyName": "Initech B.V.",
            "postalAddress": "Keizersgracht 1\n1015 CC Amsterdam",
            "country": "NL",
            "vatId": "NL819113456B01",
            "billingEmail": "invoices-7391@initech.example",
            "contactName": "Bea Buyer-Vos",
        },
    }
    # The link works once.
    again = await api.browser().gql(CONFIRM_SIGN_UP, {"t": token})
    assert again.user_errors("confirmSignUp") == [("input.token", "INVALID_TOKEN")]
    assert await api.count("tenant") == 1


async def test_the_answer_is_the_same_whether_or_not_the_address_is_taken(api: Api) -> None:
    await api.owner("initech")
    free = await api.browser().gql(SIGN_UP, {"input": sign_up_input("initech-2", "a@b.example")})
    taken = await api.browser().gql(SIGN_UP, {"input": sign_up_input("initech", "c@d.example")})
    assert free.data == taken.data == {"signUp": {"ok": True, "errors": []}}
    [note] = await api.queued_to("c@d.example")
    assert "already uses" in note.body and "token=" not in note.body
    assert await api.count("tenant") == 1


async def test_of_two_sign_ups_racing_for_one_address_exactly_one_is_confirmed(api: Api) -> None:
    first = await signed_up(api, "globex", "one@globex.example")
    second = await signed_up(api, "globex", "two@globex.example")
    results = await asyncio.gather(
        *(api.browser().gql(CONFIRM_SIGN_UP, {"t": t}) for t in (first, second, first, second))
    )
    confirmed = [r for r in results if r.payload("confirmSignUp")["tenantSlug"] == "globex"]
    refused = [r.user_errors("confirmSignUp") for r in results if r.payload("confirmSignUp")["tenantSlug"] is None]
    assert len(confirmed) == 1
    assert len(refused) == 3 and all(e[0][1] in ("DUPLICATE", "INVALID_TOKEN") for e in refused)
    assert await api.count("tenant") == 1 and await api.count("app_user") == 1


async def test_a_link_that_was_altered_or_is_too_old_creates_nothing(api: Api) -> None:
    token = await signed_up(api)
    altered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    for bad in (altered, "v1.nokey.AAAA", "x" * 9000, ""):
        result = await api.browser().gql(CONFIRM_SIGN_UP, {"t": bad})
        assert result.user_errors("confirmSignUp") == [("input.token", "INVALID_TOKEN")]
    clock.advance(timedelta(hours=24, seconds=1))
    late = await api.browser().gql(CONFIRM_SIGN_UP, {"t": token})
    assert late.user_errors("confirmSignUp") == [("input.token", "INVALID_TOKEN")]
    assert await api.count("tenant") == 0


async def test_every_problem_of_a_sign_up_is_reported_at_once_and_nothing_is_sent(api: Api) -> None:
    bad = sign_up_input(
        "-Bad Slug-",
        "not-an-address",
        username="x",
        password="short",
        contract={
            "companyName": " ",
            "postalAddress": "Street\u202e1",
            "country": "Narnia",
            "vatId": "123",
            "billingEmail": "nope",
            "contactName": "Bea",
        },
    )
    result = await api.browser().gql(SIGN_UP, {"input": bad})
    fields = {f for f, _ in result.user_errors("signUp")}
    assert fields == {
        "input.slug",
        "input.email",
        "input.username",
        "input.password",
        "input.contract.companyName",
        "input.contract.postalAddress",
        "input.contract.country",
        "input.contract.vatId",
        "input.contract.billingEmail",
    }
    assert await api.count("procrastinate_jobs", "task_name = 'send_email'") == 0


async def test_a_weak_or_personal_password_is_refused(api: Api) -> None:
    for weak in ("initech2026!", "bea-buyer-2026", "password1234"):
        result = await api.browser().gql(SIGN_UP, {"input": sign_up_input(password=weak)})
        assert result.user_errors("signUp") == [("input.password", "PASSWORD_POLICY")]
    assert await api.count("procrastinate_jobs", "task_name = 'send_email'") == 0


@pytest.mark.parametrize("settings_overrides", [{"signups_per_ip_hour": 2, "signups_per_address_day": 1}])
async def test_sign_ups_are_limited_per_client_and_silently_per_address(api: Api) -> None:
    browser = api.browser()
    (await browser.gql(SIGN_UP, {"input": sign_up_input("one", "same@x.example")})).ok("signUp")
    (await browser.gql(SIGN_UP, {"input": sign_up_input("two", "same@x.example")})).ok("signUp")
    assert len(await api.queued_to("same@x.example")) == 1  # the second: no more mail to that address
    third = await browser.gql(SIGN_UP, {"input": sign_up_input("three", "other@x.example")})
    assert third.codes == ["RATE_LIMITED"]
    assert third.errors[0]["extensions"]["retryAfter"] > 0


@pytest.mark.parametrize("settings_overrides", [{"signup_enabled": False}])
async def test_sign_up_can_be_switched_off(api: Api) -> None:
    result = await api.browser().gql(SIGN_UP, {"input": sign_up_input()})
    assert result.user_errors("signUp") == [(None, "SIGNUP_DISABLED")]
    assert await api.count("procrastinate_jobs", "task_name = 'send_email'") == 0


async def test_a_closed_organisation_keeps_its_address_until_its_hold_ends(api: Api) -> None:
    owner = await api.owner("initech")
    from tests.tenancy.common import CLOSE

    closed = await owner.browser.gql(CLOSE, {"input": {"confirmSlug": "initech", "password": PASSWORD}})
    assert closed.ok("closeTenant")["state"] == "CLOSED"
    (await api.browser().gql(SIGN_UP, {"input": sign_up_input("initech", "new@x.example")})).ok("signUp")
    [note] = await api.queued_to("new@x.example")
    assert "token=" not in note.body


CREATE_TENANT = """
mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenantId slug errors { field code } } }
"""


@pytest.mark.parametrize("settings_overrides", [{"signup_enabled": False}])
async def test_with_sign_up_off_operators_create_tenants_and_invite_the_owner(api: Api) -> None:
    from tests.tenancy.common import operator_browser

    operator, operator_id = await operator_browser(api)
    given = {"slug": "umbrella", "name": "Umbrella", "ownerUsername": "uma", "ownerEmail": "uma@umbrella.example"}
    created = (await operator.gql(CREATE_TENANT, {"input": {**given, "seatLimit": 3}})).ok("createTenant")
    assert created["slug"] == "umbrella"
    again = await operator.gql(CREATE_TENANT, {"input": given})
    assert again.user_errors("createTenant") == [("input.slug", "DUPLICATE")]
    owner = await api.browser().gql(
        "mutation($t: String!) { acceptInvitation(input: {token: $t, password: $p}) { status errors { code } } }".replace(
            "$p", '"' + PASSWORD + '"'
        ),
        {"t": await api.queued_token("uma@umbrella.example")},
    )
    assert owner.ok("acceptInvitation")["status"] == "SUCCESS"
    created_event = await api.db.fetchrow(
        "SELECT actor_type, actor_id::text AS actor FROM audit_event WHERE action = 'tenant.created'"
    )
    assert tuple(created_event) == ("OPERATOR", operator_id)
    assert await api.count("operator_audit_event", "action = 'tenant.created'") == 1
    # Users cannot.
    owner_browser = api.browser()
    await login(owner_browser, tenant="umbrella", identifier="uma")
    assert (await owner_browser.gql(CREATE_TENANT, {"input": {**given, "slug": "other"}})).codes == ["FORBIDDEN"]
