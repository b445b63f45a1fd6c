"""Server-side sessions: listing, revocation, timeouts enforced on the server, purging."""

from __future__ import annotations

from datetime import timedelta

from api import clock
from api.jobs import maintenance
from tests.helpers import SESSIONS, VIEWER, Api, login, reauthenticate

REVOKE = "mutation($id: ID!) { revokeSession(id: $id) { ok errors { field code } } }"
REVOKE_OTHERS = "mutation { revokeOtherSessions { revokedCount errors { code } } }"
REVOKE_USER = "mutation($id: ID!) { revokeUserSessions(id: $id) { revokedCount errors { field code } } }"
SETTINGS = "mutation($i: UpdateTenantSettingsInput!) { updateTenantSettings(input: $i) { errors { code } } }"


async def test_a_user_sees_their_sessions_with_the_current_one_marked(api: Api) -> None:
    owner = await api.owner("acme")
    phone = api.browser()
    phone.http.headers["user-agent"] = "Phone/2.0"
    (await login(phone)).ok("login")
    listed = (await owner.browser.gql(SESSIONS)).data["viewer"]["sessions"]
    assert len(listed) == 2
    current = [s for s in listed if s["current"]]
    assert len(current) == 1 and current[0]["userAgent"] == "pytest-browser/1.0"
    other = next(s for s in listed if not s["current"])
    assert other["userAgent"] == "Phone/2.0" and other["ipAddress"] == "127.0.0.1"
    assert other["mfaVerified"] is False and other["createdAt"] <= other["lastSeenAt"] < other["expiresAt"]


async def test_revoking_one_session_ends_it(api: Api) -> None:
    owner = await api.owner("acme")
    phone = api.browser()
    (await login(phone)).ok("login")
    other = next(s for s in (await owner.browser.gql(SESSIONS)).data["viewer"]["sessions"] if not s["current"])
    (await owner.browser.gql(REVOKE, {"id": other["id"]})).ok("revokeSession")
    assert (await phone.gql(VIEWER)).data["viewer"] is None
    assert (await owner.browser.gql(VIEWER)).data["viewer"] is not None
    again = await owner.browser.gql(REVOKE, {"id": other["id"]})
    assert again.user_errors("revokeSession") == [("id", "NOT_FOUND")]


