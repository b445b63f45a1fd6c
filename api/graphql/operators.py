"""GraphQL surface of the vendor's operators: their login, the tenants they administer
and their own log. Every field here but `operator` and `operatorLogin` is for operator
sessions only (FORBIDDEN for a tenant's user, UNAUTHENTICATED for nobody), and nothing
here shows a tenant user's data. Resolvers convert, call one service, map back."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import UNSET as GQL_UNSET
from strawberry.scalars import JSON

from api.graphql.accounts import given
from api.graphql.context import Context
from api.graphql.mutations import ANYONE, OPERATOR, mutation
from api.graphql.types import Connection, Info, Payload
from api.operators import auth, events, tenants
from api.operators.sessions import OperatorSessionInfo
from api.operators.tenants import TenantPage, TenantSummary
from api.work import Work
from db import models
from db.enums import ActorType, TenantState


@strawberry.type(name="Operator", description="One of the vendor's staff (no tenant, no seat).")
class OperatorType:
    id: strawberry.ID
    username: str
    email: str
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, o: models.Operator | OperatorSessionInfo) -> OperatorType:
        operator_id = o.operator_id if isinstance(o, OperatorSessionInfo) else o.id
        return cls(
            id=strawberry.ID(str(operator_id)),
            username=o.username,
            email=o.email,
            created_at=o.created_at,
            last_login_at=o.last_login_at,
        )


@strawberry.type(name="TenantSummary", description="A tenant as operators see it: counts and times, no user's data.")
class TenantSummaryType:
    id: strawberry.ID
    slug: str
    name: str
    state: TenantState
    seat_limit: int | None = strawberry.field(description="The seat licence; null means unlimited.")
    seats_used: int = strawberry.field(description="INVITED and ACTIVE accounts.")
    created_at: datetime
    last_activity_at: datetime | None = strawberry.field(
        description="The latest login of any of its accounts; null when none has logged in."
    )
    state_changed_at: datetime | None
    closed_at: datetime | None
    retain_until: datetime | None = strawberry.field(
        description="For a CLOSED tenant: the end of the legal hold on its contract record."
    )

    @classmethod
    def of(cls, t: TenantSummary) -> TenantSummaryType:
        return cls(
            id=strawberry.ID(str(t.id)),
            slug=t.slug,
            name=t.name,
            state=t.state,
            seat_limit=t.seat_limit,
            seats_used=t.seats_used,
            created_at=t.created_at,
            last_activity_at=t.last_activity_at,
            state_changed_at=t.state_changed_at,
            closed_at=t.closed_at,
            retain_until=t.retain_until,
        )


@strawberry.type(name="TenantSummaryConnection")
class TenantSummaryConnection(Connection[TenantSummaryType]):
    total_count: int

    @classmethod
    def of(cls, page: TenantPage) -> TenantSummaryConnection:
        connection = Connection.page([TenantSummaryType.of(t) for t in page.tenants], page.cursors, page.has_next_page)
        return cls(edges=connection.edges, page_info=connection.page_info, total_count=page.total_count)


@strawberry.type(name="OperatorAuditEvent", description="An event of the operators' own log.")
class OperatorAuditEventType:
    id: strawberry.ID
    occurred_at: datetime
    action: str = strawberry.field(
        description="Dotted name, e.g. operator.login_succeeded, tenant.suspended, tenant.seat_limit_changed."
    )
    actor_type: ActorType
    operator_id: strawberry.ID | None = strawberry.field(
        description="The operator who acted; with actorType SYSTEM or ANONYMOUS, the operator the event is about."
    )
    tenant_id: strawberry.ID | None
    ip_address: str | None
    changes: JSON | None

    @classmethod
    def of(cls, e: models.OperatorAuditEvent) -> OperatorAuditEventType:
        return cls(
            id=strawberry.ID(str(e.id)),
            occurred_at=e.occurred_at,
            action=e.action,
            actor_type=e.actor_type,
            operator_id=strawberry.ID(str(e.operator_id)) if e.operator_id else None,
            tenant_id=strawberry.ID(str(e.tenant_id)) if e.tenant_id else None,
            ip_address=str(e.ip_address) if e.ip_address else None,
            changes=e.changes,  # type: ignore[arg-type]  # strawberry's JSON scalar is a NewType of object
        )


@strawberry.type(name="OperatorAuditEventConnection")
class OperatorAuditEventConnection(Connection[OperatorAuditEventType]):
    pass


@strawberry.type
class OperatorLoginPayload(Payload):
    operator: OperatorType | None = None


@strawberry.type
class TenantSummaryPayload(Payload):
    tenant: TenantSummaryType | None = None


@strawberry.input
class OperatorLoginInput:
    username: str
    password: str
    code: str = strawberry.field(description="The current code of the operator's authenticator (TOTP).")


@strawberry.input
class SetTenantSeatLimitInput:
    tenant_id: strawberry.ID
    seat_limit: int | None = strawberry.field(
        default=GQL_UNSET, description="1 to 1,000,000, or null for unlimited; never below the seats in use."
    )


@strawberry.input
class SuspendTenantInput:
    tenant_id: strawberry.ID
    reason: str | None = strawberry.field(
        default=None,
        description="Why (up to 500 characters): in the operators' log only; the tenant's log says that a reason was given.",
    )


@strawberry.input
class ReactivateTenantInput:
    tenant_id: strawberry.ID


@strawberry.type
class OperatorsQuery:
    @strawberry.field(description="The signed-in operator; null when the request carries no operator session.")
    def operator(self, info: Info) -> OperatorType | None:
        session = info.context.operator
        return OperatorType.of(session) if session is not None else None

    @strawberry.field(description="Operators only. Tenants by slug; `search` matches slug or name.")
    async def tenants(
        self,
        info: Info,
        first: int | None = 50,
        after: str | None = None,
        search: str | None = None,
        state: TenantState | None = None,
    ) -> TenantSummaryConnection:
        page = await info.context.read(
            lambda work: tenants.list_page(
                work, first=50 if first is None else first, after=after, search=search, state=state
            )
        )
        return TenantSummaryConnection.of(page)

    @strawberry.field(
        description="Operators only. The operators' log, newest first; `tenantId` narrows it to one tenant."
    )
    async def operator_audit_events(
        self, info: Info, first: int | None = 50, after: str | None = None, tenant_id: strawberry.ID | None = None
    ) -> OperatorAuditEventConnection:
        page = await info.context.read(
            lambda work: events.page(work, first=50 if first is None else first, after=after, tenant_id=tenant_id)
        )
        connection = Connection.page(
            [OperatorAuditEventType.of(e) for e in page.events], page.cursors, page.has_next_page
        )
        return OperatorAuditEventConnection(edges=connection.edges, page_info=connection.page_info)


@strawberry.type
class OperatorsMutation:
    @mutation(
        OperatorLoginPayload,
        caller=ANYONE,
        description="An operator's login: password and the current TOTP code in one step. Sets the session cookie.",
    )
    async def operator_login(self, work: Work, ctx: Context, input: OperatorLoginInput) -> OperatorLoginPayload:
        done = await auth.login(
            work,
            username=input.username,
            password=input.password,
            code=input.code,
            previous_token=ctx.credentials.token,
        )
        ctx.set_session_cookie(done.session_token)
        return OperatorLoginPayload(operator=OperatorType.of(done.operator))

    @mutation(
        TenantSummaryPayload,
        caller=OPERATOR,
        description="Operators only. Changes a tenant's seat licence; lower than the seats in use fails with SEATS_IN_USE.",
    )
    async def set_tenant_seat_limit(self, work: Work, input: SetTenantSeatLimitInput) -> TenantSummaryPayload:
        summary = await tenants.set_seat_limit(work, tenant_id=input.tenant_id, seat_limit=given(input.seat_limit))
        return TenantSummaryPayload(tenant=TenantSummaryType.of(summary))

    @mutation(
        TenantSummaryPayload,
        caller=OPERATOR,
        description="Operators only. Nobody of the tenant can log in and every session of its accounts ends; the data is kept.",
    )
    async def suspend_tenant(self, work: Work, input: SuspendTenantInput) -> TenantSummaryPayload:
        summary = await tenants.suspend(work, tenant_id=input.tenant_id, reason=input.reason)
        return TenantSummaryPayload(tenant=TenantSummaryType.of(summary))

    @mutation(TenantSummaryPayload, caller=OPERATOR, description="Operators only. A suspended tenant is in use again.")
    async def reactivate_tenant(self, work: Work, input: ReactivateTenantInput) -> TenantSummaryPayload:
        summary = await tenants.reactivate(work, tenant_id=input.tenant_id)
        return TenantSummaryPayload(tenant=TenantSummaryType.of(summary))
