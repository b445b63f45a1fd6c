"""Languages: emails in the recipient's language with dates in their time zone; messages in
the request's language (the signed-in account's, else Accept-Language); an organisation's
default; purposes' texts per language; hostile language inputs refused or ignored."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from api import clock
from tests.helpers import ADD_USER, PASSWORD, Api, Member, login
from tests.queries import CHANGE_PASSWORD, REQUEST_PASSWORD_RESET, RESET_PASSWORD

# Written out here, not taken from the library the product uses: the test must be able to fail.
MONTHS = {
    "nl": [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ],
    "de": [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}
PROFILE = """mutation($i: UpdateProfileInput!) { updateProfile(input: $i) {
  user { locale timeZone } errors { field code message } } }"""
ME = "{ viewer { locale timeZone user { locale timeZone } tenant { defaultLocale timeZone } } }"
SETTINGS = """mutation($i: UpdateTenantSettingsInput!) { updateTenantSettings(input: $i) {
  tenant { defaultLocale timeZone } errors { field code message } } }"""
UPSERT = """mutation($i: PurposeInput!) { upsertPurpose(input: $i) {
  purpose { key title description translations { locale title description } } errors { field code message } } }"""
PURPOSES = "query($t: String!) { purposes(tenant: $t) { key title description } }"
SET_CONSENTS = """mutation($i: [ConsentDecisionInput!]!) { setConsents(input: $i) { errors { code } } }"""


def _day_and_time(moment: datetime, zone: str, locale: str) -> tuple[str, str]:
    """The month name and HH:MM a reader in `zone` sees for `moment`."""
    local = moment.astimezone(ZoneInfo(zone))
    return MONTHS[locale][local.month - 1], local.strftime("%H:%M")


def _moment_in(body: str, locale: str, zone: str, around: datetime) -> None:
    """The body names the moment (within a minute of `around`) in the zone, in the locale's words."""
    candidates = [_day_and_time(around + timedelta(seconds=s), zone, locale) for s in (-60, 0, 60)]
    assert any(month in body and time in body for month, time in candidates), (candidates, body)
    assert zone in body


async def _add(owner: Member, username: str, **extra: str) -> dict[str, str]:
    added = await owner.browser.gql(
        ADD_USER, {"input": {"username": username, "email": f"{username}@acme.example", **extra}}
    )
    return added.ok("addUser")["user"]


async def test_an_invitation_arrives_in_the_language_and_time_zone_the_administrator_chose(api: Api) -> None:
    owner = await api.owner("acme")
    await _add(owner, "daan", locale="nl", timeZone="Asia/Tokyo")
    [invitation] = await api.mailbox.wait_for("daan@acme.example")
    assert invitation.language == "nl"
    assert invitation.subject == "Je bent uitgenodigd voor Acme Ltd"
    assert "daan" in invitation.body and "Hallo" in invitation.body and "Hello" not in invitation.body
    _moment_in(invitation.body, "nl", "Asia/Tokyo", clock.now() + timedelta(days=7))


async def test_an_account_without_a_choice_follows_its_organisation(api: Api) -> None:
    owner = await api.owner("acme")
    changed = await owner.browser.gql(SETTINGS, {"i": {"defaultLocale": "de", "timeZone": "Europe/Berlin"}})
    assert changed.ok("updateTenantSettings")["tenant"] == {"defaultLocale": "de", "timeZone": "Europe/Berlin"}
    await _add(owner, "jonas")
    [invitation] = await api.mailbox.wait_for("jonas@acme.example")
    assert invitation.language == "de" and "Guten Tag" in invitation.body
    _moment_in(invitation.body, "de", "Europe/Berlin", clock.now() + timedelta(days=7))
    # The owner chose nothing either: the organisation's language is theirs now.
    assert (await owner.browser.gql(ME)).data["viewer"] == {
        "locale": "de",
        "timeZone": "Europe/Berlin",
        "user": {"locale": None, "timeZone": None},
        "tenant": {"defaultLocale": "de", "timeZone": "Europe/Berlin"},
    }


async def test_a_reset_email_follows_the_account_not_the_browser_that_asked(api: Api) -> None:
    owner = await api.owner("acme")
    chosen = await owner.browser.gql(PROFILE, {"i": {"locale": "de", "timeZone": "America/New_York"}})
    assert chosen.ok("updateProfile")["user"] == {"locale": "de", "timeZone": "America/New_York"}
    api.mailbox.clear()
    asked = await api.browser().gql(
        REQUEST_PASSWORD_RESET, {"t": "acme", "e": "owner@acme.example"}, **{"Accept-Language": "nl"}
    )
    asked.ok("requestPasswordReset")
    reset = await api.mailbox.wait_for_one("owner@acme.example", lambda m: "/reset-password?token=" in m.body)
    assert reset.language == "de"
    assert reset.subject == "Setzen Sie Ihr Acme Ltd-Passwort zurück" or "Passwort" in reset.subject
    _moment_in(reset.body, "de", "America/New_York", clock.now() + timedelta(hours=1))


