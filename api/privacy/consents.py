"""Consent decisions: recorded as new events with their proof (purpose version, source,
time, IP), never edited. The current state is each purpose's newest event."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api import clock, events
from api.audit import actions
from api.audit import service as audit
from api.errors import ErrorCode, Problem, UserFailure
from api.i18n import _
from api.mail import templates
from api.mail.outbox import queue_emails
from api.pagination import check_first, decode_cursor, encode_cursor
from api.privacy import purposes
from api.privacy.purposes import PurposeRow
from api.privacy.unsubscribe import read_token, unsubscribe_link
from api.request_meta import RequestMeta
from api.work import Work
from db.enums import ActorType, ConsentSource, LegalBasis
from db.models import ConsentEvent, Purpose, Tenant, User

MAX_DECISIONS = 50


@dataclass(frozen=True)
class ConsentState:
    purpose: Purpose | PurposeRow
    granted: bool
    version: int | None
    needs_renewal: bool
    updated_at: datetime | None


_LATEST_SQL = "SELECT purpose_id, granted, purpose_version, recorded_at FROM consent_current WHERE tenant_id = $1 AND user_id = $2"
_INSERT_SQL = """
INSERT INTO consent_event (tenant_id, id, user_id, purpose_id, purpose_key, purpose_version, granted, source,
                           ip_address, recorded_at)
