"""Building an export archive: everything held about the subject as one JSON document,
written in chunks to the database while the rows stream in, so memory stays bounded
however long the subject's history is.

Layout (format "account-export/1"): an object with `format`, `generatedAt`, `tenant`,
`profile`, `contract` (OWNERs only: the contracting party's details), `security` (2FA status, never secrets), `sessions`, `consents`,
`consentHistory`, `dataRequests`, `applications` (each connected application's part
under its name, or `{"missing": true, "reason": ...}`) and `auditEvents` (events by or about the subject,
oldest first). See README, "Data export layout"."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import delete, insert, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from api import clock, events
from api.accounts import contracts
from api.audit import actions
from api.audit import service as audit
from api.auth import mfa, passkeys
from api.privacy import consents, parts, requests
from api.request_meta import SYSTEM_META
from api.security import sessions
from api.settings import Settings
from db.engine import UnitOfWorkSession
from db.enums import ActorType, DataRequestStatus, Role
from db.models import DataRequest, DataRequestPart, ExportChunk, Tenant, User

log = logging.getLogger("api.export")

FORMAT = "account-export/1"
CHUNK_BYTES = 256 * 1024


class ChunkWriter:
    """Collects output and stores it as numbered chunks in the caller's transaction."""

    def __init__(self, db: AsyncSession, tenant_id: uuid.UUID, request_id: uuid.UUID) -> None:
        self.db, self.tenant_id, self.request_id = db, tenant_id, request_id
        self.buffer = bytearray()
        self.seq = 0

    async def write(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) >= CHUNK_BYTES:
            await self.flush()

    async def flush(self) -> None:
        if self.buffer:
            await self.db.execute(
                insert(ExportChunk).values(
                    tenant_id=self.tenant_id, request_id=self.request_id, seq=self.seq, data=bytes(self.buffer)
                )
            )
            self.seq += 1
            self.buffer.clear()


def _json(value: Any) -> bytes:
    return orjson.dumps(value, default=str)


async def _write_document(
    db: AsyncSession, out: ChunkWriter, user: User, tenant: Tenant, request_id: uuid.UUID
) -> None:
    await out.write(b'{"format":' + _json(FORMAT) + b',"generatedAt":' + _json(clock.now().isoformat()))
    await out.write(b',"tenant":' + _json({"slug": tenant.slug, "name": tenant.name}))
    await out.write(
        b',"profile":'
        + _json(
            {
                "id": user.id,
                "username": user.username,
                "email": user.email,
                "displayName": user.display_name,
                "role": user.role,
                "status": user.status,
                "emailVerified": user.email_verified,
                "createdAt": user.created_at.isoformat(),
                "updatedAt": user.updated_at.isoformat(),
                "lastLoginAt": user.last_login_at.isoformat() if user.last_login_at else None,
            }
        )
    )
    if user.role == Role.OWNER:
        # The contracting party's details, which the OWNER sees and corrects.
        record = await contracts.get(db, user.tenant_id)
        await out.write(
            b',"contract":'
            + _json(
                {
                    "companyName": record.company_name,
                    "postalAddress": record.postal_address,
                    "country": record.country,
                    "vatId": record.vat_id,
                    "billingEmail": record.billing_email,
                    "contactName": record.contact_name,
                    "createdAt": record.created_at.isoformat(),
                    "updatedAt": record.updated_at.isoformat(),
                }
                if record
                else None
            )
        )
    await out.write(
        b',"security":'
        + _json(
            {
                "mfaEnabled": user.mfa_enabled,
                "recoveryCodesRemaining": await mfa.recovery_codes_remaining(db, user.tenant_id, user.id),
                # What the account's passkeys are called and are, never key material.
                "passkeys": [
                    {
                        "name": c.name,
                        "createdAt": c.created_at.isoformat(),
                        "lastUsedAt": c.last_used_at.isoformat() if c.last_used_at else None,
                        "aaguid": c.aaguid,
                        "backedUp": c.backed_up,
                    }
                    for c in await passkeys.of_user(db, user.tenant_id, user.id)
                ],
            }
        )
    )
    live = await sessions.live_for_user(db, user.tenant_id, user.id)
    await out.write(
        b',"sessions":'
        + _json(
            [
                {
                    "id": s.id,
                    "createdAt": s.created_at.isoformat(),
                    "lastSeenAt": s.last_seen_at.isoformat(),
                    "expiresAt": s.expires_at.isoformat(),
                    "ipAddress": s.ip_address,
                    "userAgent": s.user_agent,
                    "mfaVerified": s.mfa_verified,
                }
                for s in live
            ]
        )
    )
    state = await consents.state(db, user.tenant_id, user.id)
    await out.write(
        b',"consents":'
        + _json(
            [
                {
                    "purposeKey": c.purpose.key,
                    "title": c.purpose.title,
                    "legalBasis": c.purpose.legal_basis,
                    "granted": c.granted,
                    "version": c.version,
                    "currentVersion": c.purpose.version,
                    "needsRenewal": c.needs_renewal,
                    "updatedAt": c.updated_at.isoformat() if c.updated_at else None,
                }
                for c in state
            ]
        )
    )
    history = await consents.history(db, user.tenant_id, user.id)
    await out.write(
        b',"consentHistory":'
        + _json(
            [
                {
                    "purposeKey": e.purpose_key,
                    "granted": e.granted,
                    "version": e.purpose_version,
                    "source": e.source,
                    "ipAddress": str(e.ip_address) if e.ip_address else None,
                    "recordedAt": e.recorded_at.isoformat(),
                }
                for e in history
            ]
        )
    )
    own = await requests.for_subject(db, user.tenant_id, user.id)
    await out.write(
        b',"dataRequests":'
        + _json(
            [
                {
                    "id": r.id,
                    "kind": r.kind,
                    "status": r.status,
                    "requestedAt": r.requested_at.isoformat(),
                    "dueAt": r.due_at.isoformat(),
                    "completedAt": r.completed_at.isoformat() if r.completed_at else None,
                }
                for r in own
            ]
        )
    )
    # What the connected applications hold about the subject, each under its name; a part
    # that could not be had says so (api.privacy.parts).
    await out.write(b',"applications":{')
    for i, (name, part) in enumerate(await parts.export_parts(db, user.tenant_id, request_id)):
        await out.write((b"," if i else b"") + _json(name) + b":" + (part if isinstance(part, bytes) else _json(part)))
    await out.write(b"}")
    await out.write(b',"auditEvents":[')
    first = True
    result = await db.stream(
        text(
            # Network data of the subject's own actions only: what others did about them
            # shows without the others' IP address and browser.
            "SELECT id, occurred_at, action, actor_type, actor_id, target_type, target_id, "
            "CASE WHEN actor_type = 'USER' AND actor_id = :u THEN host(ip_address) END AS ip, "
            "CASE WHEN actor_type = 'USER' AND actor_id = :u THEN user_agent END AS user_agent, "
            "request_id, changes FROM audit_event "
            "WHERE tenant_id = :t AND (actor_id = :u OR target_id = :u) ORDER BY chain_seq"
        ).execution_options(yield_per=2000),
        {"t": user.tenant_id, "u": user.id},
    )
    async for row in result:
        await out.write(
            (b"" if first else b",")
            + _json(
                {
                    "id": row.id,
                    "occurredAt": row.occurred_at.isoformat(),
                    "action": row.action,
                    "actorType": row.actor_type,
                    "actorId": row.actor_id,
                    "targetType": row.target_type,
                    "targetId": row.target_id,
                    "ipAddress": row.ip,
                    "userAgent": row.user_agent,
                    "requestId": row.request_id,
                    "changes": row.changes,
                }
            )
        )
        first = False
    await out.write(b"]}")
    await out.flush()