async def test_an_anonymous_reset_answers_in_the_browsers_language_whether_or_not_the_address_is_known(
    api: Api,
) -> None:
    owner = await api.owner("acme")
    (await owner.browser.gql(PROFILE, {"i": {"locale": "nl"}})).ok("updateProfile")
    known = await api.browser().gql(
        REQUEST_PASSWORD_RESET, {"t": "acme", "e": "owner@acme.example"}, **{"Accept-Language": "de"}
    )
    unknown = await api.browser().gql(
        REQUEST_PASSWORD_RESET, {"t": "acme", "e": "nobody@acme.example"}, **{"Accept-Language": "de"}
    )
    assert known.body == unknown.body == {"data": {"requestPasswordReset": {"ok": True, "errors": []}}}
    assert known.response.headers.get("content-language") == unknown.response.headers.get("content-language")
    # A reset link that does not work says so in the browser's language, never the account's.
    refused = await api.browser().gql(
        RESET_PASSWORD, {"t": "x" * 40, "p": "a long new passphrase"}, **{"Accept-Language": "de"}
    )
    [error] = refused.payload("resetPassword")["errors"]
    assert error["code"] == "INVALID_TOKEN" and "Link" in error["message"] and "link is" not in error["message"]
    # A wrong password at login, too: the account's language (nl) would tell it exists.
    wrong = await api.browser().gql(
        'mutation { login(input: {tenant: "acme", identifier: "owner", password: "nope"}) { errors { code message } } }',
        **{"Accept-Language": "de-AT,de;q=0.9,en;q=0.1"},
    )
    [failure] = wrong.payload("login")["errors"]
    assert failure["code"] == "INVALID_CREDENTIALS"
    german = failure["message"]
    dutch = (
        await api.browser().gql(
            'mutation { login(input: {tenant: "acme", identifier: "nobody", password: "nope"}) { errors { message } } }',
            **{"Accept-Language": "nl"},
        )
    ).payload("login")["errors"][0]["message"]
    assert german != dutch and "Passwort" in german and "wachtwoord" in dutch


async def test_a_user_error_arrives_in_the_accounts_language_with_its_stable_code(api: Api) -> None:
    owner = await api.owner("acme")
    messages = {}
    for locale in ("en", "nl", "de"):
        (await owner.browser.gql(PROFILE, {"i": {"locale": locale}})).ok("updateProfile")
        # The browser asks for English: the account's choice wins once signed in.
        result = await owner.browser.gql(
            CHANGE_PASSWORD, {"c": "not my password", "n": "an entirely new passphrase"}, **{"Accept-Language": "en"}
        )
        [error] = result.payload("changePassword")["errors"]
        assert error["code"] == "INVALID_CREDENTIALS"
        messages[locale] = error["message"]
    assert len(set(messages.values())) == 3
    assert "wachtwoord" in messages["nl"].lower() and "passwort" in messages["de"].lower()


async def test_messages_with_values_and_top_level_errors_are_translated_too(api: Api) -> None:
    owner = await api.owner("acme")
    (await owner.browser.gql(PROFILE, {"i": {"locale": "de"}})).ok("updateProfile")
    long_name = await owner.browser.gql(PROFILE, {"i": {"displayName": "x" * 101}})
    [error] = long_name.payload("updateProfile")["errors"]
    assert error["code"] == "INVALID_INPUT" and "100" in error["message"] and "characters" not in error["message"]
    anonymous = await api.browser().gql("{ users(first: 1) { totalCount } }", **{"Accept-Language": "nl"})
    assert anonymous.codes == ["UNAUTHENTICATED"]
    assert anonymous.errors[0]["message"] != "Authentication required."


