"""The operators' log, and recording an operator's action on a tenant in both places:
the tenant's own audit chain (actor type OPERATOR) and the operators' log."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api import clock
from api.audit import actions
from api.audit import service as audit
from api.request_meta import RequestMeta
from api.work import Work
from db.enums import ActorType
from db.models import OperatorAuditEvent


def record(
    db: AsyncSession,
    *,
    action: str,
    meta: RequestMeta,
    operator_id: uuid.UUID | None,
    tenant_id: uuid.UUID | None = None,
    changes: dict[str, Any] | None = None,
    actor_type: ActorType | None = None,
) -> OperatorAuditEvent:
    """An event in the operators' log: by an operator, or (operator_id None) the system.
    With `actor_type` (SYSTEM, ANONYMOUS), `operator_id` names the operator the event is
    about rather than one who acted (an operator created, a failed login)."""
    if action not in actions.ALL:
        raise ValueError(f"unknown audit action {action!r}: add it to api/audit/actions.py")
    event = OperatorAuditEvent(
        occurred_at=clock.now(),
        action=action,
        actor_type=actor_type or (ActorType.OPERATOR if operator_id else ActorType.SYSTEM),
        operator_id=operator_id,
        tenant_id=tenant_id,
        ip_address=meta.ip_address,
        user_agent=(meta.user_agent or "")[:512] or None,
        request_id=meta.request_id,
        changes=changes or None,
    )
    db.add(event)
    return event


def record_on_tenant(
    work: Work,
    *,
    tenant_id: uuid.UUID,
    action: str,
    target_type: str | None = "tenant",
    target_id: uuid.UUID | None = None,
    changes: dict[str, Any] | None = None,
    operators_only: dict[str, Any] | None = None,
) -> None:
    """The acting operator's action on a tenant, in the tenant's chain and the operators'
    log; `operators_only` changes (the vendor's own notes) go to the operators' log alone."""
    operator = work.operating()
    audit.record(
        work.db,
        tenant_id=tenant_id,
        action=action,
        meta=work.meta,
        actor_type=ActorType.OPERATOR,
        actor_id=operator.operator_id,
        target_type=target_type,
        target_id=target_id if target_id is not None else tenant_id,
        changes=changes,
    )
    record(
        work.db,
        action=action,
        meta=work.meta,
        operator_id=operator.operator_id,
        tenant_id=tenant_id,
        changes={**(changes or {}), **(operators_only or {})},
    )
