"""Operators suspend and reactivate tenants. Suspended: every session of its accounts
ends at once, nobody logs in (told so only after a right password), its emailed links do
nothing, and its data is kept (not even erased for inactivity). Reactivated: logins work
again."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

from api import clock
from api.privacy import retention
from tests.helpers import ACCEPT, ADD_USER, PASSWORD, VIEWER, Api, login
from tests.operators.support import (
    REACTIVATE,
    SUSPEND,
    TENANTS,
    new_id,
    operator_log,
    operator_login,
    signed_in_operator,
    tenant_id,
)
from tests.queries import REQUEST_PASSWORD_RESET, RESET_PASSWORD


async def test_suspension_ends_every_session_and_stops_logins(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    other = await api.owner("globex")
    staff = await signed_in_operator(api)
    assert (await member.browser.gql(VIEWER)).data["viewer"] is not None

    suspended = (await staff.gql(SUSPEND, {"id": await tenant_id(api, "acme")})).ok("suspendTenant")["tenant"]
    assert suspended["state"] == "SUSPENDED" and suspended["stateChangedAt"]

    for browser in (owner.browser, member.browser):
        assert (await browser.gql(VIEWER)).data["viewer"] is None
        assert (await browser.gql("{ users(first: 5) { totalCount } }")).codes == ["UNAUTHENTICATED"]
    assert await api.count("user_session", "tenant_id = (SELECT id FROM tenant WHERE slug = 'acme')") == 0
    # Another tenant is untouched.
    assert (await other.browser.gql(VIEWER)).data["viewer"]["tenant"]["slug"] == "globex"

    right = await login(api.browser())
    assert right.user_errors("login") == [(None, "TENANT_SUSPENDED")]
    assert "suspended" in right.data["login"]["errors"][0]["message"]
    assert "set-cookie" not in right.response.headers
    wrong = await login(api.browser(), PASSWORD + "!")
    assert wrong.user_errors("login") == [(None, "INVALID_CREDENTIALS")]  # a guesser learns nothing
    reasons = [
        json.loads(r["changes"])["reason"]["new"]
        for r in await api.db.fetch("SELECT changes FROM audit_event WHERE action = 'login.failed' ORDER BY id")
    ]
    assert reasons == ["tenant_suspended", "wrong_password"]
    [event] = await api.db.fetch("SELECT * FROM audit_event WHERE action = 'tenant.suspended'")
    assert event["actor_type"] == "OPERATOR" and str(event["actor_id"]) == staff.id
    assert json.loads(event["changes"]) == {
        "state": {"old": "ACTIVE", "new": "SUSPENDED"},
        "sessions_revoked": {"new": 2},
    }
    # The data is kept.
    assert await api.count("app_user", "tenant_id = (SELECT id FROM tenant WHERE slug = 'acme')") == 2


async def test_reactivation_lets_users_log_in_again_but_old_sessions_stay_ended(api: Api) -> None:
    owner = await api.owner("acme")
    staff = await signed_in_operator(api)
    acme = await tenant_id(api, "acme")
    old_cookie = owner.browser.session_cookie
    (await staff.gql(SUSPEND, {"id": acme})).ok("suspendTenant")
    reactivated = (await staff.gql(REACTIVATE, {"id": acme})).ok("reactivateTenant")["tenant"]
    assert reactivated["state"] == "ACTIVE"
    assert (await api.browser().gql(VIEWER, authorization=f"Bearer {old_cookie}")).data["viewer"] is None
    browser = api.browser()
    (await login(browser)).ok("login")
    assert (await browser.gql(VIEWER)).data["viewer"]["user"]["id"] == owner.id
    [event] = await operator_log(api, "action = 'tenant.reactivated'")
    assert str(event["tenant_id"]) == acme and str(event["operator_id"]) == staff.id


async def test_a_session_made_by_a_login_racing_the_suspension_does_not_work(api: Api) -> None:
    """Sessions are looked up only for ACTIVE tenants, whatever rows exist."""
    owner = await api.owner("acme")
    staff = await signed_in_operator(api)
    acme = await tenant_id(api, "acme")
    (await staff.gql(SUSPEND, {"id": acme})).ok("suspendTenant")
    await api.db.execute(
        "INSERT INTO user_session (id, tenant_id, user_id, token_hash, stage, expires_at) "
        "VALUES (gen_random_uuid(), $1::uuid, $2::uuid, sha256('late-token'::bytea), 'full', now() + interval '1 hour')",
        acme,
        owner.id,
    )
    assert (await api.browser().gql(VIEWER, authorization="Bearer late-token")).data["viewer"] is None


async def test_a_suspended_tenants_emailed_links_do_nothing_until_reactivation(api: Api) -> None:
    owner = await api.owner("acme")
    (await owner.browser.gql(ADD_USER, {"input": {"username": "ivy", "email": "ivy@acme.example"}})).ok("addUser")
    invitation = await api.queued_token("ivy@acme.example")
    await api.browser().gql(REQUEST_PASSWORD_RESET, {"t": "acme", "e": "owner@acme.example"})
    reset = await api.queued_token("owner@acme.example")
    staff = await signed_in_operator(api)
    acme = await tenant_id(api, "acme")
    (await staff.gql(SUSPEND, {"id": acme})).ok("suspendTenant")

    accepted = await api.browser().gql(ACCEPT, {"token": invitation, "password": PASSWORD})
    assert accepted.user_errors("acceptInvitation") == [("input.token", "INVALID_TOKEN")]
    result = await api.browser().gql(RESET_PASSWORD, {"t": reset, "p": "plum-harbour-lantern-93-kite"})
    assert result.user_errors("resetPassword") == [("input.token", "INVALID_TOKEN")]
    queued = len(await api.queued_to("owner@acme.example"))
    (await api.browser().gql(REQUEST_PASSWORD_RESET, {"t": "acme", "e": "owner@acme.example"})).ok(
        "requestPasswordReset"
    )
    assert len(await api.queued_to("owner@acme.example")) == queued  # nothing sent

    (await staff.gql(REACTIVATE, {"id": acme})).ok("reactivateTenant")
    (await api.browser().gql(ACCEPT, {"token": invitation, "password": PASSWORD})).ok("acceptInvitation")


async def test_suspending_twice_or_reactivating_an_active_or_closed_tenant_is_refused(api: Api) -> None:
    await api.create_tenant("acme")
    await api.create_tenant("globex")
    await api.db.execute(
        "UPDATE tenant SET state = 'CLOSED', closed_at = now(), retain_until = now() + interval '7 years' "
        "WHERE slug = 'globex'"
    )
    staff = await signed_in_operator(api)
    acme, globex = await tenant_id(api, "acme"), await tenant_id(api, "globex")
    assert (await staff.gql(REACTIVATE, {"id": acme})).user_errors("reactivateTenant") == [
        ("input.tenantId", "INVALID_INPUT")
    ]
    (await staff.gql(SUSPEND, {"id": acme})).ok("suspendTenant")
    assert (await staff.gql(SUSPEND, {"id": acme})).user_errors("suspendTenant") == [
        ("input.tenantId", "INVALID_INPUT")
    ]
    for query, name in ((SUSPEND, "suspendTenant"), (REACTIVATE, "reactivateTenant")):
        assert (await staff.gql(query, {"id": globex})).user_errors(name) == [("input.tenantId", "TENANT_CLOSED")]
        assert (await staff.gql(query, {"id": new_id()})).user_errors(name) == [("input.tenantId", "NOT_FOUND")]
    assert len(await operator_log(api, "action = 'tenant.suspended'")) == 1
    assert await operator_log(api, "action = 'tenant.reactivated'") == []


async def test_the_reason_is_the_vendors_note_plain_text_and_kept_from_the_tenant(api: Api) -> None:
    await api.owner("acme")
    staff = await signed_in_operator(api)
    acme = await tenant_id(api, "acme")
    for bad in ("x" * 501, "unpaid\u202einvoice", "line\nbreak"):
        result = await staff.gql(SUSPEND, {"id": acme, "reason": bad})
        assert result.user_errors("suspendTenant") == [("input.reason", "INVALID_INPUT")], bad
    (await staff.gql(SUSPEND, {"id": acme, "reason": "  Invoices unpaid since March  "})).ok("suspendTenant")
    changes = json.loads(await api.db.fetchval("SELECT changes FROM audit_event WHERE action = 'tenant.suspended'"))
    assert changes["reason_given"] == {"new": True} and "reason" not in changes  # it may name people
    [logged] = await operator_log(api, "action = 'tenant.suspended'")
    assert json.loads(logged["changes"])["reason"] == {"new": "Invoices unpaid since March"}


async def test_a_suspended_tenants_users_are_not_erased_for_inactivity(api: Api) -> None:
    owner = await api.owner("acme")
    await api.member(owner, "mia")
    await api.db.execute("UPDATE tenant SET inactive_account_retention_days = 30")
    staff = await signed_in_operator(api)
    acme = await tenant_id(api, "acme")
    (await staff.gql(SUSPEND, {"id": acme})).ok("suspendTenant")
    clock.advance(timedelta(days=90))
    for _ in range(2):  # warned, then past the warning: erased, were the tenant active
        async with api.unit() as work:
            totals = await retention.run(work)
        assert (totals["warned_accounts"], totals["erased_accounts"]) == (0, 0)
        clock.advance(timedelta(days=15))
    assert await api.count("app_user") == 2
    assert await api.count("audit_event", "action IN ('user.inactivity_warned', 'user.erased')") == 0
    # Active again, the policy applies as before (a warning first).
    assert staff.browser is not None
    (await operator_login(staff.browser, staff.username, staff.secret)).ok("operatorLogin")  # the session timed out
    (await staff.gql(REACTIVATE, {"id": acme})).ok("reactivateTenant")
    async with api.unit() as work:
        assert (await retention.run(work))["warned_accounts"] == 1  # the member; the sole owner is kept


async def test_operators_see_the_state_in_the_tenant_list(api: Api) -> None:
    await api.create_tenant("acme")
    staff = await signed_in_operator(api)
    (await staff.gql(SUSPEND, {"id": await tenant_id(api, "acme")})).ok("suspendTenant")
    node = (await staff.gql(TENANTS)).data["tenants"]["edges"][0]["node"]
    assert node["state"] == "SUSPENDED" and node["stateChangedAt"]


async def test_logins_and_acceptances_racing_a_suspension_leave_no_session_to_come_back(api: Api) -> None:
    """A sign-in either finishes before the suspension (whose end of every session then
    includes it) or sees the suspension: none slips between them and revives later."""
    owner = await api.owner("acme", seats=20)
    tokens = []
    for i in range(8):
        address = f"new{i}@acme.example"
        (await owner.browser.gql(ADD_USER, {"input": {"username": f"new{i}", "email": address}})).ok("addUser")
        tokens.append(await api.queued_token(address))
    staff = await signed_in_operator(api)
    acme = await tenant_id(api, "acme")
    browsers = [api.browser() for _ in range(16)]

    async def suspend_soon() -> object:
        await asyncio.sleep(0.03)
        return await staff.gql(SUSPEND, {"id": acme})

    results = await asyncio.gather(
        *(login(browser) for browser in browsers[:8]),
        *(b.gql(ACCEPT, {"token": t, "password": PASSWORD}) for b, t in zip(browsers[8:], tokens, strict=True)),
        suspend_soon(),
    )
    assert all(not r.errors for r in results[:-1]), [r.body for r in results[:-1] if r.errors]  # type: ignore[attr-defined]
    assert await api.count("user_session", "tenant_id = $1", uuid.UUID(acme)) == 0
    (await staff.gql(REACTIVATE, {"id": acme})).ok("reactivateTenant")
    for browser in browsers:
        assert (await browser.gql(VIEWER)).data == {"viewer": None}
