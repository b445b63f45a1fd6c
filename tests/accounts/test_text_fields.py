"""Every human-readable text field refuses characters that break what carries the text
or change how it reads: control characters, line separators, bidi overrides, invisible
formatting. Multi-line descriptions may hold line breaks and tabs, nothing else."""

from __future__ import annotations

import pytest

from api.errors import UserFailure
from api.usecases.onboarding import create_tenant
from tests.helpers import ADD_USER, Api

HOSTILE = [
    "Acme\r\nBcc: x@evil.example",
    "Acme\x1b[31m",
    "Acme\u2028Ltd",
    "Acme\u202eLtd",
    "A\u200bcme",
    "Acme\u2066x\u2069",
    "Acme\x7f",
    "Acme\ue000",
    "Acme\u0378",
]
IDS = [
    "crlf",
    "escape",
    "line-separator",
    "bidi-override",
    "zero-width",
    "bidi-isolate",
    "delete",
    "private-use",
    "unassigned",
]

SETTINGS = "mutation($n: String) { updateTenantSettings(input: {name: $n}) { tenant { name } errors { field code } } }"
PROFILE = (
    "mutation($d: String) { updateProfile(input: {displayName: $d}) { user { displayName } errors { field code } } }"
)
UPDATE = "mutation($id: ID!, $d: String) { updateUser(input: {id: $id, displayName: $d}) { user { id } errors { field code } } }"
PURPOSE = """mutation($t: String!, $d: String!) { upsertPurpose(input: {key: "briefing", title: $t, description: $d,
  legalBasis: CONSENT}) { purpose { title description } errors { field code } } }"""


@pytest.mark.parametrize("value", HOSTILE, ids=IDS)
async def test_names_and_titles_refuse_hostile_characters(api: Api, value: str) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    assert (await owner.browser.gql(SETTINGS, {"n": value})).user_errors("updateTenantSettings") == [
        ("input.name", "INVALID_INPUT")
    ]
    assert (await member.browser.gql(PROFILE, {"d": value})).user_errors("updateProfile") == [
        ("input.displayName", "INVALID_INPUT")
    ]
    assert (await owner.browser.gql(UPDATE, {"id": member.id, "d": value})).user_errors("updateUser") == [
        ("input.displayName", "INVALID_INPUT")
    ]
    added = await owner.browser.gql(
        ADD_USER, {"input": {"username": "zed", "email": "zed@acme.example", "displayName": value}}
    )
    assert added.user_errors("addUser") == [("input.displayName", "INVALID_INPUT")]
    titled = await owner.browser.gql(PURPOSE, {"t": value, "d": "A weekly briefing."})
    assert titled.user_errors("upsertPurpose") == [("input.title", "INVALID_INPUT")]
    described = await owner.browser.gql(PURPOSE, {"t": "Briefing", "d": value.replace("\r\n", "\x0b")})
    if value != HOSTILE[0]:
        assert described.user_errors("upsertPurpose") == [("input.description", "INVALID_INPUT")]
    assert await api.db.fetchval("SELECT name FROM tenant") == "Acme Ltd"
    with pytest.raises(UserFailure):
        async with api.unit() as work:
            await create_tenant(
                work, slug="evil", name=value, owner_username="o", owner_email="o@evil.example", seats=None
            )


async def test_descriptions_may_hold_line_breaks_and_tabs(api: Api) -> None:
    owner = await api.owner("acme")
    result = await owner.browser.gql(PURPOSE, {"t": "Briefing", "d": "Line one.\r\n\tLine two.\nLine three."})
    assert result.ok("upsertPurpose")["purpose"]["description"] == "Line one.\n\tLine two.\nLine three."


async def test_a_name_stored_before_the_rule_does_not_stop_the_mail(api: Api) -> None:
    token_owner = await api.owner("acme")
    await api.db.execute("UPDATE tenant SET name = E'Acme\\r\\nLtd'")
    await token_owner.browser.gql(ADD_USER, {"input": {"username": "newbie", "email": "newbie@acme.example"}})
    [message] = await api.mailbox.wait_for("newbie@acme.example")
    assert message.subject == "You have been invited to Acme Ltd"
