"""Enqueue background jobs inside the caller's transaction.

procrastinate's own `defer` uses its own connection, so a job deferred there would
survive a rolled-back request. Calling the queue's versioned SQL function on the
request's connection instead makes the jobs part of the transaction: a change that
rolls back enqueues nothing. Any number of jobs is one statement."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_DEFER = text(
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY("
    "SELECT ROW(CAST(:queue AS varchar), CAST(:task AS varchar), 0, NULL, NULL, job.args, NULL)::procrastinate_job_to_defer_v1"
    " FROM jsonb_array_elements(CAST(:args AS jsonb)) WITH ORDINALITY AS job(args, n) ORDER BY job.n)))"
)


async def enqueue_many(
    db: AsyncSession, task: str, args: Sequence[dict[str, Any]], *, queue: str = "default"
) -> list[int]:
    if not args:
        return []
    result = await db.execute(_DEFER, {"queue": queue, "task": task, "args": json.dumps(list(args))})
    return [int(job_id) for job_id in result.scalars()]


async def enqueue(db: AsyncSession, task: str, args: dict[str, Any], *, queue: str = "default") -> int:
    [job_id] = await enqueue_many(db, task, [args], queue=queue)
    return job_id
