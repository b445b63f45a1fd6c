"""Periodic clean-up: expired sessions (users' and operators'), spent tokens, old rate-limit counters.
Each deletion of tenant data is audited per tenant with actor type SYSTEM."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock
from api.attempts import purge_counters
from api.audit import actions
from api.audit import service as audit
from api.auth.service import purge_expired_tokens
from api.operators import sessions as operator_sessions
from api.request_meta import SYSTEM_META
from api.security import sessions
from api.settings import Settings, get_settings
from api.webhooks import deliveries
from db.enums import ActorType


async def purge_expired(db: AsyncSession, settings: Settings | None = None) -> dict[str, int]:
    settings = settings or get_settings()
    history_days = settings.webhook_history_days
    # Who-from details in the operators' log are kept for a while, not for ever.
    blanked = await db.execute(
        text(
            "UPDATE operator_audit_event SET ip_address = NULL, user_agent = NULL "
            "WHERE occurred_at < CAST(:before AS timestamptz) AND (ip_address IS NOT NULL OR user_agent IS NOT NULL)"
        ),
        {"before": clock.now() - timedelta(days=settings.operator_log_network_days)},
    )
    expired_sessions = await sessions.purge_expired(db)
    # Operators' sessions are no tenant's data: counted, not audited per tenant.
    expired_operator_sessions = await operator_sessions.purge_expired(db, settings)
    for tenant_id, count in expired_sessions.items():
        audit.record(
            db,
            tenant_id=tenant_id,
            action=actions.SESSIONS_PURGED,
            meta=SYSTEM_META,
            actor_type=ActorType.SYSTEM,
            changes={"count": {"new": count}},
        )
    spent_tokens = await purge_expired_tokens(db)
    for tenant_id, count in spent_tokens.items():
        audit.record(
            db,
            tenant_id=tenant_id,
            action=actions.TOKENS_PURGED,
            meta=SYSTEM_META,
            actor_type=ActorType.SYSTEM,
            changes={"count": {"new": count}},
        )
    counters = await purge_counters(db, older_than=timedelta(days=1))
    return {
        "sessions": sum(expired_sessions.values()),
        "operator_sessions": expired_operator_sessions,
        "tokens": sum(spent_tokens.values()),
        "counters": counters,
        "operator_log_network_blanked": int(blanked.rowcount or 0),  # type: ignore[attr-defined]
        **{f"webhook_{k}": v for k, v in (await deliveries.purge_history(db, history_days)).items()},
    }
