"""Revising the purposes catalogue: a purpose created or changed, and after a material
change (a new version) its consent holders asked to renew, in one unit of work."""

from __future__ import annotations

from api.privacy import consents, purposes
from api.work import Work
from db.enums import LegalBasis
from db.models import Purpose


async def upsert_purpose(
    work: Work,
    *,
    key: str,
    title: str,
    description: str,
    legal_basis: LegalBasis,
    bump_version: bool,
    translations: list[tuple[str, str, str]] | None = None,
) -> Purpose:
    purpose = await purposes.upsert(
        work,
        key=key,
        title=title,
        description=description,
        legal_basis=legal_basis,
        bump_version=bump_version,
        translations=translations,
    )
    if bump_version and purpose.legal_basis == LegalBasis.CONSENT:
        await consents.ask_for_renewal(work, purpose)
    return purpose
