"""Closing an organisation: every account erased at once, as deleteAccount erases one;
the tenant CLOSED; the contract record kept under legal hold until retainUntil, then
everything of the tenant goes."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from api import clock
from api.audit.chain import verify
from api.usecases import retention
from tests.helpers import PASSWORD, Api, Member, code, enroll, login, search_everywhere
from tests.privacy.test_export_and_erasure import MIA, richly_used_member
from tests.queries import SET_CONSENTS
from tests.tenancy.common import (
    BUYER_EMAIL,
    CLOSE,
    CONFIRM_SIGN_UP,
    LEGAL_HOLDS,
    operator_browser,
    operator_code,
    signed_up,
)

ADD = "mutation($i: AddUserInput!) { addUser(input: $i) { user { id } errors { field code } } }"


async def signed_up_owner(api: Api) -> Member:
    token = await signed_up(api)
    (await api.browser().gql(CONFIRM_SIGN_UP, {"t": token})).ok("confirmSignUp")
    browser = api.browser()
    me = (await login(browser, tenant="initech", identifier="bea-buyer")).ok("login")["viewer"]["user"]
    return Member(browser, me["id"], "bea-buyer", BUYER_EMAIL)


async def test_closing_erases_every_account_and_only_the_contract_record_remains(api: Api) -> None:
    owner = await signed_up_owner(api)
    member = await richly_used_member(api, owner)
    admin = await api.member(owner, "ada-admin-4411", role="ADMIN", slug="initech")
    invited = "ivy-invited-5123@initech.example"
    await owner.browser.gql(ADD, {"i": {"username": "ivy-invited-5123", "email": invited}})
    await login(api.browser(), "wrong", tenant="initech", identifier="nobody-at-all")
    secret, _ = await enroll(owner.browser)

    assert (await admin.browser.gql(CLOSE, {"input": {"confirmSlug": "initech", "password": PASSWORD}})).codes == [
        "FORBIDDEN"
    ]
    attempts = [
        (
            {"confirmSlug": "initech-x", "password": PASSWORD, "code": code(secret)},
            ("input.confirmSlug", "INVALID_INPUT"),
        ),
        (
            {"confirmSlug": "initech", "password": "wrong", "code": code(secret)},
            ("input.password", "INVALID_CREDENTIALS"),
        ),
        ({"confirmSlug": "initech", "password": PASSWORD}, ("input.code", "INVALID_CODE")),
        ({"confirmSlug": "initech", "password": PASSWORD, "code": "000000"}, ("input.code", "INVALID_CODE")),
    ]
    for given, error in attempts:
        assert (await owner.browser.gql(CLOSE, {"input": given})).user_errors("closeTenant") == [error]
    assert await api.count("app_user") == 4

    closed = (
        await owner.browser.gql(
            CLOSE, {"input": {"confirmSlug": " INITECH ", "password": PASSWORD, "code": code(secret)}}
        )
    ).ok("closeTenant")
    assert closed["state"] == "CLOSED" and closed["accountsErased"] == 4
    closed_at, retain_until = (datetime.fromisoformat(closed[k]) for k in ("closedAt", "retainUntil"))
    assert retain_until.year == closed_at.year + 7

    for browser in (owner.browser, member.browser, admin.browser):
        assert (await browser.gql("{ viewer { user { id } } }")).data == {"viewer": None}
    assert (await login(api.browser(), tenant="initech", identifier="bea-buyer")).user_errors("login") == [
        (None, "INVALID_CREDENTIALS")
    ]
    people = [BUYER_EMAIL, "bea-buyer", MIA, "Mia Marsh", "ada-admin-4411", "ivy-invited-5123", "nobody-at-all"]
    assert await search_everywhere(api, people) == []
    contract_data = ["Bea Buyer-Vos", "invoices-7391@initech.example", "Keizersgracht"]
    assert all(hit.startswith("tenant_contract.") for hit in await search_everywhere(api, contract_data))
    assert len(await search_everywhere(api, contract_data)) == 3
    for table in ("app_user", "user_session", "account_token", "consent_event", "user_totp", "recovery_code"):
        assert await api.count(table) == 0, table
    assert (
        await api.db.fetch("SELECT action FROM audit_event WHERE ip_address IS NOT NULL OR user_agent IS NOT NULL")
        == []
    )
    assert await api.count("data_request", "kind = 'ERASURE' AND status = 'COMPLETED' AND subject_id IS NULL") == 4

    # The owner is told; nobody else is mailed after the erasure.
    [confirmation] = await api.queued_to(BUYER_EMAIL)
    assert "has been closed" in confirmation.subject
    assert await api.queued_to(f"{MIA}@initech.example") == []
    assert await api.queued_to(invited) == []

    [report] = await verify(api.db, "initech")
    assert report.ok, report
    last = await api.db.fetchrow("SELECT action, actor_type, changes FROM audit_event ORDER BY chain_seq DESC LIMIT 1")
    assert (last["action"], last["actor_type"]) == ("tenant.closed", "USER")


async def test_an_operator_closes_a_tenant_and_sees_its_contract_under_legal_hold(api: Api) -> None:
    owner = await signed_up_owner(api)
    await api.member(owner, "moritz", slug="initech")
    other = await api.owner("globex")
    operator, operator_id = await operator_browser(api)

    wrong = await operator.gql(CLOSE, {"input": {"tenantId": "not-an-id", "confirmSlug": "initech"}})
    assert wrong.user_errors("closeTenant") == [("input.tenantId", "NOT_FOUND")]
    tenant_id = await api.db.fetchval("SELECT id::text FROM tenant WHERE slug = 'initech'")
    mismatch = await operator.gql(CLOSE, {"input": {"tenantId": tenant_id, "confirmSlug": "globex"}})
    assert mismatch.user_errors("closeTenant") == [("input.confirmSlug", "INVALID_INPUT")]

    # A stolen operator session alone closes nothing: a fresh password and code are asked.
    no_proof = await operator.gql(CLOSE, {"input": {"tenantId": tenant_id, "confirmSlug": "initech"}})
    assert no_proof.user_errors("closeTenant") == [("input.password", "INVALID_CREDENTIALS")]
    no_code = await operator.gql(
        CLOSE, {"input": {"tenantId": tenant_id, "confirmSlug": "initech", "password": PASSWORD, "code": "000000"}}
    )
    assert no_code.user_errors("closeTenant") == [("input.code", "INVALID_CODE")]
    proof = {"password": PASSWORD, "code": operator_code()}
    closed = (await operator.gql(CLOSE, {"input": {"tenantId": tenant_id, "confirmSlug": "initech", **proof}})).ok(
        "closeTenant"
    )
    assert closed["accountsErased"] == 2
    again = await operator.gql(
        CLOSE,
        {"input": {"tenantId": tenant_id, "confirmSlug": "initech", "password": PASSWORD, "code": operator_code()}},
    )
    assert again.user_errors("closeTenant") == [(None, "TENANT_CLOSED")]

    [hold] = [e["node"] for e in (await operator.gql(LEGAL_HOLDS)).data["legalHolds"]["edges"]]
    assert hold["slug"] == "initech" and hold["retainUntil"] == closed["retainUntil"]
    assert "17(3)(b)" in hold["legalBasis"]
    assert hold["contract"] == {
        "companyName": "Initech B.V.",
        "billingEmail": "invoices-7391@initech.example",
        "contactName": "Bea Buyer-Vos",
        "vatId": "NL819113456B01",
    }
    # Users never see legal holds, nor close another organisation.
    assert (await other.browser.gql(LEGAL_HOLDS)).codes == ["FORBIDDEN"]
    assert (await api.browser().gql(LEGAL_HOLDS)).codes == ["UNAUTHENTICATED"]
    by_user = await other.browser.gql(CLOSE, {"input": {"tenantId": tenant_id, "confirmSlug": "initech"}})
    assert by_user.codes == ["FORBIDDEN"]
    assert await api.db.fetchval("SELECT state FROM tenant WHERE slug = 'globex'") == "ACTIVE"

    events = await api.db.fetch(
        "SELECT e.action, e.actor_type, e.actor_id::text AS actor FROM audit_event e JOIN tenant t ON t.id = e.tenant_id "
        "WHERE t.slug = 'initech' AND e.action IN ('tenant.closed', 'user.erased')"
    )
    assert {(e["action"], e["actor_type"], e["actor"]) for e in events} == {
        ("tenant.closed", "OPERATOR", operator_id),
        ("user.erased", "OPERATOR", operator_id),
    }
    assert (
        await api.count("operator_audit_event", "action = 'tenant.closed' AND operator_id = $1::uuid", operator_id) == 1
    )


async def test_when_the_hold_ends_everything_of_the_tenant_goes(api: Api) -> None:
    owner = await signed_up_owner(api)
    await api.owner("globex")
    (await owner.browser.gql(CLOSE, {"input": {"confirmSlug": "initech", "password": PASSWORD}})).ok("closeTenant")
    tenant_id = await api.db.fetchval("SELECT id FROM tenant WHERE slug = 'initech'")
    before = await api.count("audit_event", "tenant_id = $1", tenant_id)

    clock.advance(timedelta(days=7 * 365))  # a day or two short of seven years
    async with api.unit() as work:
        assert (await retention.run_daily(work))["tenants_purged"] == 0
    assert await api.count("tenant_contract") == 1
    assert await api.count("audit_event", "tenant_id = $1", tenant_id) == before  # the chain ends with the closure

    clock.advance(timedelta(days=3))
    async with api.unit() as work:
        assert (await retention.run_daily(work))["tenants_purged"] == 1
    for table in ("tenant_contract", "purpose", "data_request", "audit_checkpoint"):
        assert await api.count(table, "tenant_id = $1", tenant_id) == 0, table
    assert await api.count("audit_event", "tenant_id = $1", tenant_id) == 0
    assert await api.count("tenant", "id = $1", tenant_id) == 0
    assert await search_everywhere(api, ["Bea Buyer-Vos", "invoices-7391", "Keizersgracht"]) == []
    purged = await api.db.fetchrow(
        "SELECT actor_type, changes FROM operator_audit_event WHERE action = 'tenant.purged' AND tenant_id = $1",
        tenant_id,
    )
    assert purged["actor_type"] == "SYSTEM"
    assert await api.db.fetchval("SELECT state FROM tenant WHERE slug = 'globex'") == "ACTIVE"
    # The address is free again.
    (await api.browser().gql(CONFIRM_SIGN_UP, {"t": await signed_up(api, "initech", "new@initech.example")})).ok(
        "confirmSignUp"
    )


async def test_the_audit_log_of_a_tenant_cannot_be_deleted_before_it_is_closed(api: Api) -> None:
    await api.owner("acme")
    tenant_id = await api.db.fetchval("SELECT id FROM tenant WHERE slug = 'acme'")
    async with api.db.transaction():
        await api.db.execute("SELECT set_config('audit.tenant_purge', $1, true)", str(tenant_id))
        try:
            await api.db.execute("DELETE FROM audit_event WHERE tenant_id = $1", tenant_id)
        except Exception as error:
            assert "append-only" in str(error)
        else:
            raise AssertionError("an ACTIVE tenant's audit events were deleted")


async def test_closure_and_a_new_account_racing_leave_no_account_behind(api: Api) -> None:
    owner = await api.owner("acme")
    admin = await api.member(owner, "ada", role="ADMIN")
    adds = [admin.browser.gql(ADD, {"i": {"username": f"user{i}", "email": f"user{i}@acme.example"}}) for i in range(5)]
    closing = owner.browser.gql(CLOSE, {"input": {"confirmSlug": "acme", "password": PASSWORD}})
    results = await asyncio.gather(closing, *adds)
    assert results[0].ok("closeTenant")["state"] == "CLOSED"
    for added in results[1:]:
        payload = added.data and added.data.get("addUser")
        assert added.codes == ["UNAUTHENTICATED"] or payload["user"] or payload["errors"][0]["code"] == "TENANT_CLOSED"
    assert await api.count("app_user") == 0


async def test_consents_and_exports_of_a_closed_tenant_go_with_its_accounts(api: Api) -> None:
    owner = await api.owner("acme")
    await owner.browser.gql(SET_CONSENTS, {"i": [{"purposeKey": "newsletter", "granted": True}]})
    (await owner.browser.gql(CLOSE, {"input": {"confirmSlug": "acme", "password": PASSWORD}})).ok("closeTenant")
    assert await api.count("consent_event") == 0
    assert await api.count("export_chunk") == 0