async def test_a_renewal_request_speaks_the_holders_language_with_the_purposes_own_words(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    (await member.browser.gql(PROFILE, {"i": {"locale": "nl", "timeZone": "Europe/Amsterdam"}})).ok("updateProfile")
    (await member.browser.gql(SET_CONSENTS, {"i": [{"purposeKey": "newsletter", "granted": True}]})).ok("setConsents")
    purpose = {
        "key": "newsletter",
        "title": "Newsletter",
        "description": "News, now weekly.",
        "legalBasis": "CONSENT",
        "bumpVersion": True,
        "translations": [
            {"locale": "nl", "title": "Wekelijkse nieuwsbrief", "description": "Nieuws, nu elke week."},
            {"locale": "de", "title": "Wöchentlicher Newsletter", "description": "Neuigkeiten, jetzt wöchentlich."},
        ],
    }
    saved = (await owner.browser.gql(UPSERT, {"i": purpose})).ok("upsertPurpose")["purpose"]
    assert [t["locale"] for t in saved["translations"]] == ["de", "nl"]
    changed_at = clock.now()
    renewal = next(m for m in await api.mailbox.wait_for("mia@acme.example", count=2) if "nieuwsbrief" in m.subject)
    assert renewal.language == "nl" and "Wekelijkse nieuwsbrief" in renewal.body and "Hallo" in renewal.body
    local = changed_at.astimezone(ZoneInfo("Europe/Amsterdam"))
    assert f"{local.day} {MONTHS['nl'][local.month - 1]} {local.year}" in renewal.body
    # Consent screens before login show the purpose in the browser's language, with a fallback.
    shown = {}
    for language in ("de", "nl", "fr", "en"):
        listed = await api.browser().gql(PURPOSES, {"t": "acme"}, **{"Accept-Language": language})
        shown[language] = next(p for p in listed.data["purposes"] if p["key"] == "newsletter")["title"]
    assert shown == {
        "de": "Wöchentlicher Newsletter",
        "nl": "Wekelijkse nieuwsbrief",
        "fr": "Newsletter",
        "en": "Newsletter",
    }
    # The purposes a tenant starts with come in all three languages.
    default = await api.browser().gql(PURPOSES, {"t": "acme"}, **{"Accept-Language": "de"})
    titles = {p["key"]: p["title"] for p in default.data["purposes"]}
    assert titles["support"] == "Kundenservice"


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"locale": "fr"}, "input.locale"),
        ({"locale": "nl" * 100}, "input.locale"),
        ({"locale": "n\u200bl"}, "input.locale"),
        ({"timeZone": "Mars/Olympus"}, "input.timeZone"),
        ({"timeZone": "../../etc/passwd"}, "input.timeZone"),
        ({"timeZone": "Europe/" + "A" * 10_000}, "input.timeZone"),
    ],
)
async def test_an_unknown_language_or_time_zone_is_refused_and_nothing_changes(
    api: Api, given: dict[str, str], field: str
) -> None:
    owner = await api.owner("acme")
    (await owner.browser.gql(PROFILE, {"i": {"locale": "nl", "timeZone": "Europe/Amsterdam"}})).ok("updateProfile")
    refused = await owner.browser.gql(PROFILE, {"i": {**given, "displayName": "Changed"}})
    assert refused.user_errors("updateProfile") == [(field, "INVALID_INPUT")]
    me = (await owner.browser.gql(ME)).data["viewer"]
    assert me["user"] == {"locale": "nl", "timeZone": "Europe/Amsterdam"}
    assert await api.count("app_user", "display_name = 'Changed'") == 0
    tenant_input = {"defaultLocale": given["locale"]} if "locale" in given else given
    refused = await owner.browser.gql(SETTINGS, {"i": tenant_input})
    assert refused.payload("updateTenantSettings")["errors"], refused.body


async def test_an_empty_choice_goes_back_to_the_organisations(api: Api) -> None:
    owner = await api.owner("acme")
    (await owner.browser.gql(PROFILE, {"i": {"locale": "de", "timeZone": "Europe/Berlin"}})).ok("updateProfile")
    cleared = await owner.browser.gql(PROFILE, {"i": {"locale": "", "timeZone": None}})
    assert cleared.ok("updateProfile")["user"] == {"locale": None, "timeZone": None}
    assert (await owner.browser.gql(ME)).data["viewer"]["locale"] == "en"
    assert await api.count("audit_event", "action = 'profile.updated'") == 2


@pytest.mark.parametrize(
    "header",
    [
        "x" * 100_000,
        ",".join(["fr"] * 5_000) + ",de",
        "de;q=abc",
        "de;q=0",
        ";;;,,,",
        "*",
        "\u00e9\u00e8",
    ],
)
async def test_a_hostile_accept_language_is_bounded_and_falls_back_to_english(api: Api, header: str) -> None:
    async with httpx.AsyncClient(base_url=api.base_url) as http:
        response = await http.post(
            "/graphql",
            json={"query": "{ users(first: 1) { totalCount } }"},
            headers={"Accept-Language": header.encode("utf-8")},
        )
    assert response.status_code == 200
    assert response.json()["errors"][0]["message"] == "Authentication required."


async def test_the_console_catalogue_is_served_per_language(api: Api) -> None:
    async with httpx.AsyncClient(base_url=api.base_url) as http:
        dutch = await http.get("/console/i18n/nl.json")
        english = await http.get("/console/i18n/en.json")
        unknown = await http.get("/console/i18n/fr.json")
        traversal = await http.get("/console/i18n/..%2F..%2Fsettings.json")
    assert dutch.status_code == 200 and dutch.headers["content-language"] == "nl"
    catalogue = dutch.json()
    assert catalogue and all(isinstance(k, str) and isinstance(v, str | list) for k, v in catalogue.items())
    assert english.json() == {}
    assert unknown.status_code == 404 and traversal.status_code == 404
    assert await login(api.browser(), PASSWORD)  # the server still answers normally


def test_the_locale_of_a_header_is_chosen_by_quality_then_order() -> None:
    from api.i18n import from_accept_language

    assert from_accept_language("fr-CH, fr;q=0.9, de;q=0.8, nl;q=0.85") == "nl"
    assert from_accept_language("nl-BE,de") == "nl"
    assert from_accept_language("en-US;q=0.5, de-AT;q=0.9") == "de"
    assert from_accept_language("fr, es") is None
    assert re.fullmatch(r"[a-z]{2}", from_accept_language("DE") or "")
