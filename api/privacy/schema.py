"""GraphQL surface of consent and privacy rights."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum

import strawberry
from strawberry import UNSET as GQL_UNSET

from api.accounts import users
from api.accounts.schema import UserPayload, UserType
from api.graphql.types import Info, OkPayload, PageInfo, PasswordInput, UserError, transactional
from api.privacy import consents, erasure, purposes, requests
from api.privacy.consents import ConsentState, PurposeCount
from api.settings import Settings
from api.values import UNSET
from db import models


@strawberry.enum
class LegalBasis(Enum):
    CONTRACT = "CONTRACT"
    CONSENT = "CONSENT"
    LEGITIMATE_INTEREST = "LEGITIMATE_INTEREST"
    LEGAL_OBLIGATION = "LEGAL_OBLIGATION"


@strawberry.enum
class DataRequestKind(Enum):
    EXPORT = strawberry.enum_value("EXPORT", description="Right of access and portability: a machine-readable copy of all the subject's data.")
    ERASURE = strawberry.enum_value("ERASURE", description="Right to erasure.")


@strawberry.enum
class DataRequestStatus(Enum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    REJECTED = "REJECTED"


@strawberry.type(name="Purpose")
class PurposeType:
    key: str
    title: str
    description: str
    legal_basis: LegalBasis
    version: int = strawberry.field(description="Bumped when the purpose's text changes materially; consents given under an older version need renewal.")
    active: bool

    @classmethod
    def of(cls, p: models.Purpose) -> PurposeType:
        return cls(key=p.key, title=p.title, description=p.description, legal_basis=LegalBasis(p.legal_basis), version=p.version, active=p.active)


@strawberry.type(name="Consent")
class ConsentType:
    purpose: PurposeType
    granted: bool
    version: int | None = strawberry.field(description="The purpose version this decision was made under; null when never decided.")
    needs_renewal: bool
    updated_at: datetime | None

    @classmethod
    def of(cls, c: ConsentState) -> ConsentType:
        return cls(purpose=PurposeType.of(c.purpose), granted=c.granted, version=c.version, needs_renewal=c.needs_renewal, updated_at=c.updated_at)


@strawberry.type(name="ConsentEvent")
class ConsentEventType:
    purpose_key: str
    granted: bool
    version: int
    source: str = strawberry.field(description="Where the decision came from: web, api, admin, email-link, system.")
    recorded_at: datetime

    @classmethod
    def of(cls, e: models.ConsentEvent) -> ConsentEventType:
        return cls(purpose_key=e.purpose_key, granted=e.granted, version=e.purpose_version, source=e.source, recorded_at=e.recorded_at)


@strawberry.type(name="DataRequest")
class DataRequestType:
    id: strawberry.ID
    kind: DataRequestKind
    status: DataRequestStatus
    subject_id: strawberry.ID | None = strawberry.field(description="Null once the subject has been erased.")
    requested_at: datetime
    due_at: datetime = strawberry.field(description="Statutory deadline: one month after the request.")
    completed_at: datetime | None
    download_url: str | None = strawberry.field(description="For a completed EXPORT, to its own subject only: a short-lived link to the archive.")
    download_expires_at: datetime | None

    @classmethod
    def of(cls, r: models.DataRequest, *, viewer_id: uuid.UUID | None, settings: Settings) -> DataRequestType:
        mine = viewer_id is not None and r.subject_id == viewer_id and requests.download_available(r.kind, r.status, r.download_expires_at)
        return cls(
            id=strawberry.ID(str(r.id)), kind=DataRequestKind(r.kind), status=DataRequestStatus(r.status),
            subject_id=strawberry.ID(str(r.subject_id)) if r.subject_id else None, requested_at=r.requested_at, due_at=r.due_at,
            completed_at=r.completed_at, download_url=f"{settings.public_api_url}/exports/{r.id}" if mine else None,
            download_expires_at=r.download_expires_at if mine else None,
        )


@strawberry.type
class DataRequestEdge:
    cursor: str
    node: DataRequestType


@strawberry.type
class DataRequestConnection:
    edges: list[DataRequestEdge]
    page_info: PageInfo


@strawberry.type
class PurposeConsentCount:
    purpose: PurposeType
    granted: int
    withdrawn: int
    undecided: int

    @classmethod
    def of(cls, c: PurposeCount) -> PurposeConsentCount:
        return cls(purpose=PurposeType.of(c.purpose), granted=c.granted, withdrawn=c.withdrawn, undecided=c.undecided)


@strawberry.input
class ConsentDecisionInput:
    purpose_key: str
    granted: bool


@strawberry.input
class UpdateProfileInput:
    display_name: str | None = GQL_UNSET


@strawberry.input
class PurposeInput:
    key: str
    title: str
    description: str
    legal_basis: LegalBasis
    bump_version: bool = strawberry.field(default=False, description="Set when the change is material: version goes up and earlier consents need renewal.")


@strawberry.type
class ConsentsPayload:
    consents: list[ConsentType] | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DataRequestPayload:
    data_request: DataRequestType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PurposePayload:
    purpose: PurposeType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PrivacyQuery:
    @strawberry.field(description="Active purposes of a tenant, for consent screens shown before login. Public.")
    async def purposes(self, info: Info, tenant: str) -> list[PurposeType]:
        return [PurposeType.of(p) for p in await info.context.read(lambda db: purposes.public_list(db, tenant))]

    @strawberry.field(description="ADMIN or OWNER.")
    async def data_requests(self, info: Info, first: int | None = 50, after: str | None = None, status: DataRequestStatus | None = None) -> DataRequestConnection:
        actor = await info.context.admin()
        page = await info.context.read(
            lambda db: requests.list_page(db, actor, first=50 if first is None else first, after=after, status=status.value if status else None)
        )
        settings = info.context.settings
        return DataRequestConnection(
            edges=[DataRequestEdge(cursor=c, node=DataRequestType.of(r, viewer_id=actor.user_id, settings=settings)) for r, c in zip(page.requests, page.cursors)],
            page_info=PageInfo.of(page.cursors, page.has_next_page),
        )

    @strawberry.field(description="ADMIN or OWNER.")
    async def consent_report(self, info: Info) -> list[PurposeConsentCount]:
        actor = await info.context.admin()
        return [PurposeConsentCount.of(c) for c in await info.context.read(lambda db: consents.report(db, actor))]


@strawberry.type
class PrivacyMutation:
    @strawberry.mutation(description="The unsubscribe link in a marketing or renewal email: withdraws that one consent without logging in.")
    @transactional(OkPayload)
    async def withdraw_consent_by_token(self, info: Info, token: str) -> OkPayload:
        ctx = info.context
        await consents.withdraw_by_token(ctx.db(), ctx.settings, ctx.meta, token=token)
        return OkPayload(ok=True)

    @strawberry.mutation
    @transactional(UserPayload)
    async def update_profile(self, info: Info, input: UpdateProfileInput) -> UserPayload:
        ctx = info.context
        display_name = UNSET if input.display_name is GQL_UNSET else input.display_name
        user = await users.update_own_profile(ctx.db(), await ctx.actor(), ctx.meta, display_name=display_name)
        return UserPayload(user=UserType.of(user))

    @strawberry.mutation(description="Records each decision with its purpose version, source, time and IP.")
    @transactional(ConsentsPayload)
    async def set_consents(self, info: Info, input: list[ConsentDecisionInput]) -> ConsentsPayload:
        ctx = info.context
        _, source = ctx.presented_token()
        state = await consents.decide(
            ctx.db(), ctx.services.guard, await ctx.actor(), ctx.meta, [(d.purpose_key, d.granted) for d in input],
            source="api" if source == "bearer" else "web",
        )
        return ConsentsPayload(consents=[ConsentType.of(c) for c in state])

    @strawberry.mutation
    @transactional(DataRequestPayload)
    async def request_data_export(self, info: Info) -> DataRequestPayload:
        ctx = info.context
        actor = await ctx.actor()
        request = await requests.request_own_export(ctx.db(), ctx.services.guard, actor, ctx.meta)
        return DataRequestPayload(data_request=DataRequestType.of(request, viewer_id=actor.user_id, settings=ctx.settings))

    @strawberry.mutation(description="Erases the account at once: profile, sessions, 2FA, consents; audit events keep only the bare account id.")
    @transactional(OkPayload)
    async def delete_account(self, info: Info, input: PasswordInput) -> OkPayload:
        ctx = info.context
        await erasure.delete_own_account(ctx.db(), ctx.services.guard, await ctx.actor(), ctx.meta, password=input.password)
        ctx.clear_session_cookie()
        return OkPayload(ok=True)

    @strawberry.mutation(description="Erases the account, as deleteAccount does.")
    @transactional(OkPayload)
    async def remove_user(self, info: Info, id: strawberry.ID) -> OkPayload:
        ctx = info.context
        await erasure.remove_user(ctx.db(), ctx.settings, await ctx.admin(), ctx.meta, user_id=id)
        return OkPayload(ok=True)

    @strawberry.mutation
    @transactional(PurposePayload)
    async def upsert_purpose(self, info: Info, input: PurposeInput) -> PurposePayload:
        ctx = info.context
        purpose = await purposes.upsert(
            ctx.db(), ctx.settings, await ctx.admin(), ctx.meta, key=input.key, title=input.title,
            description=input.description, legal_basis=input.legal_basis.value, bump_version=input.bump_version,
        )
        return PurposePayload(purpose=PurposeType.of(purpose))

    @strawberry.mutation
    @transactional(PurposePayload)
    async def archive_purpose(self, info: Info, key: str) -> PurposePayload:
        ctx = info.context
        purpose = await purposes.archive(ctx.db(), await ctx.admin(), ctx.meta, key=key)
        return PurposePayload(purpose=PurposeType.of(purpose))

    @strawberry.mutation(description="An administrator fulfils a subject's request received outside the API.")
    @transactional(DataRequestPayload)
    async def create_data_request(self, info: Info, user_id: strawberry.ID, kind: DataRequestKind) -> DataRequestPayload:
        ctx = info.context
        admin = await ctx.admin()
        request = await requests.create_for_user(ctx.db(), ctx.settings, ctx.services.guard, admin, ctx.meta, user_id=user_id, kind=kind.value)
        return DataRequestPayload(data_request=DataRequestType.of(request, viewer_id=admin.user_id, settings=ctx.settings))

