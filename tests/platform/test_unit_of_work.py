"""One unit of work per mutation: it alone commits. A service that tried would be refused;
what must outlive a rolled-back mutation goes through api.attempts."""

from __future__ import annotations

import pytest

from api.accounts import tenants
from db.engine import ServiceMustNotCommit
from tests.helpers import Api, login


async def test_the_session_handed_to_services_refuses_commit(api: Api) -> None:
    await api.owner("acme")
    with pytest.raises(ServiceMustNotCommit):
        async with api.unit() as work:
            tenant = await tenants.by_slug(work.db, "acme")
            assert tenant is not None
            tenant.name = "Changed by a service that commits"
            await work.db.commit()
    assert await api.db.fetchval("SELECT name FROM tenant") == "Acme Ltd"


async def test_a_failed_attempt_stands_while_its_mutation_rolls_back(api: Api) -> None:
    """The wrong password's audit event and its count survive the rolled-back login."""
    await api.owner("acme")
    before = await api.count("user_session")
    failed = await login(api.browser(), "not-the-password")
    assert failed.user_errors("login") == [(None, "INVALID_CREDENTIALS")]
    assert await api.count("user_session") == before
    assert await api.count("audit_event", "action = 'login.failed'") == 1
    assert await api.count("rate_limit_counter", "count >= 1") >= 2  # the identifier's and the client's