SELECT $1, d.id, $2, d.purpose_id, d.purpose_key, d.version, d.granted, $3, $4::inet, $5
FROM unnest($6::uuid[], $7::uuid[], $8::text[], $9::int[], $10::bool[]) AS d(id, purpose_id, purpose_key, version, granted)
"""
_LATEST = text(_LATEST_SQL.replace("$1", ":tenant_id").replace("$2", ":user_id"))
Decided = tuple[bool, int, datetime]  # granted, purpose version, when


def _states(catalogue: Sequence[Purpose | PurposeRow], latest: Mapping[uuid.UUID, Decided]) -> list[ConsentState]:
    """One entry per active purpose. Purposes on another legal basis than consent apply
    regardless (granted, no version); consent purposes are undecided until decided."""
    result = []
    for purpose in catalogue:
        if purpose.legal_basis != LegalBasis.CONSENT:
            result.append(ConsentState(purpose, True, None, False, None))
        elif (decided := latest.get(purpose.id)) is None:
            result.append(ConsentState(purpose, False, None, False, None))
        else:
            granted, version, when = decided
            result.append(ConsentState(purpose, granted, version, granted and version < purpose.version, when))
    return result


async def state(
    db: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, active: list[Purpose] | None = None
) -> list[ConsentState]:
    """What the account has decided now, per active purpose (`active`, when the caller has
    them already); see `_states`."""
    rows = await db.execute(_LATEST, {"tenant_id": tenant_id, "user_id": user_id})
    latest = {r.purpose_id: (r.granted, r.purpose_version, r.recorded_at) for r in rows}
    return _states(active if active is not None else await purposes.active_for_tenant(db, tenant_id), latest)


def history_cursor(event: ConsentEvent) -> str:
    return encode_cursor(event.recorded_at.isoformat(), str(event.id))


async def history(
    db: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, *, first: int | None = None, after: str | None = None
) -> list[ConsentEvent]:
    """Newest first; all of it (the export), or a page of `first` after a cursor, read by
    index however long the history is."""
    query = (
        select(ConsentEvent)
        .where(col(ConsentEvent.tenant_id) == tenant_id, col(ConsentEvent.user_id) == user_id)
        .order_by(col(ConsentEvent.recorded_at).desc(), col(ConsentEvent.id).desc())
    )
    if first is not None:
        check_first(first)
        query = query.limit(first)
    if after is not None:
        recorded_at, event_id = decode_cursor(after, "datetime", "uuid")
        query = query.where(tuple_(col(ConsentEvent.recorded_at), col(ConsentEvent.id)) < tuple_(recorded_at, event_id))
    return list((await db.execute(query)).scalars())


def _record(
    db: AsyncSession,
    user_id: uuid.UUID,
    purpose: Purpose | PurposeRow,
    granted: bool,
    source: ConsentSource,
    meta: RequestMeta,
    actor_id: uuid.UUID | None,
    actor_type: ActorType | None = None,
    *,
    recorded_at: datetime | None = None,
    stored: bool = False,
) -> events.Event:
    """Record the decision (unless the caller `stored` it already) and its audit event;
    returns the event for receivers (the caller emits them all at once)."""
    recorded_at = recorded_at or clock.now()
    if not stored:
        db.add(
            ConsentEvent(
                tenant_id=purpose.tenant_id,
                user_id=user_id,
                purpose_id=purpose.id,
                purpose_key=purpose.key,
                purpose_version=purpose.version,
                granted=granted,
                source=source,
                ip_address=meta.ip_address,
                recorded_at=recorded_at,
            )
        )
    audit.record(
        db,
        tenant_id=purpose.tenant_id,
        action=actions.CONSENT_GRANTED if granted else actions.CONSENT_WITHDRAWN,
        meta=meta,
        actor_id=actor_id,
        actor_type=actor_type,
        target_type="user",
        target_id=user_id,
        changes={
            "purpose": {"new": purpose.key},
            "version": {"new": purpose.version},
            "granted": {"new": granted},
            "source": {"new": source},
        },
    )
    return events.Event(
        events.CONSENT_GRANTED if granted else events.CONSENT_WITHDRAWN,
        purpose.tenant_id,
        {
            "userId": user_id,
            "purposeKey": purpose.key,
            "purposeVersion": purpose.version,
            "source": source,
            "recordedAt": recorded_at,
        },
        user_id,
    )


async def decide(work: Work, decisions: list[tuple[str, bool]], *, source: ConsentSource) -> list[ConsentState]:
    """Grant or withdraw, as easily one as the other, for purposes based on consent.
    Every decision is kept for good, so an account has a generous hourly budget of them."""
    actor, db, meta = work.acting(), work.db, work.meta
    if not decisions or len(decisions) > MAX_DECISIONS:
        raise UserFailure.of(
            ErrorCode.INVALID_INPUT, _("Give between 1 and %(max)s decisions.", max=MAX_DECISIONS), "input"
        )
    await work.attempts.take(work.attempts.limits.consent_decisions, str(actor.user_id), cost=len(decisions))
    catalogue = await purposes.active_rows(work, actor.tenant_id, deciding=True)
    active = {p.key: p for p in catalogue}
    problems, seen = [], set()
    for i, (key, _granted) in enumerate(decisions):
        field = f"input.{i}.purposeKey"
        if key in seen:
            problems.append(Problem(ErrorCode.INVALID_INPUT, _("Each purpose once per request."), field))
        elif key not in active:
            problems.append(Problem(ErrorCode.NOT_FOUND, _("No such purpose."), field))
        elif active[key].legal_basis != LegalBasis.CONSENT:
            problems.append(
                Problem(
                    ErrorCode.INVALID_INPUT,
                    _("This purpose does not rest on consent; it cannot be granted or withdrawn."),
                    field,
                )
            )
        seen.add(key)
    if problems:
        raise UserFailure(*problems)
    # What is decided now, read before writing (this request's decisions are laid over
    # it): no statement of the request reads the history, or runs under the chain lock,
    # which the audit events take only at COMMIT (they are written last).
    rows = await work.fetch(_LATEST_SQL, actor.tenant_id, actor.user_id)
    latest: dict[uuid.UUID, Decided] = {
        r["purpose_id"]: (r["granted"], r["purpose_version"], r["recorded_at"]) for r in rows
    }
    recorded_at = clock.now()
    chosen = [(active[key], granted) for key, granted in decisions]
    await work.execute(
        _INSERT_SQL,
        actor.tenant_id,
        actor.user_id,
        source.value,
        meta.ip_address,
        recorded_at,
        [uuid.uuid4() for _ in chosen],
        [p.id for p, _g in chosen],
        [p.key for p, _g in chosen],
        [p.version for p, _g in chosen],
        [g for _p, g in chosen],
    )
    await events.emit_many(
        db,
        [
            _record(db, actor.user_id, p, g, source, meta, actor.user_id, recorded_at=recorded_at, stored=True)
            for p, g in chosen
        ],
    )
    latest.update({p.id: (g, p.version, recorded_at) for p, g in chosen})
    return _states(catalogue, latest)


async def withdraw_by_token(work: Work, *, token: str) -> None:
    """The unsubscribe link: withdraws that one consent, without a login."""
    db = work.db
    invalid = UserFailure.of(ErrorCode.INVALID_TOKEN, _("This link is invalid."), "token")
    claim = read_token(work.settings, token)
    if claim is None:
        raise invalid
    # The account held to the commit: the same link clicked twice at once records one
    # withdrawal (the second sees it), not one per click.
    user = await db.get(
        User, (claim.tenant_id, claim.user_id), with_for_update={"key_share": True}, populate_existing=True
    )
    purpose = await purposes.by_key(db, claim.tenant_id, claim.purpose_key)
    if user is None or purpose is None or purpose.legal_basis != LegalBasis.CONSENT:
        raise invalid
    current = next((s for s in await state(db, user.tenant_id, user.id) if s.purpose.id == purpose.id), None)
    if current is not None and not current.granted and current.updated_at is not None:
        return  # already withdrawn: nothing to record
    if (
        current is not None
        and current.granted
        and current.updated_at is not None
        and claim.issued_at is not None
        and current.updated_at > claim.issued_at
    ):
        raise UserFailure.of(
            ErrorCode.INVALID_TOKEN,
            _("This link was sent before you last gave this consent; change it in your account instead."),
            "token",
        )
    withdrawn = _record(
        db, user.id, purpose, False, ConsentSource.EMAIL_LINK, work.meta, None, actor_type=ActorType.ANONYMOUS
    )
    await events.emit_many(db, [withdrawn])
    await db.flush()


async def ask_for_renewal(work: Work, purpose: Purpose) -> int:
    """After a material change, email everyone whose current consent was given under an
    older version; each email carries its own unsubscribe link."""
    db, settings = work.db, work.settings
    rows = await db.execute(
        text(
            """
            SELECT u.id, u.email, u.locale, u.time_zone FROM consent_current latest
            JOIN app_user u ON u.tenant_id = latest.tenant_id AND u.id = latest.user_id
            WHERE latest.tenant_id = :tenant_id AND latest.purpose_id = :purpose_id
              AND u.status = 'ACTIVE' AND latest.granted AND latest.purpose_version < :version
            """
        ),
        {"tenant_id": purpose.tenant_id, "purpose_id": purpose.id, "version": purpose.version},
    )
    tenant = await db.get(Tenant, purpose.tenant_id)
    assert tenant is not None
    emails = []
    for user_id, email, locale, time_zone in rows:
        reader = templates.reader(email, locale, time_zone, tenant)
        title = (purpose.translations or {}).get(reader.locale, {}).get("title") or purpose.title
        renewal = templates.consent_renewal(
            to=reader,
            tenant_name=tenant.name,
            purpose_title=title,
            changed_at=purpose.updated_at,
            manage_link=f"{settings.app_url}/account/consents",
            unsubscribe_link=unsubscribe_link(
                settings, tenant_id=purpose.tenant_id, user_id=user_id, purpose_key=purpose.key
            ),
        )
        emails.append((renewal, user_id))
    await queue_emails(db, settings, emails)
    count = len(emails)
    if count:
        audit.record(
            db,
            tenant_id=purpose.tenant_id,
            action=actions.CONSENT_RENEWAL_REQUESTED,
            meta=work.meta,
            actor_type=ActorType.SYSTEM,
            target_type="purpose",
            target_id=purpose.id,
            changes={"emails": {"new": count}, "version": {"new": purpose.version}},
        )
    return count


@dataclass(frozen=True)
class PurposeCount:
    purpose: Purpose
    granted: int
    withdrawn: int
    undecided: int


async def report(work: Work) -> list[PurposeCount]:
    """For each active purpose: accounts (not disabled) whose newest decision grants,
    withdraws, or who never decided. One statement, whatever the number of purposes."""
    actor, db = work.admin(), work.db
    rows = await db.execute(
        text(
            """
            WITH people AS (
              SELECT count(*) AS n FROM app_user WHERE tenant_id = :tenant_id AND status <> 'DISABLED'
            ), decided AS (
              SELECT c.purpose_id,
                     count(*) FILTER (WHERE c.granted) AS granted,
                     count(*) FILTER (WHERE NOT c.granted) AS withdrawn
              FROM consent_current c
              JOIN app_user u ON u.tenant_id = c.tenant_id AND u.id = c.user_id AND u.status <> 'DISABLED'
              WHERE c.tenant_id = :tenant_id
              GROUP BY c.purpose_id
            )
            SELECT p.id,
                   coalesce(d.granted, 0) AS granted,
                   coalesce(d.withdrawn, 0) AS withdrawn,
                   people.n - coalesce(d.granted, 0) - coalesce(d.withdrawn, 0) AS undecided
            FROM purpose p CROSS JOIN people
            LEFT JOIN decided d ON d.purpose_id = p.id
            WHERE p.tenant_id = :tenant_id AND p.active
            """
        ),
        {"tenant_id": actor.tenant_id},
    )
    counts = {r.id: r for r in rows}
    result = []
    for purpose in await purposes.active_for_tenant(db, actor.tenant_id):
        r = counts.get(purpose.id)
        result.append(PurposeCount(purpose, r.granted if r else 0, r.withdrawn if r else 0, r.undecided if r else 0))
    return result


__all__ = ["ask_for_renewal", "decide", "history", "report", "state", "withdraw_by_token"]
