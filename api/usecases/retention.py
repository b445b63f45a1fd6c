"""The daily retention run: the tenants' own policies (api.privacy.retention), then the
legal holds that have ended (api.usecases.legal_hold)."""

from __future__ import annotations

from api.privacy import requests, retention
from api.usecases import legal_hold
from api.work import Work


async def run_daily(work: Work) -> dict[str, int]:
    totals = await retention.run(work)
    totals["tenants_purged"] = await legal_hold.purge_ended(work)
    totals["requests_overdue"] = await requests.flag_overdue(work)
    return totals
