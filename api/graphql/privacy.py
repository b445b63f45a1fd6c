"""GraphQL surface of consent and privacy rights."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import UNSET as GQL_UNSET

from api import clock
from api.accounts import users
from api.graphql.accounts import UserPayload, UserType, given
from api.graphql.context import Context
from api.graphql.mutations import ADMIN, ANYONE, USER, mutation
from api.graphql.types import Connection, Info, OkPayload, PasswordInput, Payload
from api.privacy import consents, erasure, parts, purposes, requests
from api.privacy.consents import ConsentState, PurposeCount
from api.privacy.purposes import PurposeRow
from api.settings import Settings
from api.usecases import data_requests, purpose_revision
from api.work import Work
from db import models
from db.enums import ConsentSource, DataRequestKind, DataRequestStatus, LegalBasis, PartStatus


@strawberry.type(name="PurposeText")
class PurposeText:
    locale: str
    title: str
    description: str


@strawberry.type(name="Purpose")
class PurposeType:
    key: str
    legal_basis: LegalBasis
    version: int = strawberry.field(
        description="Bumped when the purpose's text changes materially; consents given under an older version need renewal."
    )
    active: bool
    own_title: strawberry.Private[str]
    own_description: strawberry.Private[str]
    texts: strawberry.Private[dict[str, dict[str, str]]]

    @strawberry.field(description="In the request's language when the tenant gave one, else the purpose's own title.")
    def title(self, info: Info) -> str:
        return self.texts.get(info.context.locale, {}).get("title") or self.own_title

    @strawberry.field(description="In the request's language when the tenant gave one, else the purpose's own text.")
    def description(self, info: Info) -> str:
        return self.texts.get(info.context.locale, {}).get("description") or self.own_description

    @strawberry.field(description="The title and description in other languages, as the tenant gave them.")
    def translations(self) -> list[PurposeText]:
        return [
            PurposeText(locale=k, title=v["title"], description=v["description"]) for k, v in sorted(self.texts.items())
        ]

    @classmethod
    def of(cls, p: models.Purpose | PurposeRow) -> PurposeType:
        return cls(
            key=p.key,
            legal_basis=p.legal_basis,
            version=p.version,
            active=p.active,
            own_title=p.title,
            own_description=p.description,
            texts=p.translations or {},
        )


@strawberry.type(name="Consent")
class ConsentType:
    purpose: PurposeType
    granted: bool
    version: int | None = strawberry.field(
        description="The purpose version this decision was made under; null when never decided."
    )
    needs_renewal: bool
    updated_at: datetime | None

    @classmethod
    def of(cls, c: ConsentState) -> ConsentType:
        return cls(
            purpose=PurposeType.of(c.purpose),
            granted=c.granted,
            version=c.version,
            needs_renewal=c.needs_renewal,
            updated_at=c.updated_at,
        )


@strawberry.type(name="ConsentEvent")
class ConsentEventType:
    purpose_key: str
    granted: bool
    version: int
    source: str = strawberry.field(description="Where the decision came from: web, api, admin, email-link, system.")
    recorded_at: datetime
    cursor: str = strawberry.field(
        default="", description="Give it as `after` to viewer.consentHistory for the decisions before this one."
    )

    @classmethod
    def of(cls, e: models.ConsentEvent) -> ConsentEventType:
        return cls(
            purpose_key=e.purpose_key,
            granted=e.granted,
            version=e.purpose_version,
            source=e.source,
            recorded_at=e.recorded_at,
            cursor=consents.history_cursor(e),
        )


@strawberry.type(name="DataRequestApplicationPart")
class DataRequestPartType:
    application: str
    status: PartStatus
    reason: str | None
    updated_at: datetime

    @classmethod
    def of(cls, p: parts.Part) -> DataRequestPartType:
        return cls(application=p.application, status=p.status, reason=p.reason, updated_at=p.updated_at)


@strawberry.type(name="DataRequest")
class DataRequestType:
    id: strawberry.ID
    kind: DataRequestKind
    status: DataRequestStatus
    subject_id: strawberry.ID | None = strawberry.field(description="Null once the subject has been erased.")
    requested_at: datetime
    due_at: datetime = strawberry.field(description="Statutory deadline: one month after the request.")
    completed_at: datetime | None
    download_url: str | None = strawberry.field(
        description="For a completed EXPORT, to its own subject only: a short-lived link to the archive."
    )
    download_expires_at: datetime | None
    overdue: bool = strawberry.field(description="Past its due date and not yet fulfilled.")
    applications: list[DataRequestPartType] = strawberry.field(
        description="The connected applications' parts: for an ERASURE their confirmations (the request is COMPLETED when all have confirmed), for an EXPORT their parts of the archive (MISSING ones are named in it)."
    )

    @classmethod
    def of(
        cls,
        r: models.DataRequest,
        *,
        viewer_id: uuid.UUID | None,
        settings: Settings,
        application_parts: list[parts.Part] | None = None,
    ) -> DataRequestType:
        mine = (
            viewer_id is not None
            and r.subject_id == viewer_id
            and requests.download_available(r.kind, r.status, r.download_expires_at)
        )
        return cls(
            id=strawberry.ID(str(r.id)),
            kind=r.kind,
            status=r.status,
            subject_id=strawberry.ID(str(r.subject_id)) if r.subject_id else None,
            requested_at=r.requested_at,
            due_at=r.due_at,
            completed_at=r.completed_at,
            download_url=f"{settings.public_api_url}/exports/{r.id}" if mine else None,
            download_expires_at=r.download_expires_at if mine else None,
            overdue=r.status in (DataRequestStatus.PENDING, DataRequestStatus.PROCESSING) and r.due_at < clock.now(),
            applications=[DataRequestPartType.of(p) for p in application_parts or []],
        )


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
    locale: str | None = strawberry.field(
        default=GQL_UNSET, description="en, nl or de; empty or null follows the organisation's."
    )
    time_zone: str | None = strawberry.field(
        default=GQL_UNSET,
        description="An IANA time zone such as Europe/Amsterdam; empty or null follows the organisation's.",
    )


@strawberry.input
class PurposeTextInput:
    locale: str
    title: str
    description: str


@strawberry.input
class PurposeInput:
    key: str
    title: str
    description: str
    legal_basis: LegalBasis
    bump_version: bool = strawberry.field(
        default=False, description="Set when the change is material: version goes up and earlier consents need renewal."
    )
    translations: list[PurposeTextInput] | None = strawberry.field(
        default=None,
        description="Title and description per language (nl, de); `title`/`description` serve any other. Null keeps the ones there are.",
    )


@strawberry.type
class ConsentsPayload(Payload):
    consents: list[ConsentType] | None = None


@strawberry.type
class DataRequestPayload(Payload):
    data_request: DataRequestType | None = None


@strawberry.type
class PurposePayload(Payload):
    purpose: PurposeType | None = None


@strawberry.type
class PrivacyQuery:
    @strawberry.field(description="Active purposes of a tenant, for consent screens shown before login. Public.")
    async def purposes(self, info: Info, tenant: str) -> list[PurposeType]:
        return [PurposeType.of(p) for p in await info.context.read(lambda work: purposes.public_list(work.db, tenant))]

    @strawberry.field(description="ADMIN or OWNER.")
    async def data_requests(
        self,
        info: Info,
        first: int | None = 50,
        after: str | None = None,
        status: DataRequestStatus | None = None,
    ) -> Connection[DataRequestType]:
        page = await info.context.read(
            lambda work: requests.list_page(work, first=50 if first is None else first, after=after, status=status)
        )
        viewer = info.context.session
        by_request = await info.context.read(lambda work: parts.parts_of(work.db, [r.id for r in page.requests]))
        nodes = [
            DataRequestType.of(
                r,
                viewer_id=viewer.user_id if viewer else None,
                settings=info.context.settings,
                application_parts=by_request.get(r.id),
            )
            for r in page.requests
        ]
        return Connection.page(nodes, page.cursors, page.has_next_page)

    @strawberry.field(description="ADMIN or OWNER.")
    async def consent_report(self, info: Info) -> list[PurposeConsentCount]:
        return [PurposeConsentCount.of(c) for c in await info.context.read(consents.report)]


@strawberry.type
class PrivacyMutation:
    @mutation(
        OkPayload,
        caller=ANYONE,
        description="The unsubscribe link in a marketing or renewal email: withdraws that one consent without logging in.",
    )
    async def withdraw_consent_by_token(self, work: Work, token: str) -> OkPayload:
        await consents.withdraw_by_token(work, token=token)
        return OkPayload(ok=True)

    @mutation(UserPayload, caller=USER)
    async def update_profile(self, work: Work, input: UpdateProfileInput) -> UserPayload:
        user = await users.update_own_profile(
            work,
            display_name=given(input.display_name),
            locale=given(input.locale),
            time_zone=given(input.time_zone),
        )
        return UserPayload(user=UserType.of(user))

    @mutation(
        ConsentsPayload, caller=USER, description="Records each decision with its purpose version, source, time and IP."
    )
    async def set_consents(self, work: Work, ctx: Context, input: list[ConsentDecisionInput]) -> ConsentsPayload:
        source = ConsentSource.API if ctx.credentials.source == "bearer" else ConsentSource.WEB
        state = await consents.decide(work, [(d.purpose_key, d.granted) for d in input], source=source)
        return ConsentsPayload(consents=[ConsentType.of(c) for c in state])

    @mutation(DataRequestPayload, caller=USER)
    async def request_data_export(self, work: Work) -> DataRequestPayload:
        request = await requests.request_own_export(work)
        return await _answer(work, request, work.acting().user_id)

    @mutation(
        OkPayload,
        caller=USER,
        description="Erases the account at once: profile, sessions, 2FA, consents; audit events keep only the bare account id.",
    )
    async def delete_account(self, work: Work, ctx: Context, input: PasswordInput) -> OkPayload:
        await erasure.delete_own_account(work, password=input.password)
        ctx.clear_session_cookie()
        return OkPayload(ok=True)

    @mutation(OkPayload, caller=ADMIN, description="Erases the account, as deleteAccount does.")
    async def remove_user(self, work: Work, id: strawberry.ID) -> OkPayload:
        await erasure.remove_user(work, user_id=id)
        return OkPayload(ok=True)

    @mutation(PurposePayload, caller=ADMIN)
    async def upsert_purpose(self, work: Work, input: PurposeInput) -> PurposePayload:
        purpose = await purpose_revision.upsert_purpose(
            work,
            key=input.key,
            title=input.title,
            description=input.description,
            legal_basis=input.legal_basis,
            bump_version=input.bump_version,
            translations=None
            if input.translations is None
            else [(t.locale, t.title, t.description) for t in input.translations],
        )
        return PurposePayload(purpose=PurposeType.of(purpose))

    @mutation(PurposePayload, caller=ADMIN)
    async def archive_purpose(self, work: Work, key: str) -> PurposePayload:
        return PurposePayload(purpose=PurposeType.of(await purposes.archive(work, key=key)))

    @mutation(
        DataRequestPayload,
        caller=ADMIN,
        description="An administrator fulfils a subject's request received outside the API.",
    )
    async def create_data_request(
        self, work: Work, user_id: strawberry.ID, kind: DataRequestKind
    ) -> DataRequestPayload:
        request = await data_requests.create_for_user(work, user_id=user_id, kind=kind)
        return await _answer(work, request, work.admin().user_id)


async def _answer(work: Work, request: models.DataRequest, viewer_id: uuid.UUID) -> DataRequestPayload:
    """A request just made, with the applications' parts it asked for (in this unit of
    work: they are not committed yet, so no other connection sees them)."""
    application_parts = (await parts.parts_of(work.db, [request.id])).get(request.id)
    return DataRequestPayload(
        data_request=DataRequestType.of(
            request, viewer_id=viewer_id, settings=work.settings, application_parts=application_parts
        )
    )
