"""Export requests as they wait for a worker (this server runs none in process)."""

from __future__ import annotations

import pytest

from tests.helpers import Api
from tests.queries import REQUEST_EXPORT


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"run_worker_in_serve": False}


async def test_one_export_at_a_time_and_its_job_is_queued_with_it(api: Api) -> None:
    owner = await api.owner("acme")
    first = (await owner.browser.gql(REQUEST_EXPORT)).ok("requestDataExport")["dataRequest"]
    assert first["status"] == "PENDING"
    assert (await owner.browser.gql(REQUEST_EXPORT)).user_errors("requestDataExport") == [(None, "DUPLICATE")]
    job = await api.db.fetchrow(
        "SELECT task_name, status, args FROM procrastinate_jobs WHERE task_name = 'build_export'"
    )
    assert job["status"] == "todo" and first["id"] in job["args"]
    # The deadline is one calendar month on.
    requested, due = first["requestedAt"], first["dueAt"]
    assert (int(due[5:7]) - int(requested[5:7])) % 12 == 1
