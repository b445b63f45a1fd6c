"""Purposes of processing, per tenant: a default catalogue, edits with versioning, archiving."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api import clock, i18n, text
from api.accounts import tenants
from api.audit import actions
from api.audit import service as audit
from api.errors import ErrorCode, Problem, UserFailure
from api.i18n import _
from api.privacy.catalogue import DEFAULT_PURPOSES
from api.work import Work
from db.enums import LegalBasis, TenantState
from db.models import Purpose

KEY_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def seed_defaults(db: AsyncSession, tenant_id: uuid.UUID) -> None:
    db.add_all(Purpose(tenant_id=tenant_id, **p) for p in DEFAULT_PURPOSES)


async def active_for_tenant(db: AsyncSession, tenant_id: uuid.UUID) -> list[Purpose]:
    query = (
        select(Purpose)
        .where(col(Purpose.tenant_id) == tenant_id, col(Purpose.active).is_(True))
        .order_by(col(Purpose.created_at), col(Purpose.key))
    )
    return list((await db.execute(query)).scalars())


@dataclass(frozen=True, slots=True)
class PurposeRow:
    """A purpose as read for a decision: a plain record with what Purpose shows."""

    tenant_id: uuid.UUID
    id: uuid.UUID
    key: str
    title: str
    description: str
    legal_basis: LegalBasis
    version: int
    active: bool
    translations: dict[str, dict[str, str]]


_ACTIVE_SQL = (
    "SELECT tenant_id, id, key, title, description, legal_basis, version, active, translations::text AS translations "
    "FROM purpose WHERE tenant_id = $1 AND active ORDER BY created_at, key"
)
_ACTIVE_FOR_DECISIONS_SQL = _ACTIVE_SQL + " FOR KEY SHARE"


async def active_rows(work: Work, tenant_id: uuid.UUID, *, deciding: bool = False) -> list[PurposeRow]:
    """The active purposes as plain records, on the unit's connection (no ORM).
    `deciding`: held FOR KEY SHARE to the commit, so that a new version (which takes
    them FOR UPDATE) waits for the decisions made on the old one and then asks every
    holder to renew, and decisions after it see the new version."""
    return [
        PurposeRow(
            r["tenant_id"],
            r["id"],
            r["key"],
            r["title"],
            r["description"],
            LegalBasis(r["legal_basis"]),
            r["version"],
            r["active"],
            orjson.loads(r["translations"]) if r["translations"] else {},
        )
        for r in await work.fetch(_ACTIVE_FOR_DECISIONS_SQL if deciding else _ACTIVE_SQL, tenant_id)
    ]


async def public_list(db: AsyncSession, tenant_slug: str) -> list[Purpose]:
    """For consent screens before login; an unknown tenant has none (no hint)."""
    tenant = await tenants.by_slug(db, tenant_slug)
    return await active_for_tenant(db, tenant.id) if tenant and tenant.state != TenantState.CLOSED else []


async def by_key(db: AsyncSession, tenant_id: uuid.UUID, key: str, *, lock: bool = False) -> Purpose | None:
    query = select(Purpose).where(col(Purpose.tenant_id) == tenant_id, col(Purpose.key) == key)
    if lock:
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    return (await db.execute(query)).scalar_one_or_none()


MAX_TRANSLATIONS = len(i18n.LOCALES)


def _translations(given: list[tuple[str, str, str]]) -> tuple[dict[str, dict[str, str]], list[Problem]]:
    """{locale: {title, description}} from (locale, title, description), each checked as the
    purpose's own texts are; one per supported locale other than English (the purpose's own)."""
    out: dict[str, dict[str, str]] = {}
    problems: list[Problem] = []
    if len(given) > MAX_TRANSLATIONS:
        return out, [
            Problem(ErrorCode.INVALID_INPUT, _("Give at most one translation per language."), "input.translations")
        ]
    for index, (locale, title, description) in enumerate(given):
        field = f"input.translations.{index}"
        if locale not in i18n.LOCALES or locale == i18n.DEFAULT_LOCALE:
            others = ", ".join(code for code in i18n.LOCALES if code != i18n.DEFAULT_LOCALE)
            problems.append(
                Problem(
                    ErrorCode.INVALID_INPUT, _("Translations are for %(locales)s.", locales=others), f"{field}.locale"
                )
            )
            continue
        if locale in out:
            problems.append(
                Problem(ErrorCode.DUPLICATE, _("Give at most one translation per language."), f"{field}.locale")
            )
            continue
        try:
            out[locale] = {
                "title": text.clean(title, field=f"{field}.title", what=_("Titles"), max_length=200),
                "description": text.clean(
                    description, field=f"{field}.description", what=_("Descriptions"), max_length=5000, multiline=True
                ),
            }
        except UserFailure as failure:
            problems += failure.problems
    return out, problems


async def upsert(
    work: Work,
    *,
    key: str,
    title: str,
    description: str,
    legal_basis: LegalBasis,
    bump_version: bool,
    translations: list[tuple[str, str, str]] | None = None,
) -> Purpose:
    """Create a purpose, or change one. A material change (`bump_version`) raises the
    version: consents given under the old one need renewal (api.usecases.purpose_revision
    asks their holders)."""
    actor, db, meta = work.admin(), work.db, work.meta
    key = key.strip()
    problems = []
    if not KEY_RE.fullmatch(key):
        problems.append(
            Problem(
                ErrorCode.INVALID_INPUT, _("Keys have 1 to 64 lowercase letters, digits and inner '-'."), "input.key"
            )
        )
    try:
        title = text.clean(title, field="input.title", what=_("Titles"), max_length=200)
    except UserFailure as failure:
        problems += failure.problems
    try:
        description = text.clean(
            description, field="input.description", what=_("Descriptions"), max_length=5000, multiline=True
        )
    except UserFailure as failure:
        problems += failure.problems
    texts, translation_problems = _translations(translations) if translations is not None else ({}, [])
    problems += translation_problems
    if problems:
        raise UserFailure(*problems)

    await tenants.lock(db, actor.tenant_id)  # one editor of the catalogue at a time
    purpose = await by_key(db, actor.tenant_id, key, lock=True)
    if purpose is None:
        purpose = Purpose(
            tenant_id=actor.tenant_id,
            key=key,
            title=title,
            description=description,
            legal_basis=legal_basis,
            translations=texts,
        )
        db.add(purpose)
        await db.flush()
        audit.record(
            db,
            tenant_id=actor.tenant_id,
            action=actions.PURPOSE_CREATED,
            meta=meta,
            actor=actor,
            target_type="purpose",
            target_id=purpose.id,
            changes={
                "key": {"new": key},
                "legal_basis": {"new": legal_basis},
                "version": {"new": 1},
                **({"translations": {"new": sorted(texts)}} if texts else {}),
            },
        )
        return purpose
    if legal_basis != purpose.legal_basis:
        # Decisions recorded under one basis say nothing under another (a withdrawal would
        # silently read as "applies"): a new basis is a new purpose.
        raise UserFailure.of(
            ErrorCode.INVALID_INPUT,
            _("The legal basis of a purpose cannot change; archive it and add a purpose with the new basis."),
            "input.legalBasis",
        )
    before = {
        "title": purpose.title,
        "description": purpose.description,
        "legal_basis": purpose.legal_basis,
        "version": purpose.version,
        "active": purpose.active,
        "translations": purpose.translations,
    }
    purpose.title, purpose.description, purpose.legal_basis = title, description, legal_basis
    if translations is not None:
        purpose.translations = texts
    purpose.active = True
    if bump_version:
        # FOR UPDATE waits for the decisions in flight on the old version (they hold the
        # row FOR KEY SHARE, see active_rows): their grants are committed, and asked to
        # renew, before anyone decides on the new one.
        await db.execute(
            select(col(Purpose.id))
            .where(col(Purpose.tenant_id) == purpose.tenant_id, col(Purpose.id) == purpose.id)
            .with_for_update()
        )
        purpose.version += 1
    purpose.updated_at = clock.now()
    after = {
        "title": purpose.title,
        "description": purpose.description,
        "legal_basis": purpose.legal_basis,
        "version": purpose.version,
        "active": purpose.active,
        "translations": purpose.translations,
    }
    changes = audit.field_changes(before, after)
    if changes:
        audit.record(
            db,
            tenant_id=actor.tenant_id,
            action=actions.PURPOSE_UPDATED,
            meta=meta,
            actor=actor,
            target_type="purpose",
            target_id=purpose.id,
            changes={"key": {"new": key}, **changes},
        )
    await db.flush()
    return purpose


async def archive(work: Work, *, key: str) -> Purpose:
    actor, db, meta = work.admin(), work.db, work.meta
    purpose = await by_key(db, actor.tenant_id, key.strip(), lock=True)
    if purpose is None:
        raise UserFailure.of(ErrorCode.NOT_FOUND, _("No such purpose."), "key")
    if purpose.active:
        purpose.active = False
        purpose.updated_at = clock.now()
        audit.record(
            db,
            tenant_id=actor.tenant_id,
            action=actions.PURPOSE_ARCHIVED,
            meta=meta,
            actor=actor,
            target_type="purpose",
            target_id=purpose.id,
            changes={"key": {"new": purpose.key}, "active": {"old": True, "new": False}},
        )
        await db.flush()
    return purpose