async def test_nobody_revokes_a_session_of_someone_else_by_id(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    mine = (await member.browser.gql(SESSIONS)).data["viewer"]["sessions"][0]["id"]
    result = await owner.browser.gql(REVOKE, {"id": mine})
    assert result.user_errors("revokeSession") == [("id", "NOT_FOUND")]
    assert (await member.browser.gql(VIEWER)).data["viewer"] is not None


async def test_revoke_other_sessions_keeps_only_the_current(api: Api) -> None:
    owner = await api.owner("acme")
    others = [api.browser() for _ in range(3)]
    for browser in others:
        (await login(browser)).ok("login")
    assert (await owner.browser.gql(REVOKE_OTHERS)).ok("revokeOtherSessions")["revokedCount"] == 3
    for browser in others:
        assert (await browser.gql(VIEWER)).data["viewer"] is None
    assert (await owner.browser.gql(VIEWER)).data["viewer"] is not None


async def test_an_admin_revokes_every_session_of_a_user_in_their_tenant(api: Api) -> None:
    owner = await api.owner("acme")
    admin = await api.member(owner, "ada", role="ADMIN")
    member = await api.member(owner, "mia")
    assert (await admin.browser.gql(REVOKE_USER, {"id": member.id})).ok("revokeUserSessions")["revokedCount"] == 1
    assert (await member.browser.gql(VIEWER)).data["viewer"] is None
    assert (await admin.browser.gql(REVOKE_USER, {"id": owner.id})).codes == ["FORBIDDEN"]
    assert (await member.browser.gql(REVOKE_USER, {"id": admin.id})).codes == ["UNAUTHENTICATED"]
    globex = await api.owner("globex")
    assert (await globex.browser.gql(REVOKE_USER, {"id": admin.id})).user_errors("revokeUserSessions") == [
        ("id", "NOT_FOUND")
    ]
    assert (await admin.browser.gql(VIEWER)).data["viewer"] is not None


async def test_a_session_idle_longer_than_the_tenant_allows_ends(api: Api) -> None:
    owner = await api.owner("acme")
    (await owner.browser.gql(SETTINGS, {"i": {"sessionIdleTimeoutMinutes": 10}})).ok("updateTenantSettings")
    clock.advance(timedelta(minutes=9))
    assert (await owner.browser.gql(VIEWER)).data["viewer"] is not None  # activity renews the idle timer
    clock.advance(timedelta(minutes=9))
    assert (await owner.browser.gql(VIEWER)).data["viewer"] is not None
    clock.advance(timedelta(minutes=10, seconds=1))
    assert (await owner.browser.gql(VIEWER)).data["viewer"] is None


async def test_a_session_ends_at_the_absolute_timeout_however_active(api: Api) -> None:
    owner = await api.owner("acme")
    (await owner.browser.gql(SETTINGS, {"i": {"sessionAbsoluteTimeoutHours": 1, "sessionIdleTimeoutMinutes": 30}})).ok(
        "updateTenantSettings"
    )
    (await login(owner.browser)).ok("login")  # the absolute timeout applies to sessions made from now on
    for _ in range(3):
        clock.advance(timedelta(minutes=19))
        assert (await owner.browser.gql(VIEWER)).data["viewer"] is not None
    clock.advance(timedelta(minutes=4))
    assert (await owner.browser.gql(VIEWER)).data["viewer"] is None


async def test_last_seen_is_written_at_most_once_a_minute(api: Api) -> None:
    owner = await api.owner("acme")
    seen = "SELECT last_seen_at FROM user_session WHERE user_id = $1::uuid"
    first = await api.db.fetchval(seen, owner.id)
    clock.advance(timedelta(seconds=30))
    await owner.browser.gql(VIEWER)
    assert await api.db.fetchval(seen, owner.id) == first
    clock.advance(timedelta(seconds=31))
    await owner.browser.gql(VIEWER)
    assert await api.db.fetchval(seen, owner.id) > first


async def test_the_purge_job_deletes_expired_sessions_and_audits_it_as_system(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    clock.advance(timedelta(minutes=20))
    await owner.browser.gql(VIEWER)  # the owner stays active
    clock.advance(timedelta(minutes=20))
    async with api.transaction() as db:
        counts = await maintenance.purge_expired(db)
    assert counts["sessions"] == 1
    assert await api.count("user_session", "user_id = $1::uuid", member.id) == 0
    assert await api.count("user_session", "user_id = $1::uuid", owner.id) == 1
    event = await api.db.fetchrow("SELECT actor_type, changes FROM audit_event WHERE action = 'session.purged'")
    assert event["actor_type"] == "SYSTEM" and event["changes"] == '{"count": {"new": 1}}'


async def test_requiring_a_second_factor_reaches_sessions_made_without_one(api: Api) -> None:
    """Turning requireMfa on does not leave sessions without a second factor working:
    they can enroll (or give a code) and do nothing else."""
    from tests.helpers import BEGIN, CONFIRM, code

    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    (await owner.browser.gql(SETTINGS, {"i": {"requireMfa": True}})).ok("updateTenantSettings")
    for who in (owner, member):
        assert (await who.browser.gql(VIEWER)).data == {"viewer": None}
        assert (await who.browser.gql(REVOKE_OTHERS)).codes == ["UNAUTHENTICATED"]
    begun = (await member.browser.gql(BEGIN)).ok("beginTotpEnrollment")
    (await member.browser.gql(CONFIRM, {"c": code(begun["secret"])})).ok("confirmTotpEnrollment")
    assert (await member.browser.gql(VIEWER)).data["viewer"]["user"]["username"] == "mia"


async def test_a_shorter_absolute_timeout_applies_to_sessions_already_made(api: Api) -> None:
    owner = await api.owner("acme")
    laptop = api.browser()
    (await login(laptop)).ok("login")
    for _ in range(6):  # two and a half hours of use, within the idle timeout each time
        clock.advance(timedelta(minutes=25))
        assert (await laptop.gql(VIEWER)).data["viewer"] is not None
        assert (await owner.browser.gql(VIEWER)).data["viewer"] is not None
    await reauthenticate(owner.browser)  # a security setting: the login was long ago
    (await owner.browser.gql(SETTINGS, {"i": {"sessionAbsoluteTimeoutHours": 2}})).ok("updateTenantSettings")
    assert (await laptop.gql(VIEWER)).data == {"viewer": None}
    assert (await owner.browser.gql(VIEWER)).data == {"viewer": None}
    fresh = api.browser()
    (await login(fresh)).ok("login")
    assert (await fresh.gql(SESSIONS)).data["viewer"]["sessions"][0]["expiresAt"] is not None
