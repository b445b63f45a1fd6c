"""How what a person types to name an account or a tenant becomes the value it is looked
up by. Lookups and the attempt limits use the same normal form, so no spelling of an
identifier (padding, case, composed or decomposed letters) looks new to the limiter while
still finding the account."""

from __future__ import annotations

import unicodedata

MAX_IDENTIFIER = 320  # the longest email address; usernames are shorter
MAX_SLUG = 63


def normalise(raw: str, max_length: int) -> str | None:
    """NFC, trimmed, lower-case; None when it cannot name anything (empty, or longer than
    any stored value), so that it finds nothing."""
    if len(raw) > 4 * max_length:  # bound the work before normalising
        return None
    value = unicodedata.normalize("NFC", raw).strip().lower()
    return value if 0 < len(value) <= max_length else None


def identifier(raw: str) -> str | None:
    return normalise(raw, MAX_IDENTIFIER)


def slug(raw: str) -> str | None:
    return normalise(raw, MAX_SLUG)


def limit_subject(tenant_slug: str | None, account: str | None) -> str:
    """What an attempt on (tenant, identifier) is counted under: the normal forms, the
    same whether or not the account exists."""
    return f"{tenant_slug or '-'}:{account or '-'}"
