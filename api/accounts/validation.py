"""Input rules for accounts and tenants. Each returns the normalised value or raises."""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

from api import i18n, text
from api.errors import ErrorCode, Problem, UserFailure
from api.i18n import _

# ASCII only: look-alike letters from other scripts make usernames that read the same
# but differ, which an identity service should not allow.
USERNAME_RE = re.compile(r"^[A-Za-z0-9._-]{3,64}$")
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$")


def username(value: str, field: str = "input.username") -> str:
    value = value.strip()
    if not USERNAME_RE.fullmatch(value):
        raise UserFailure.of(
            ErrorCode.INVALID_INPUT,
            _("Usernames have 3 to 64 characters: letters, digits, '.', '_' or '-'."),
            field,
        )
    return value


def email(value: str, field: str = "input.email") -> str:
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise UserFailure.of(ErrorCode.INVALID_INPUT, _("Not a valid email address."), field) from None


def display_name(value: str | None, field: str = "input.displayName") -> str | None:
    if value is None or not unicodedata.normalize("NFC", value).strip():
        return None
    return text.clean(value, field=field, what=_("Display names"), max_length=100)


def tenant_slug(value: str, field: str = "slug") -> str:
    value = value.strip().lower()
    if not SLUG_RE.fullmatch(value):
        raise UserFailure.of(
            ErrorCode.INVALID_INPUT,
            _("Tenant slugs have 3 to 63 characters: lowercase letters, digits and inner '-'."),
            field,
        )
    return value


def tenant_name(value: str, field: str = "input.name") -> str:
    return text.clean(value, field=field, what=_("Organisation names"), max_length=200)


def int_range(value: int, low: int, high: int, field: str, what: str) -> Problem | None:
    if not low <= value <= high:
        return Problem(
            ErrorCode.INVALID_INPUT,
            _("%(what)s must be between %(low)s and %(high)s.", what=what, low=low, high=high),
            field,
        )
    return None


def locale(value: str | None, field: str) -> str | None:
    """A supported locale code, or None (empty: follow the organisation's)."""
    if value is None or not value.strip():
        return None
    code = value.strip().lower()
    if code not in i18n.LOCALES:
        raise UserFailure.of(
            ErrorCode.INVALID_INPUT, _("The languages are %(locales)s.", locales=", ".join(i18n.LOCALES)), field
        )
    return code


def time_zone(value: str | None, field: str) -> str | None:
    """An IANA time zone name ("Europe/Amsterdam"), or None (empty: follow the organisation's)."""
    if value is None or not value.strip():
        return None
    name = value.strip()
    if not i18n.is_time_zone(name):
        raise UserFailure.of(ErrorCode.INVALID_INPUT, _("Not a known time zone (such as Europe/Amsterdam)."), field)
    return name
