"""The console in Dutch and German, driven in Chromium: the language switch (before and after
signing in), the account's choice stored and kept over a reload, the "Forgot your password?"
link, and no English left on the main pages. "English left" means: any message id that
Babel's JavaScript extractor finds in the console's scripts (keywords t and tn) and that has
another translation in the locale, found in the page's text, attributes or title."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.extract import extract_from_file

from tests.e2e.browser import expect, open_page, shot
from tests.helpers import PASSWORD, Api

STATIC = Path(__file__).parents[2] / "api" / "web" / "static"
SCREENSHOTS = Path(__file__).parents[2] / "docs" / "screenshots"

UPSERT_PURPOSE = """mutation($input: PurposeInput!) { upsertPurpose(input: $input) { purpose { key } errors { field message code } } }"""
RESEARCH = {
    "key": "research",
    "title": "Product research",
    "description": "Invitations to interviews about new features.",
    "legalBasis": "CONSENT",
    "translations": [
        {
            "locale": "nl",
            "title": "Productonderzoek",
            "description": "Uitnodigingen voor interviews over nieuwe functies.",
        },
        {"locale": "de", "title": "Produktforschung", "description": "Einladungen zu Interviews über neue Funktionen."},
    ],
}

# Everything a person reads or hears on the page: each text node (also hidden ones, such as
# a closed editor row), the names and hints in attributes, and the document's title. The time
# zone list is left out: its IANA names are not English texts.
PAGE_TEXTS = """() => {
  const texts = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest('select[name="timeZone"], script, style')) continue;
    texts.push(node.data);
  }
  for (const el of document.querySelectorAll("[aria-label], [placeholder], [title], [alt]")) {
    for (const name of ["aria-label", "placeholder", "title", "alt"]) {
      if (el.hasAttribute(name)) texts.push(el.getAttribute(name));
    }
  }
  return texts.filter((text) => text.trim());
}"""


@cache
def message_ids() -> tuple[tuple[str, ...], ...]:
    """Each message of the console's scripts: (msgid,) or (singular, plural)."""
    found: dict[tuple[str, ...], None] = {}
    for script in sorted(STATIC.glob("*.js")):
        for _, message, _, _ in extract_from_file("javascript", str(script), keywords={"t": None, "tn": (1, 2)}):
            found[message if isinstance(message, tuple) else (message,)] = None
    return tuple(found)


def pattern(text: str) -> re.Pattern[str]:
    """A message's English text as a pattern: its {placeholders} match anything, and it must
    stand on its own (no match for "Rename" inside "Renamed")."""
    parts = re.split(r"\{\w+\}", text)
    body = r".*?".join(re.escape(part) for part in parts)
    start = r"\b" if re.match(r"\w", text) else ""
    end = r"\b" if re.search(r"\w$", text) else ""
    return re.compile(start + body + end)


def english_patterns(catalogue: dict[str, Any]) -> list[tuple[str, re.Pattern[str]]]:
    """The English texts that must not be seen in the locale of `catalogue` (the server's
    /console/i18n/{locale}.json): longer than 3 characters and translated differently. A
    single word that the locale's own translations use too ("account" in Dutch) is no sign
    of English left."""
    words = {
        word.lower()
        for text in catalogue.values()
        for form in (text if isinstance(text, list) else [text])
        for word in re.findall(r"\w+", form)
    }
    found = []
    for message in message_ids():
        translated = catalogue.get(message[0])
        forms = translated if isinstance(translated, list) else [translated] * len(message)
        for english, form in zip(message, forms):
            literal = re.sub(r"\{\w+\}", "", english).strip()
            if len(literal) <= 3 or form == english or (re.fullmatch(r"\w+", literal) and literal.lower() in words):
                continue
            found.append((english, pattern(english)))
    return found


async def english_left(page: Any, catalogue: dict[str, Any]) -> list[str]:
    texts = await page.evaluate(PAGE_TEXTS)
    joined = "\n".join(texts)
    return [english for english, found in english_patterns(catalogue) if found.search(joined)]


