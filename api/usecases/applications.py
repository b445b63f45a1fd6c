"""Removing a connected application: its keys, deliveries and parts in data requests go;
the requests that waited only on it go on (erasures complete, exports are built)."""

from __future__ import annotations

from api.privacy import parts
from api.webhooks import applications
from api.work import Work


async def delete_application(work: Work, *, application_id: str) -> None:
    application = await applications.get(work.db, application_id, lock=True)
    waiting = await parts.pending_requests_of(work.db, application.id)
    await applications.delete(work, application_id=application_id)
    await parts.recheck(work.db, waiting)
