"""Enqueue background jobs inside the caller's transaction.

procrastinate's own `defer` uses its own connection, so a job deferred there would
survive a rolled-back request. Calling the queue's versioned SQL function on the
request's connection instead makes the job part of the transaction: a change that
rolls back enqueues nothing."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_DEFER = text(
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW("
    "CAST(:queue AS varchar), CAST(:task AS varchar), 0, NULL, NULL, CAST(:args AS jsonb), NULL"
    ")]::procrastinate_job_to_defer_v1[]))"
)


async def enqueue(db: AsyncSession, task: str, args: dict[str, Any], *, queue: str = "default") -> int:
    result = await db.execute(_DEFER, {"queue": queue, "task": task, "args": json.dumps(args)})
    return int(result.scalar_one())