async def catalogue(api: Api, locale: str) -> dict[str, Any]:
    response = await api.browser().http.get(f"/console/i18n/{locale}.json")
    assert response.status_code == 200
    messages: dict[str, Any] = response.json()
    return messages


def admin_pages_translated() -> bool:
    """Whether the admin pages are translated yet (they are translated separately, into
    console_admin.po): their script uses t() and their catalogues are there."""
    locales = STATIC.parents[1] / "locales"
    return 'from "./i18n.js"' in (STATIC / "admin.js").read_text() and all(
        (locales / locale / "LC_MESSAGES" / "console_admin.po").exists() for locale in ("nl", "de")
    )


async def test_the_console_speaks_dutch_and_german(api: Api, chromium) -> None:  # type: ignore[no-untyped-def]
    owner = await api.owner("acme")
    (await owner.browser.gql(UPSERT_PURPOSE, {"input": RESEARCH})).ok("upsertPurpose")
    nl, de = await catalogue(api, "nl"), await catalogue(api, "de")
    assert (await api.browser().http.get("/console/i18n/en.json")).json() == {}
    assert nl and de

    page, errors = await open_page(chromium)
    await page.goto(api.base_url + "/login")
    await page.get_by_role("heading", name="Log in").wait_for()  # Chromium speaks en-US: English first
    assert await page.evaluate("document.documentElement.lang") == "en"

    # Before signing in, the switch is this browser's choice.
    await page.get_by_label("Language", exact=True).select_option("nl")
    await page.get_by_role("heading", name="Inloggen").wait_for()
    assert await page.evaluate("document.documentElement.lang") == "nl"
    assert await page.evaluate("localStorage.getItem('console.locale')") == "nl"
    # A server message comes back in Dutch too (Accept-Language), before signing in.
    await page.get_by_label("Organisatie", exact=True).fill("acme")
    await page.get_by_label("Gebruikersnaam of e-mailadres", exact=True).fill("owner")
    await page.get_by_label("Wachtwoord", exact=True).fill("not the password")
    async with page.expect_request("**/graphql") as sent:
        await page.get_by_role("button", name="Inloggen", exact=True).click()
    assert (await sent.value).headers["accept-language"] == "nl"
    await page.get_by_role("main").locator(".alert.error, .field-error:not(:empty)").first.wait_for()
    await shot(page, "languages-nl-login")
    assert await english_left(page, nl) == []
    await page.reload()
    await page.get_by_role("heading", name="Inloggen").wait_for()  # kept over a reload

    # "Forgot your password?" reaches the request form, with the organisation typed on the login page.
    await page.get_by_label("Organisatie", exact=True).fill("acme")
    await page.get_by_role("link", name="Wachtwoord vergeten?").click()
    await page.get_by_role("heading", name="Wachtwoord vergeten?").wait_for()
    assert await page.get_by_label("Organisatie", exact=True).input_value() == "acme"
    await page.get_by_label("E-mailadres", exact=True).fill("owner@acme.example")
    await page.get_by_role("button", name="Link versturen").click()
    await page.get_by_text("Als er een account met dit adres bestaat, is er een link naar je onderweg.").wait_for()
    await shot(page, "languages-nl-reset-request")
    assert await english_left(page, nl) == []
    assert any("/reset-password?token=" in message.body for message in await api.queued_to("owner@acme.example"))
    await page.get_by_role("link", name="Terug naar inloggen").click()

    # Signed in, the account's language counts: it follows the organisation's (English) until chosen.
    await page.get_by_label("Organisatie", exact=True).fill("acme")
    await page.get_by_label("Gebruikersnaam of e-mailadres", exact=True).fill("owner")
    await page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Inloggen", exact=True).click()
    await page.get_by_role("heading", name="Profile").wait_for()
    assert await api.db.fetchval("SELECT locale FROM app_user WHERE username = 'owner'") is None

    # The switch now chooses the account's language, kept over a reload.
    await page.get_by_label("Language", exact=True).select_option("nl")
    await page.get_by_role("heading", name="Profiel").wait_for()
    assert await api.db.fetchval("SELECT locale FROM app_user WHERE username = 'owner'") == "nl"
    await page.reload()
    await page.get_by_role("heading", name="Profiel").wait_for()
    assert await page.evaluate("document.documentElement.lang") == "nl"
    assert await page.title() == "Profiel · Accountbeheer"

    # The profile's own choice of time zone (and "the organisation's" back).
    profile = page.get_by_role("region", name="Taal en tijdzone")
    await profile.get_by_label("Tijdzone", exact=True).select_option("Europe/Amsterdam")
    await profile.get_by_role("button", name="Taal en tijdzone opslaan").click()
    await page.get_by_text("Opgeslagen.").wait_for()
    assert await api.db.fetchval("SELECT time_zone FROM app_user WHERE username = 'owner'") == "Europe/Amsterdam"

    admin = admin_pages_translated()
    for locale, messages, pages in (
        (
            "nl",
            nl,
            [
                ("Profiel", "Profiel"),
                ("Beveiliging", "Beveiliging"),
                ("Toestemmingen", "Toestemmingen"),
                ("Mijn gegevens", "Mijn gegevens"),
                ("Sessies", "Sessies"),
            ]
            + ([("Gebruikers", "Gebruikers")] if admin else []),
        ),
        (
            "de",
            de,
            [
                ("Profil", "Profil"),
                ("Sicherheit", "Sicherheit"),
                ("Einwilligungen", "Einwilligungen"),
                ("Meine Daten", "Meine Daten"),
                ("Sitzungen", "Sitzungen"),
            ]
            + ([("Benutzer", "Benutzer")] if admin else []),
        ),
    ):
        if locale == "de":
            await page.get_by_label("Taal", exact=True).select_option("de")
            await page.get_by_role("heading", name="Einwilligungen").wait_for()
            assert await api.db.fetchval("SELECT locale FROM app_user WHERE username = 'owner'") == "de"
            assert await page.evaluate("document.documentElement.lang") == "de"
        for link, heading in pages:
            await page.get_by_role("navigation").get_by_role("link", name=link, exact=True).click()
            await page.get_by_role("heading", name=heading, exact=True).wait_for()
            if heading in ("Toestemmingen", "Einwilligungen"):
                # A decision, so the history has a row; the purpose is in the locale's words.
                research = page.locator("[data-purpose='research']")
                await expect(research.get_by_role("heading")).to_have_text(
                    "Productonderzoek" if locale == "nl" else "Produktforschung"
                )
                agree, withdraw = (
                    ("Toestemming geven", "Intrekken") if locale == "nl" else ("Einwilligen", "Widerrufen")
                )
                if await research.get_by_role("button", name=agree).count():
                    await research.get_by_role("button", name=agree).click()
                    await research.get_by_role("button", name=withdraw).wait_for()
                await page.get_by_role("table").locator("tbody tr").first.wait_for()
                await page.screenshot(path=str(SCREENSHOTS / f"console-{locale}.png"), full_page=True)
            if heading in ("Mijn gegevens", "Meine Daten"):
                # A request, so the table has a row (its kind and status in words).
                requests = page.get_by_role("table")
                if not await requests.locator("tbody tr").count():
                    await page.get_by_role("button", name="Kopie aanvragen").click()
                    await requests.locator("tbody tr").first.wait_for()
            await shot(page, f"languages-{locale}-{heading.lower().replace(' ', '-')}")
            assert await english_left(page, messages) == [], heading
        await page.get_by_role("navigation").get_by_role("link", name=pages[2][0], exact=True).click()

    # Signed out, the login page keeps the account's last language.
    await page.get_by_role("button", name="Abmelden (owner)").click()
    await page.get_by_role("heading", name="Anmelden").wait_for()
    assert await english_left(page, de) == []
    assert errors == []
    await page.context.close()
