"""The catalogues: every message the code marks has a translation in every language, the
translations keep the message's placeholders, and every catalogue compiles. The ids are
extracted from the code as the test runs (not read from a template someone forgot to
update), with the same extractor `make messages` uses."""

from __future__ import annotations

import ast
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from api import i18n

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [code for code in i18n.LOCALES if code != i18n.DEFAULT_LOCALE]
SERVER_KEYWORDS = {"_": None, "ngettext": (1, 2)}
CONSOLE_KEYWORDS = {"t": None, "tn": (1, 2)}
PYTHON_PLACEHOLDER = re.compile(r"%\((\w+)\)[sr]")
CONSOLE_PLACEHOLDER = re.compile(r"\{(\w+)\}")
Id = str | tuple[str, str]


def _extracted(method: str, keywords: dict[str, object], pattern: str, under: Path) -> dict[Id, str]:
    found: dict[Id, str] = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
        str(under),
        method_map=[(pattern, method)],
        keywords=keywords,  # type: ignore[arg-type]
        comment_tags=(),
        strip_comment_tags=True,
    ):
        key: Id = message if isinstance(message, str) else (str(message[0]), str(message[1]))
        found[key] = filename
    return found


def server_ids() -> dict[Id, str]:
    return _extracted("python", SERVER_KEYWORDS, "**.py", ROOT / "api")


def console_ids() -> dict[Id, str]:
    return _extracted("javascript", CONSOLE_KEYWORDS, "**.js", ROOT / "api" / "web" / "static")


def _catalogue(locale: str, domains: tuple[str, ...]) -> dict[Id, list[str]]:
    out: dict[Id, list[str]] = {}
    for domain in domains:
        path = i18n.CATALOGUES / locale / "LC_MESSAGES" / f"{domain}.po"
        if not path.exists():
            continue
        with path.open("rb") as po:
            for message in read_po(po, locale=locale):
                if not message.id:
                    continue
                key: Id = message.id if isinstance(message.id, str) else (str(message.id[0]), str(message.id[1]))
                strings = list(message.string) if isinstance(message.string, tuple) else [message.string]
                out[key] = [s for s in strings if s and not message.fuzzy]
    return out


def _missing(ids: dict[Id, str], catalogue: dict[Id, list[str]]) -> list[str]:
    need = {key: 2 if isinstance(key, tuple) else 1 for key in ids}
    return [f"{ids[key]}: {key!r}" for key, forms in need.items() if len(catalogue.get(key, [])) < forms]


def _placeholders_differ(catalogue: dict[Id, list[str]], pattern: re.Pattern[str]) -> Iterator[str]:
    for key, strings in catalogue.items():
        texts = key if isinstance(key, tuple) else (key,)
        wanted = set(pattern.findall(texts[0])) | set(pattern.findall(texts[-1]))
        for text in strings:
            got = set(pattern.findall(text))
            # A singular form may say "one" instead of its count.
            if got != wanted and not (isinstance(key, tuple) and got == wanted - {"n"}):
                yield f"{key!r}: {sorted(got)} != {sorted(wanted)}"


def test_the_code_marks_messages_for_both_the_server_and_the_console() -> None:
    assert len(server_ids()) > 150
    assert len(console_ids()) > 100


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_server_message_and_email_has_a_translation(locale: str) -> None:
    assert _missing(server_ids(), _catalogue(locale, (i18n.SERVER_DOMAIN,))) == []


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_console_text_has_a_translation(locale: str) -> None:
    assert _missing(console_ids(), _catalogue(locale, i18n.CONSOLE_DOMAINS)) == []


@pytest.mark.parametrize("locale", TRANSLATED)
def test_translations_keep_the_placeholders_of_their_message(locale: str) -> None:
    assert list(_placeholders_differ(_catalogue(locale, (i18n.SERVER_DOMAIN,)), PYTHON_PLACEHOLDER)) == []
    assert list(_placeholders_differ(_catalogue(locale, i18n.CONSOLE_DOMAINS), CONSOLE_PLACEHOLDER)) == []


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_catalogue_compiles_and_renders_every_message(locale: str) -> None:
    for path in sorted((i18n.CATALOGUES / locale / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as po:
            catalogue = read_po(po, locale=locale)
        errors = [f"{message.id!r}: {error}" for message, error in catalogue.check()]
        assert errors == [], path
        write_mo(io.BytesIO(), catalogue)
    # Each server message renders with its parameters (a broken %(...)s would raise here).
    translations = i18n.translations(locale)
    for key in server_ids():
        text = translations.ngettext(key[0], key[1], 2) if isinstance(key, tuple) else translations.gettext(key)
        params = dict.fromkeys(PYTHON_PLACEHOLDER.findall(text), "x")
        if params:
            assert isinstance(text % params, str)


def _message_argument(call: ast.Call) -> ast.expr | None:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else None
    if (name == "of" and owner in ("UserFailure", "RecordedFailure")) or name == "Problem":
        position = 1
    elif name in ("BadInput", "ReauthRequired") and owner is None:
        position = 0
    else:
        return None
    for keyword in call.keywords:
        if keyword.arg == "message":
            return keyword.value
    return call.args[position] if len(call.args) > position else None


def test_no_message_a_user_sees_is_left_unmarked() -> None:
    """A literal or an f-string given as a user-facing message would reach every language in
    English: each is a marked message, or a name bound to one."""
    unmarked = []
    for path in sorted((ROOT / "api").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            message = _message_argument(node) if isinstance(node, ast.Call) else None
            if isinstance(message, ast.Constant | ast.JoinedStr | ast.BinOp):
                unmarked.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert unmarked == []
