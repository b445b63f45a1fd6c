"""Purposes and consent: decisions with proof, versioned history, withdrawal by link."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from api import clock
from api.privacy.unsubscribe import make_token
from tests.helpers import Api
from tests.queries import SET_CONSENTS

PURPOSES = "query($t: String!) { purposes(tenant: $t) { key title legalBasis version active } }"
STATE = "{ viewer { consents { purpose { key version } granted version needsRenewal updatedAt } consentHistory { purposeKey granted version source recordedAt } } }"
UPSERT = """mutation($k: String!, $t: String!, $d: String!, $b: LegalBasis!, $bump: Boolean!) {
  upsertPurpose(input: {key: $k, title: $t, description: $d, legalBasis: $b, bumpVersion: $bump}) {
    purpose { key title version legalBasis active } errors { field code } } }"""
ARCHIVE = "mutation($k: String!) { archivePurpose(key: $k) { purpose { key active } errors { field code } } }"
WITHDRAW = "mutation($t: String!) { withdrawConsentByToken(token: $t) { ok errors { field code } } }"
REPORT = "{ consentReport { purpose { key } granted withdrawn undecided } }"


def consent(state: dict, key: str) -> dict:  # type: ignore[type-arg]
    return next(c for c in state["viewer"]["consents"] if c["purpose"]["key"] == key)


async def test_a_new_tenant_has_the_default_catalogue_publicly(api: Api) -> None:
    await api.owner("acme")
    listed = (await api.browser().gql(PURPOSES, {"t": "acme"})).data["purposes"]
    assert [(p["key"], p["legalBasis"]) for p in listed] == [
        ("account", "CONTRACT"),
        ("support", "CONTRACT"),
        ("fraud-prevention", "LEGITIMATE_INTEREST"),
        ("newsletter", "CONSENT"),
        ("renewal-reminders", "CONSENT"),
        ("product-analytics", "CONSENT"),
        ("review-invitations", "CONSENT"),
    ]
    assert (await api.browser().gql(PURPOSES, {"t": "no-such-tenant"})).data == {"purposes": []}


async def test_grant_withdraw_bump_and_regrant_leave_the_full_history(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    assert consent((await member.browser.gql(STATE)).data, "newsletter") == {
        "purpose": {"key": "newsletter", "version": 1},
        "granted": False,
        "version": None,
        "needsRenewal": False,
        "updatedAt": None,
    }
    (await member.browser.gql(SET_CONSENTS, {"i": [{"purposeKey": "newsletter", "granted": True}]})).ok("setConsents")
    (await member.browser.gql(SET_CONSENTS, {"i": [{"purposeKey": "newsletter", "granted": False}]})).ok("setConsents")
    (await member.browser.gql(SET_CONSENTS, {"i": [{"purposeKey": "newsletter", "granted": True}]})).ok("setConsents")
    bump = {
        "k": "newsletter",
        "t": "Newsletter, offers and partner offers",
        "d": "Now with partners.",
        "b": "CONSENT",
        "bump": True,
    }
    assert (await owner.browser.gql(UPSERT, bump)).ok("upsertPurpose")["purpose"]["version"] == 2
    after_bump = consent((await member.browser.gql(STATE)).data, "newsletter")
    assert (after_bump["granted"], after_bump["version"], after_bump["needsRenewal"]) == (True, 1, True)
    (await member.browser.gql(SET_CONSENTS, {"i": [{"purposeKey": "newsletter", "granted": True}]})).ok("setConsents")
    state = (await member.browser.gql(STATE)).data
    renewed = consent(state, "newsletter")
    assert (renewed["granted"], renewed["version"], renewed["needsRenewal"]) == (True, 2, False)
    history = [(e["purposeKey"], e["granted"], e["version"], e["source"]) for e in state["viewer"]["consentHistory"]]
    assert history == [
        ("newsletter", True, 2, "web"),
        ("newsletter", True, 1, "web"),
        ("newsletter", False, 1, "web"),
        ("newsletter", True, 1, "web"),
    ]
    proof = await api.db.fetch(
        "SELECT host(ip_address) AS ip, recorded_at FROM consent_event WHERE user_id = $1::uuid", member.id
    )
    assert len(proof) == 4 and all(p["ip"] == "127.0.0.1" and p["recorded_at"] for p in proof)


async def test_a_material_change_emails_a_renewal_request_with_an_unsubscribe_link(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    (await member.browser.gql(SET_CONSENTS, {"i": [{"purposeKey": "newsletter", "granted": True}]})).ok("setConsents")
    bump = {"k": "newsletter", "t": "Newsletter", "d": "Changed materially.", "b": "CONSENT", "bump": True}
    (await owner.browser.gql(UPSERT, bump)).ok("upsertPurpose")
    [message] = [m for m in await api.mailbox.wait_for("mia@acme.example", count=2) if "review" in m.subject]
    unsubscribe = next(line for line in message.body.splitlines() if "/unsubscribe?token=" in line)
    token = unsubscribe.split("token=", 1)[1]
    (await api.browser().gql(WITHDRAW, {"t": __import__("urllib.parse").parse.unquote(token)})).ok(
        "withdrawConsentByToken"
    )
    state = consent((await member.browser.gql(STATE)).data, "newsletter")
    assert state["granted"] is False
    assert (await member.browser.gql(STATE)).data["viewer"]["consentHistory"][0]["source"] == "email-link"


async def test_an_unsubscribe_token_withdraws_exactly_one_consent_of_one_user(api: Api) -> None:
    owner = await api.owner("acme")
    mia = await api.member(owner, "mia")
    max_ = await api.member(owner, "max")
    both = [{"purposeKey": "newsletter", "granted": True}, {"purposeKey": "product-analytics", "granted": True}]
    for person in (mia, max_):
        (await person.browser.gql(SET_CONSENTS, {"i": both})).ok("setConsents")
    tenant_id = await api.db.fetchval("SELECT id FROM tenant")
    token = make_token(api.settings, tenant_id=tenant_id, user_id=uuid.UUID(mia.id), purpose_key="newsletter")
    (await api.browser().gql(WITHDRAW, {"t": token})).ok("withdrawConsentByToken")
    mia_state = (await mia.browser.gql(STATE)).data
    assert consent(mia_state, "newsletter")["granted"] is False
    assert consent(mia_state, "product-analytics")["granted"] is True
    assert all(
        c["granted"]
        for c in (await max_.browser.gql(STATE)).data["viewer"]["consents"]
        if c["purpose"]["key"] in ("newsletter", "product-analytics")
    )
    # Tampering with user or purpose breaks the signature.
    _payload, _, signature = token.rpartition(".")
    other_user = make_token(
        api.settings, tenant_id=tenant_id, user_id=uuid.UUID(max_.id), purpose_key="newsletter"
    ).rpartition(".")[0]
    other_purpose = make_token(
        api.settings, tenant_id=tenant_id, user_id=uuid.UUID(mia.id), purpose_key="product-analytics"
    ).rpartition(".")[0]
    for forged in (f"{other_user}.{signature}", f"{other_purpose}.{signature}", token[:-2] + "xx", "garbage", ""):
        assert (await api.browser().gql(WITHDRAW, {"t": forged})).user_errors("withdrawConsentByToken") == [
            ("token", "INVALID_TOKEN")
        ]
    assert consent((await max_.browser.gql(STATE)).data, "newsletter")["granted"] is True
    # A token is useless elsewhere: not a session, not a reset token.
    assert (await api.browser().gql("{ viewer { user { id } } }", authorization=f"Bearer {token}")).data == {
        "viewer": None
    }
    reset = "mutation($t: String!, $p: String!) { resetPassword(input: {token: $t, newPassword: $p}) { errors { field code } } }"
    misused = await api.browser().gql(reset, {"t": token, "p": "lumen-quarry-velvet-8-oboe"})
    assert misused.user_errors("resetPassword") == [("input.token", "INVALID_TOKEN")]


async def test_only_consent_purposes_can_be_decided(api: Api) -> None:
    owner = await api.owner("acme")
    result = await owner.browser.gql(
        SET_CONSENTS,
        {
            "i": [
                {"purposeKey": "account", "granted": False},
                {"purposeKey": "nope", "granted": True},
                {"purposeKey": "newsletter", "granted": True},
                {"purposeKey": "newsletter", "granted": False},
            ]
        },
    )
    assert result.user_errors("setConsents") == [
        ("input.0.purposeKey", "INVALID_INPUT"),
        ("input.1.purposeKey", "NOT_FOUND"),
        ("input.3.purposeKey", "INVALID_INPUT"),
    ]
    assert await api.count("consent_event") == 0


async def test_administrators_edit_and_archive_purposes(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    created = (
        await owner.browser.gql(
            UPSERT, {"k": "events", "t": "Events", "d": "Invitations to events.", "b": "CONSENT", "bump": False}
        )
    ).ok("upsertPurpose")
    assert created["purpose"] == {
        "key": "events",
        "title": "Events",
        "version": 1,
        "legalBasis": "CONSENT",
        "active": True,
    }
    edited = (
        await owner.browser.gql(
            UPSERT, {"k": "events", "t": "Events and webinars", "d": "Invitations.", "b": "CONSENT", "bump": False}
        )
    ).ok("upsertPurpose")
    assert edited["purpose"]["version"] == 1 and edited["purpose"]["title"] == "Events and webinars"
    (await owner.browser.gql(ARCHIVE, {"k": "events"})).ok("archivePurpose")
    assert "events" not in [p["key"] for p in (await api.browser().gql(PURPOSES, {"t": "acme"})).data["purposes"]]
    assert (await owner.browser.gql(ARCHIVE, {"k": "nope"})).user_errors("archivePurpose") == [("key", "NOT_FOUND")]
    bad = await owner.browser.gql(UPSERT, {"k": "Bad Key", "t": "", "d": "x", "b": "CONSENT", "bump": False})
    assert sorted(bad.user_errors("upsertPurpose")) == [
        ("input.key", "INVALID_INPUT"),
        ("input.title", "INVALID_INPUT"),
    ]
    assert (await member.browser.gql(UPSERT, {"k": "x1", "t": "X", "d": "x", "b": "CONSENT", "bump": False})).codes == [
        "FORBIDDEN"
    ]
    assert (await member.browser.gql(ARCHIVE, {"k": "newsletter"})).codes == ["FORBIDDEN"]


async def test_the_consent_report_counts_current_decisions(api: Api) -> None:
    owner = await api.owner("acme")
    mia = await api.member(owner, "mia")
    max_ = await api.member(owner, "max")
    (await mia.browser.gql(SET_CONSENTS, {"i": [{"purposeKey": "newsletter", "granted": True}]})).ok("setConsents")
    (await max_.browser.gql(SET_CONSENTS, {"i": [{"purposeKey": "newsletter", "granted": True}]})).ok("setConsents")
    (await max_.browser.gql(SET_CONSENTS, {"i": [{"purposeKey": "newsletter", "granted": False}]})).ok("setConsents")
    report = {
        r["purpose"]["key"]: (r["granted"], r["withdrawn"], r["undecided"])
        for r in (await owner.browser.gql(REPORT)).data["consentReport"]
    }
    assert report["newsletter"] == (1, 1, 1)
    assert report["product-analytics"] == (0, 0, 3)
    assert (await mia.browser.gql(REPORT)).codes == ["FORBIDDEN"]


async def test_an_unsubscribe_link_does_not_withdraw_a_consent_given_after_it_was_sent(api: Api) -> None:
    owner = await api.owner("acme")
    tenant_id = uuid.UUID(await api.db.fetchval("SELECT id::text FROM tenant"))
    (await owner.browser.gql(SET_CONSENTS, {"i": [{"purposeKey": "newsletter", "granted": True}]})).ok("setConsents")
    old_link = make_token(api.settings, tenant_id=tenant_id, user_id=uuid.UUID(owner.id), purpose_key="newsletter")
    clock.advance(timedelta(seconds=5))
    (await owner.browser.gql(SET_CONSENTS, {"i": [{"purposeKey": "newsletter", "granted": False}]})).ok("setConsents")
    clock.advance(timedelta(seconds=5))
    (await owner.browser.gql(SET_CONSENTS, {"i": [{"purposeKey": "newsletter", "granted": True}]})).ok("setConsents")
    refused = await api.browser().gql(WITHDRAW, {"t": old_link})
    assert refused.user_errors("withdrawConsentByToken") == [("token", "INVALID_TOKEN")]
    assert consent((await owner.browser.gql(STATE)).data, "newsletter")["granted"] is True
    fresh = make_token(api.settings, tenant_id=tenant_id, user_id=uuid.UUID(owner.id), purpose_key="newsletter")
    (await api.browser().gql(WITHDRAW, {"t": fresh})).ok("withdrawConsentByToken")
    assert consent((await owner.browser.gql(STATE)).data, "newsletter")["granted"] is False


async def test_the_legal_basis_of_a_purpose_does_not_change_under_its_decisions(api: Api) -> None:
    owner = await api.owner("acme")
    (await owner.browser.gql(SET_CONSENTS, {"i": [{"purposeKey": "newsletter", "granted": False}]})).ok("setConsents")
    for bump in (False, True):
        moved = await owner.browser.gql(
            UPSERT, {"k": "newsletter", "t": "Newsletter", "d": "News.", "b": "LEGITIMATE_INTEREST", "bump": bump}
        )
        assert moved.user_errors("upsertPurpose") == [("input.legalBasis", "INVALID_INPUT")]
    assert consent((await owner.browser.gql(STATE)).data, "newsletter")["granted"] is False
    assert await api.db.fetchval("SELECT legal_basis FROM purpose WHERE key = 'newsletter'") == "CONSENT"


async def test_one_unsubscribe_link_clicked_many_times_at_once_withdraws_once(api: Api) -> None:
    owner = await api.owner("acme")
    mia = await api.member(owner, "mia")
    (await mia.browser.gql(SET_CONSENTS, {"i": [{"purposeKey": "newsletter", "granted": True}]})).ok("setConsents")
    tenant_id = await api.db.fetchval("SELECT id FROM tenant")
    token = make_token(api.settings, tenant_id=tenant_id, user_id=uuid.UUID(mia.id), purpose_key="newsletter")
    results = await asyncio.gather(*(api.browser().gql(WITHDRAW, {"t": token}) for _ in range(12)))
    assert all(r.ok("withdrawConsentByToken") for r in results)
    withdrawn = "granted = false AND user_id = $1 AND purpose_key = 'newsletter'"
    assert await api.count("consent_event", withdrawn, uuid.UUID(mia.id)) == 1
    assert await api.count("audit_event", "action = 'consent.withdrawn'") == 1


async def test_a_new_version_racing_decisions_asks_every_holder_of_the_old_one(api: Api) -> None:
    """Grants given while the purpose changes either land before it (and their holders
    are asked to renew) or after it (on the new version): none is left unasked."""
    owner = await api.owner("acme", seats=10)
    members = [await api.member(owner, f"p{i}x") for i in range(6)]
    bump = {"k": "newsletter", "t": "Newsletter", "d": "Changed materially.", "b": "CONSENT", "bump": True}
    grant = {"i": [{"purposeKey": "newsletter", "granted": True}]}
    results = await asyncio.gather(
        *(m.browser.gql(SET_CONSENTS, grant) for m in members), owner.browser.gql(UPSERT, bump)
    )
    assert all(not r.errors for r in results), [r.body for r in results if r.errors]
    old_holders = {
        row["email"]
        for row in await api.db.fetch(
            "SELECT u.email FROM consent_current c JOIN app_user u ON u.id = c.user_id"
            " JOIN purpose p ON p.id = c.purpose_id WHERE p.key = 'newsletter' AND c.granted"
            " AND c.purpose_version < p.version"
        )
    }
    asked = {m.to for m in await _queued_renewals(api, [m.email for m in members])}
    assert asked == old_holders, (asked, old_holders)


async def _queued_renewals(api: Api, addresses: list[str]) -> list[Any]:
    found = []
    for address in addresses:
        found += [m for m in await api.queued_to(address) if "review" in m.subject.lower()]
    return found
