"""What the operator tests share: making an operator as the command line does, logging
one in over HTTP with password and code, and the operations they send."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from api import clock
from api.operators import accounts
from api.request_meta import RequestMeta
from tests.helpers import Api, Browser, Result, code

OPERATOR_PASSWORD = "quartz-meadow-lantern-42-fig"

OPERATOR_LOGIN = """
mutation($u: String!, $p: String!, $c: String!) {
  operatorLogin(input: {username: $u, password: $p, code: $c}) {
    operator { id username email createdAt lastLoginAt } errors { field message code } } }
"""
ME = "{ operator { id username email createdAt lastLoginAt } }"
TENANTS = """
query($first: Int, $after: String, $search: String, $state: TenantState) {
  tenants(first: $first, after: $after, search: $search, state: $state) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id slug name state seatLimit seatsUsed createdAt lastActivityAt
                          stateChangedAt closedAt retainUntil } } } }
"""
EVENTS = """
query($first: Int, $after: String, $tenantId: ID) {
  operatorAuditEvents(first: $first, after: $after, tenantId: $tenantId) {
    pageInfo { hasNextPage endCursor }
    edges { node { id occurredAt action actorType operatorId tenantId ipAddress changes } } } }
"""
SET_SEATS = """
mutation($id: ID!, $seats: Int) { setTenantSeatLimit(input: {tenantId: $id, seatLimit: $seats}) {
  tenant { id slug seatLimit seatsUsed state } errors { field message code } } }
"""
SUSPEND = """
mutation($id: ID!, $reason: String) { suspendTenant(input: {tenantId: $id, reason: $reason}) {
  tenant { id state stateChangedAt } errors { field message code } } }
"""
REACTIVATE = """
mutation($id: ID!) { reactivateTenant(input: {tenantId: $id}) {
  tenant { id state stateChangedAt } errors { field message code } } }
"""


@dataclass
class Staff:
    """An operator: its id, its TOTP secret, and (once logged in) its browser."""

    id: str
    username: str
    secret: str
    browser: Browser | None = None

    async def gql(self, query: str, variables: dict[str, Any] | None = None) -> Result:
        assert self.browser is not None, "log in first"
        return await self.browser.gql(query, variables)


async def create_operator(api: Api, username: str = "olivia") -> Staff:
    """As `python -m api create-operator` does (tests/operators/test_operator_accounts.py runs the CLI itself)."""
    async with api.unit(RequestMeta(user_agent="cli", request_id="test-create-operator")) as work:
        factor = await accounts.create(
            work, username=username, email=f"{username}@vendor.example", password=OPERATOR_PASSWORD
        )
    return Staff(str(factor.operator.id), factor.operator.username, factor.secret)


async def operator_login(
    browser: Browser, username: str, secret: str, *, password: str = OPERATOR_PASSWORD, steps: int = 0
) -> Result:
    return await login_with_code(browser, username, code(secret, steps), password=password)


async def login_with_code(browser: Browser, username: str, typed: str, *, password: str = OPERATOR_PASSWORD) -> Result:
    """A login with exactly the code `typed` (one already used, say)."""
    return await browser.gql(OPERATOR_LOGIN, {"u": username, "p": password, "c": typed})


def next_step() -> None:
    """A code is accepted once: the next login needs the next time step's code."""
    clock.advance(timedelta(seconds=30))


async def signed_in_operator(api: Api, username: str = "olivia") -> Staff:
    staff = await create_operator(api, username)
    staff.browser = api.browser()
    (await operator_login(staff.browser, staff.username, staff.secret)).ok("operatorLogin")
    next_step()
    return staff


async def tenant_id(api: Api, slug: str) -> str:
    return str(await api.db.fetchval("SELECT id FROM tenant WHERE slug = $1", slug))


async def operator_log(api: Api, where: str = "TRUE", *args: Any) -> list[Any]:
    return list(await api.db.fetch(f"SELECT * FROM operator_audit_event WHERE {where} ORDER BY chain_seq", *args))


def new_id() -> str:
    return str(uuid.uuid4())
