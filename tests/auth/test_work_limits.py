"""Work that sends email or grows storage has a per-account budget that no real user
meets, and past it RATE_LIMITED: successful logins (sessions), email changes, invitation
resends, exports, consent decisions."""

from __future__ import annotations

from tests.helpers import ADD_USER, PASSWORD, Api

LOGIN_FIELD = 'l{i}: login(input: {{tenant: "acme", identifier: "owner", password: "{p}"}}) {{ status }}'


async def test_aliased_logins_with_the_right_password_make_a_bounded_number_of_sessions(api: Api) -> None:
    await api.owner("acme")
    aliases = " ".join(LOGIN_FIELD.format(i=i, p=PASSWORD) for i in range(30))
    result = await api.browser().gql(f"mutation {{ {aliases} }}")
    assert result.codes == ["RATE_LIMITED"]
    assert await api.count("user_session") <= 21  # the owner's own, and twenty logins


async def test_successful_email_changes_are_limited(api: Api) -> None:
    owner = await api.owner("acme")
    change = f'mutation($e: String!) {{ changeEmail(input: {{newEmail: $e, password: "{PASSWORD}"}}) {{ ok }} }}'
    answers = [await owner.browser.gql(change, {"e": f"new{i}@elsewhere.example"}) for i in range(6)]
    assert [a.data["changeEmail"]["ok"] if a.data else a.codes[0] for a in answers] == [True] * 5 + ["RATE_LIMITED"]


async def test_resending_an_invitation_is_limited(api: Api) -> None:
    owner = await api.owner("acme")
    added = await owner.browser.gql(ADD_USER, {"input": {"username": "mia", "email": "mia@acme.example"}})
    user_id = added.ok("addUser")["user"]["id"]
    resend = "mutation($id: ID!) { resendInvitation(id: $id) { ok } }"
    answers = [await owner.browser.gql(resend, {"id": user_id}) for _ in range(6)]
    assert [a.data["resendInvitation"]["ok"] if a.data else a.codes[0] for a in answers] == [True] * 5 + [
        "RATE_LIMITED"
    ]


async def test_exports_one_after_another_are_limited(api: Api) -> None:
    owner = await api.owner("acme")
    export = "mutation { requestDataExport { dataRequest { id } errors { code } } }"
    answers = []
    for _ in range(6):
        result = await owner.browser.gql(export)
        answers.append(result.codes[0] if result.codes else result.payload("requestDataExport")["errors"])
        await api.db.execute("UPDATE data_request SET status = 'COMPLETED', completed_at = now()")  # as if built
    assert answers == [[]] * 5 + ["RATE_LIMITED"]


async def test_consent_decisions_are_limited(api: Api) -> None:
    owner = await api.owner("acme")
    keys = ["newsletter", "renewal-reminders", "product-analytics", "review-invitations"]
    toggle = "mutation($i: [ConsentDecisionInput!]!) { setConsents(input: $i) { errors { code } } }"
    for round_ in range(75):  # 300 decisions
        decisions = [{"purposeKey": k, "granted": round_ % 2 == 0} for k in keys]
        assert not (await owner.browser.gql(toggle, {"i": decisions})).errors
    assert (await owner.browser.gql(toggle, {"i": [{"purposeKey": "newsletter", "granted": True}]})).codes == [
        "RATE_LIMITED"
    ]
    assert await api.count("consent_event") == 300
