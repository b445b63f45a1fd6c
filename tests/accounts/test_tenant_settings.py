"""updateTenantSettings: administrators tune their organisation within safe bounds."""

from __future__ import annotations

import json

from tests.helpers import Api

UPDATE = """
mutation($input: UpdateTenantSettingsInput!) { updateTenantSettings(input: $input) {
  tenant { name requireMfa sessionIdleTimeoutMinutes sessionAbsoluteTimeoutHours inactiveAccountRetentionDays seatLimit seatsUsed }
  errors { field message code } } }
"""


async def test_admin_changes_settings_and_the_values_are_audited(api: Api) -> None:
    owner = await api.owner("acme", seats=5)
    admin = await api.member(owner, "ada", role="ADMIN")
    result = await admin.browser.gql(
        UPDATE,
        {
            "input": {
                "name": "Acme Europe",
                "requireMfa": True,
                "sessionIdleTimeoutMinutes": 15,
                "sessionAbsoluteTimeoutHours": 8,
            }
        },
    )
    assert result.ok("updateTenantSettings")["tenant"] == {
        "name": "Acme Europe",
        "requireMfa": True,
        "sessionIdleTimeoutMinutes": 15,
        "sessionAbsoluteTimeoutHours": 8,
        "inactiveAccountRetentionDays": None,
        "seatLimit": 5,
        "seatsUsed": 2,
    }
    changes = json.loads(
        await api.db.fetchval("SELECT changes FROM audit_event WHERE action = 'tenant.settings_changed'")
    )
    assert changes["session_idle_timeout_minutes"] == {"old": 30, "new": 15}
    assert changes["require_mfa"] == {"old": False, "new": True}
    assert changes["name"] == {"old": "Acme Ltd", "new": "Acme Europe"}


async def test_omitted_fields_stay_and_an_explicit_null_clears_retention(api: Api) -> None:
    owner = await api.owner("acme")
    (await owner.browser.gql(UPDATE, {"input": {"inactiveAccountRetentionDays": 90}})).ok("updateTenantSettings")
    kept = (await owner.browser.gql(UPDATE, {"input": {"sessionIdleTimeoutMinutes": 60}})).ok("updateTenantSettings")
    assert kept["tenant"]["inactiveAccountRetentionDays"] == 90
    cleared = (await owner.browser.gql(UPDATE, {"input": {"inactiveAccountRetentionDays": None}})).ok(
        "updateTenantSettings"
    )
    assert cleared["tenant"]["inactiveAccountRetentionDays"] is None
    assert cleared["tenant"]["sessionIdleTimeoutMinutes"] == 60


async def test_out_of_range_values_are_refused_field_by_field_and_nothing_changes(api: Api) -> None:
    owner = await api.owner("acme")
    result = await owner.browser.gql(
        UPDATE,
        {
            "input": {
                "name": " ",
                "sessionIdleTimeoutMinutes": 0,
                "sessionAbsoluteTimeoutHours": 100000,
                "inactiveAccountRetentionDays": 1,
            }
        },
    )
    assert sorted(result.user_errors("updateTenantSettings")) == [
        ("input.inactiveAccountRetentionDays", "INVALID_INPUT"),
        ("input.name", "INVALID_INPUT"),
        ("input.sessionAbsoluteTimeoutHours", "INVALID_INPUT"),
        ("input.sessionIdleTimeoutMinutes", "INVALID_INPUT"),
    ]
    idle_over_absolute = await owner.browser.gql(
        UPDATE, {"input": {"sessionIdleTimeoutMinutes": 180, "sessionAbsoluteTimeoutHours": 2}}
    )
    assert idle_over_absolute.user_errors("updateTenantSettings") == [
        ("input.sessionIdleTimeoutMinutes", "INVALID_INPUT")
    ]
    assert await api.db.fetchval("SELECT name FROM tenant") == "Acme Ltd"
    assert await api.count("audit_event", "action = 'tenant.settings_changed'") == 0


async def test_members_cannot_change_settings(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    assert (await member.browser.gql(UPDATE, {"input": {"requireMfa": True}})).codes == ["FORBIDDEN"]
    assert (await api.browser().gql(UPDATE, {"input": {"requireMfa": True}})).codes == ["UNAUTHENTICATED"]
    assert await api.db.fetchval("SELECT require_mfa FROM tenant") is False


async def test_only_an_owner_sets_the_policy_that_erases_inactive_accounts(api: Api) -> None:
    """An administrator could otherwise have the owners erased by the retention job."""
    owner = await api.owner("acme")
    admin = await api.member(owner, "ada", role="ADMIN")
    for value in (30, None):
        assert (await admin.browser.gql(UPDATE, {"input": {"inactiveAccountRetentionDays": value}})).codes == [
            "FORBIDDEN"
        ]
    assert (await owner.browser.gql(UPDATE, {"input": {"inactiveAccountRetentionDays": 30}})).ok("updateTenantSettings")
    assert await api.db.fetchval("SELECT inactive_account_retention_days FROM tenant") == 30


async def test_only_the_owner_sets_how_long_the_audit_log_keeps_events(api: Api) -> None:
    owner = await api.owner("acme")
    admin = await api.member(owner, "ada", role="ADMIN")
    query = "mutation($d: Int) { updateTenantSettings(input: {auditRetentionDays: $d}) { tenant { auditRetentionDays } errors { field code } } }"
    assert (await admin.browser.gql(query, {"d": 60})).codes == ["FORBIDDEN"]
    for days in (29, 3651, -1):
        refused = await owner.browser.gql(query, {"d": days})
        assert refused.user_errors("updateTenantSettings") == [("input.auditRetentionDays", "INVALID_INPUT")]
    assert (await owner.browser.gql(query, {"d": 30})).ok("updateTenantSettings")["tenant"] == {
        "auditRetentionDays": 30
    }
    changes = json.loads(
        await api.db.fetchval("SELECT changes FROM audit_event WHERE action = 'tenant.settings_changed'")
    )
    assert changes == {"audit_retention_days": {"old": 730, "new": 30}}
    # null leaves it as it is, for anyone.
    kept = await admin.browser.gql(query, {"d": None})
    assert kept.ok("updateTenantSettings")["tenant"] == {"auditRetentionDays": 30}
