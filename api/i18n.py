"""Languages: gettext catalogues (Babel) for the server's messages and emails and for the
console, the choice of a request's or a recipient's locale, and dates in a locale and time zone.

English is the source language: message ids are the English texts. A message is marked
with `_()` (or `ngettext()`), which returns a `Msg`: a `str` holding the English text, so
logs, tests and anything that treats it as text keep working, that also remembers its
template and parameters, so `translate()` can render it again in another locale at the edge
(a GraphQL error, an email). Adding a language is adding its folder of `.po` files to
`api/locales/` and its code to `LOCALES`.

The `.po` files are read and compiled in memory on first use (`babel.messages.mofile`),
so there is no build step and no compiled file to forget."""

from __future__ import annotations

import functools
import io
import re
import zoneinfo
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES: tuple[str, ...] = ("en", "nl", "de")
DEFAULT_LOCALE = "en"
DEFAULT_TIME_ZONE = "UTC"
CATALOGUES = Path(__file__).parent / "locales"
SERVER_DOMAIN = "messages"
CONSOLE_DOMAINS = ("console",)
# A header longer than this, or with more parts, is not a browser's: only its start counts.
MAX_ACCEPT_LANGUAGE = 512
MAX_ACCEPT_PARTS = 16


class Msg(str):
    """A marked message: the English text, plus what it takes to say it in another locale."""

    template: str
    plural: str | None
    n: int | None
    params: Mapping[str, Any]

    def __new__(cls, template: str, plural: str | None = None, n: int | None = None, **params: Any) -> Msg:
        chosen = plural if plural is not None and n != 1 else template
        values = {"n": n, **params} if n is not None else params
        text = chosen % values if values else chosen
        made = super().__new__(cls, text)
        made.template, made.plural, made.n, made.params = template, plural, n, values
        return made

    def in_locale(self, locale: str) -> str:
        catalogue = translations(locale)
        if self.plural is not None and self.n is not None:
            chosen = catalogue.ngettext(self.template, self.plural, self.n)
        else:
            chosen = catalogue.gettext(self.template)
        if not self.params:
            return chosen
        # Parameters that are messages themselves ("Display names") are said in the locale too.
        return chosen % {k: v.in_locale(locale) if isinstance(v, Msg) else v for k, v in self.params.items()}


def _(template: str, **params: Any) -> Msg:
    """Marks a message (extracted by Babel) with its `%(name)s` parameters."""
    return Msg(template, **params)


def ngettext(singular: str, plural: str, n: int, **params: Any) -> Msg:
    """Marks a message with a plural; `%(n)s` is the count."""
    return Msg(singular, plural, n, **params)


def translate(text: str, locale: str) -> str:
    """The text in `locale`: a `Msg` is rendered from its template; a plain string is looked
    up as it is (constant messages), and stays as it is when no catalogue has it."""
    if locale == DEFAULT_LOCALE:
        return str(text)
    if isinstance(text, Msg):
        return text.in_locale(locale)
    return translations(locale).gettext(text)


@functools.cache
def translations(locale: str) -> Translations:
    """The server's catalogue of a locale (empty for English, whose ids are the texts)."""
    if locale not in LOCALES or locale == DEFAULT_LOCALE:
        return Translations()
    return _compile(CATALOGUES / locale / "LC_MESSAGES" / f"{SERVER_DOMAIN}.po", locale)


def _compile(path: Path, locale: str) -> Translations:
    with path.open("rb") as po:
        catalogue = read_po(po, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return Translations(compiled)


@functools.cache
def console_messages(locale: str) -> dict[str, str | list[str]]:
    """The console's catalogue of a locale as JSON-ready data: {id: text} and, for plurals,
    {singular id: [one, other]}. Untranslated ids are left out (the console shows the id)."""
    out: dict[str, str | list[str]] = {}
    if locale not in LOCALES or locale == DEFAULT_LOCALE:
        return out
    for domain in CONSOLE_DOMAINS:
        path = CATALOGUES / locale / "LC_MESSAGES" / f"{domain}.po"
        if not path.exists():
            continue
        with path.open("rb") as po:
            catalogue = read_po(po, locale=locale)
        for message in catalogue:
            if not message.id or not message.string or message.fuzzy:
                continue
            if isinstance(message.id, tuple):
                forms = [str(s) for s in message.string]
                if all(forms):
                    out[str(message.id[0])] = forms
            else:
                out[str(message.id)] = str(message.string)
    return out


def supported(locale: str | None) -> str | None:
    """The supported locale a code names (`nl`, `nl-BE`, `de_AT` → `nl`, `nl`, `de`), if any."""
    if not locale or len(locale) > 35:
        return None
    language = re.split(r"[-_]", locale.strip(), maxsplit=1)[0].lower()
    return language if language in LOCALES else None


def from_accept_language(header: str | None) -> str | None:
    """The best supported locale of an `Accept-Language` header, or None. Bounded: only the
    first MAX_ACCEPT_LANGUAGE characters and MAX_ACCEPT_PARTS parts are read."""
    if not header:
        return None
    best: tuple[float, int, str] | None = None
    for position, part in enumerate(header[:MAX_ACCEPT_LANGUAGE].split(",")[:MAX_ACCEPT_PARTS]):
        tag, _sep, rest = part.strip().partition(";")
        quality = 1.0
        match = re.fullmatch(r"\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*", rest) if rest else None
        if rest and match is None:
            continue
        if match:
            quality = float(match.group(1))
        locale = supported(tag)
        if locale is None or quality <= 0:
            continue
        # Highest quality first; among equals, the one listed first.
        if best is None or (quality, -position) > (best[0], best[1]):
            best = (quality, -position, locale)
    return best[2] if best else None


def choose(*candidates: str | None) -> str:
    """The first supported locale among the candidates (account's, tenant's, browser's...)."""
    for candidate in candidates:
        locale = supported(candidate)
        if locale:
            return locale
    return DEFAULT_LOCALE


@functools.cache
def time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_time_zone(name: str | None) -> bool:
    return bool(name) and len(name or "") <= 64 and name in time_zones()


def zone(name: str | None) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name if name and is_time_zone(name) else DEFAULT_TIME_ZONE)


def locale_name(locale: str) -> str:
    """A language's name in that language ("Nederlands", "Deutsch")."""
    name = Locale.parse(locale).get_display_name(locale) or locale
    return name[:1].upper() + name[1:]


def format_date(value: date | datetime, locale: str, time_zone: str | None = None) -> str:
    """A date as people of the locale write it ("3. Dezember 2026"), in the time zone's day."""
    if isinstance(value, datetime):
        value = value.astimezone(zone(time_zone)).date()
    return dates.format_date(value, format="long", locale=_formats(locale))


def format_datetime(value: datetime, locale: str, time_zone: str | None = None) -> str:
    """A moment in the locale's words and the time zone, naming the zone
    ("3 december 2026, 14:05 (Europe/Amsterdam)"): zone abbreviations are ambiguous."""
    tz = zone(time_zone)
    local = value.astimezone(tz)
    day = dates.format_date(local.date(), format="long", locale=_formats(locale))
    time = dates.format_time(local.time(), format="short", locale=_formats(locale))
    return f"{day}, {time} ({tz.key})"


def format_number(value: int | float, locale: str) -> str:
    return numbers.format_decimal(value, locale=_formats(locale))


def _formats(locale: str) -> str:
    # The product's English is European English: "3 December 2026, 14:05", not "December 3, 2026, 2:05 PM".
    return "en_GB" if locale == "en" else locale