async def build(
    sessionmaker: async_sessionmaker[UnitOfWorkSession],
    settings: Settings,
    tenant_id: uuid.UUID,
    request_id: uuid.UUID,
    *,
    final_attempt: bool,
) -> None:
    async with sessionmaker() as db:
        async with db.begin():
            request = await db.get(DataRequest, (tenant_id, request_id), with_for_update=True)
            if (
                request is None
                or request.subject_id is None
                or request.status not in (DataRequestStatus.PENDING, DataRequestStatus.PROCESSING)
            ):
                return  # erased, rejected or already done
            if request.status == DataRequestStatus.PENDING:
                request.status = DataRequestStatus.PROCESSING
                audit.record(
                    db,
                    tenant_id=tenant_id,
                    action=actions.DATA_REQUEST_PROCESSING,
                    meta=SYSTEM_META,
                    actor_type=ActorType.SYSTEM,
                    target_type="data_request",
                    target_id=request_id,
                )
        try:
            async with db.begin():
                request = await db.get(
                    DataRequest, (tenant_id, request_id), with_for_update=True, populate_existing=True
                )
                if request is None or request.subject_id is None or request.status != DataRequestStatus.PROCESSING:
                    return
                user = await db.get(User, (tenant_id, request.subject_id))
                tenant = await db.get(Tenant, tenant_id)
                assert user is not None and tenant is not None
                await db.execute(
                    delete(ExportChunk).where(
                        col(ExportChunk.tenant_id) == tenant_id, col(ExportChunk.request_id) == request_id
                    )
                )
                out = ChunkWriter(db, tenant_id, request_id)
                await _write_document(db, out, user, tenant, request_id)
                now = clock.now()
                request.status, request.completed_at = DataRequestStatus.COMPLETED, now
                request.download_expires_at = now + timedelta(hours=settings.export_download_hours)
                audit.record(
                    db,
                    tenant_id=tenant_id,
                    action=actions.DATA_REQUEST_COMPLETED,
                    meta=SYSTEM_META,
                    actor_type=ActorType.SYSTEM,
                    target_type="data_request",
                    target_id=request_id,
                    changes={"chunks": {"new": out.seq}},
                )
                await events.emit(db, events.DATA_REQUEST_COMPLETED, tenant_id, parts.completed_data(request))
                # The applications' parts are in the archive now; no copy is kept besides.
                await db.execute(
                    update(DataRequestPart)
                    .where(col(DataRequestPart.tenant_id) == tenant_id, col(DataRequestPart.request_id) == request_id)
                    .values(data=None)
                )
        except Exception:
            log.exception("export %s failed%s", request_id, "; giving up" if final_attempt else "; will retry")
            if final_attempt:
                async with db.begin():
                    failed = await db.get(
                        DataRequest, (tenant_id, request_id), with_for_update=True, populate_existing=True
                    )
                    if failed is not None and failed.status == DataRequestStatus.PROCESSING:
                        failed.status = DataRequestStatus.FAILED
                        audit.record(
                            db,
                            tenant_id=tenant_id,
                            action=actions.DATA_REQUEST_FAILED,
                            meta=SYSTEM_META,
                            actor_type=ActorType.SYSTEM,
                            target_type="data_request",
                            target_id=request_id,
                        )
            raise
