"""GraphQL surface of outbound events: tenants' webhook endpoints (ADMIN, OWNER), the
vendor's connected applications and their API keys (operators), deliveries with their
attempts, and what applications call with their keys (sessionInfo, confirmErasure,
deliverExportPart)."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import UNSET as GQL_UNSET
from strawberry.scalars import JSON

from api import events
from api.graphql.accounts import given
from api.graphql.mutations import ADMIN, ADMIN_OR_OPERATOR, APPLICATION, OPERATOR, mutation
from api.graphql.types import Connection, Info, OkPayload, Payload
from api.privacy import parts
from api.security import sessions
from api.usecases import applications as application_removal
from api.webhooks import applications, deliveries, endpoints
from api.webhooks.deliveries import DeliveryPage
from api.work import Work
from db import models
from db.enums import DeliveryStatus, Role


@strawberry.type(name="WebhookEventType")
class EventTypeInfo:
    name: str
    description: str
    for_tenant_endpoints: bool


@strawberry.type(name="WebhookAttempt")
class AttemptType:
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None


@strawberry.type(name="WebhookDelivery")
class DeliveryType:
    id: strawberry.ID
    event_id: strawberry.ID = strawberry.field(description="The `webhook-id` the receiver got.")
    event_type: str
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: datetime | None = strawberry.field(description="When PENDING: the next attempt.")
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None
    attempts: list[AttemptType]

    @classmethod
    def of(cls, view: deliveries.DeliveryView) -> DeliveryType:
        d = view.delivery
        return cls(
            id=strawberry.ID(str(d.id)),
            event_id=strawberry.ID(str(d.event_id)),
            event_type=view.event_type,
            status=d.status,
            attempt_count=d.attempts,
            next_attempt_at=d.next_attempt_at if d.status == DeliveryStatus.PENDING else None,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            created_at=d.created_at,
            finished_at=d.finished_at,
            attempts=[
                AttemptType(
                    attempted_at=a.attempted_at, status_code=a.status_code, latency_ms=a.latency_ms, error=a.error
                )
                for a in view.attempts
            ],
        )


@strawberry.type
class WebhookDeliveryConnection(Connection[DeliveryType]):
    pass


def delivery_connection(page: DeliveryPage) -> WebhookDeliveryConnection:
    connection = Connection.page(
        [DeliveryType.of(v) for v in page.deliveries], [v.cursor for v in page.deliveries], page.has_next_page
    )
    return WebhookDeliveryConnection(edges=connection.edges, page_info=connection.page_info)


@strawberry.type(name="WebhookEndpoint")
class EndpointType:
    id: strawberry.ID
    url: str
    description: str | None
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime
    model: strawberry.Private[models.WebhookEndpoint]

    @strawberry.field(description="Newest first, each with its attempts.")
    async def deliveries(
        self, info: Info, first: int | None = 20, after: str | None = None, status: DeliveryStatus | None = None
    ) -> WebhookDeliveryConnection:
        page = await info.context.read(
            lambda work: deliveries.for_endpoint(
                work, self.model, first=20 if first is None else first, after=after, status=status
            )
        )
        return delivery_connection(page)

    @classmethod
    def of(cls, e: models.WebhookEndpoint) -> EndpointType:
        return cls(
            id=strawberry.ID(str(e.id)),
            url=e.url,
            description=e.description,
            event_types=list(e.event_types),
            enabled=e.enabled,
            disabled_reason=e.disabled_reason,
            failing_since=e.failing_since,
            created_at=e.created_at,
            model=e,
        )


@strawberry.type(name="ApiKey")
class ApiKeyType:
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(description="The key's first characters, to tell keys apart.")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, k: models.ApplicationApiKey) -> ApiKeyType:
        return cls(
            id=strawberry.ID(str(k.id)),
            name=k.name,
            prefix=k.prefix,
            created_at=k.created_at,
            last_used_at=k.last_used_at,
            revoked_at=k.revoked_at,
        )


@strawberry.type(name="Application")
class ApplicationType:
    id: strawberry.ID
    name: str
    webhook_url: str
    event_types: list[str]
    takes_erasure: bool
    takes_export: bool
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime
    api_keys: list[ApiKeyType]
    model_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="Newest first, each with its attempts.")
    async def deliveries(
        self, info: Info, first: int | None = 20, after: str | None = None, status: DeliveryStatus | None = None
    ) -> WebhookDeliveryConnection:
        page = await info.context.read(
            lambda work: deliveries.for_application(
                work, self.model_id, first=20 if first is None else first, after=after, status=status
            )
        )
        return delivery_connection(page)

    @classmethod
    def of(cls, a: models.Application, keys: list[models.ApplicationApiKey] | None = None) -> ApplicationType:
        return cls(
            id=strawberry.ID(str(a.id)),
            name=a.name,
            webhook_url=a.webhook_url,
            event_types=list(a.event_types),
            takes_erasure=a.takes_erasure,
            takes_export=a.takes_export,
            enabled=a.enabled,
            disabled_reason=a.disabled_reason,
            failing_since=a.failing_since,
            created_at=a.created_at,
            api_keys=[ApiKeyType.of(k) for k in keys or []],
            model_id=a.id,
        )


@strawberry.type(
    name="SessionInfo", description="What a user's session token stands for, for an application's back end."
)
class SessionInfoType:
    user_id: strawberry.ID
    tenant_id: strawberry.ID
    tenant_slug: str
    role: Role
    mfa_verified: bool = strawberry.field(description="The session proved a second factor.")
    expires_at: datetime = strawberry.field(description="When it ends unless used (idle) or at the latest (absolute).")


# --- inputs and payloads --------------------------------------------------------------


@strawberry.input
class CreateWebhookEndpointInput:
    url: str = strawberry.field(description="https, reaching a public address.")
    event_types: list[str]
    description: str | None = None


@strawberry.input
class UpdateWebhookEndpointInput:
    id: strawberry.ID
    url: str | None = GQL_UNSET
    event_types: list[str] | None = GQL_UNSET
    description: str | None = GQL_UNSET
    enabled: bool | None = strawberry.field(
        default=GQL_UNSET, description="true re-enables one that was disabled (then consider a replay)."
    )


@strawberry.type
class WebhookEndpointPayload(Payload):
    endpoint: EndpointType | None = None
    signing_secret: str | None = strawberry.field(
        default=None, description="Shown once, when made or rotated: `whsec_…`, per Standard Webhooks."
    )


@strawberry.input
class ReplayInput:
    id: strawberry.ID
    since: datetime


@strawberry.type
class ReplayPayload(Payload):
    queued: int | None = None


@strawberry.type
class WebhookDeliveryPayload(Payload):
    delivery_id: strawberry.ID | None = None
    status: DeliveryStatus | None = None


@strawberry.input
class CreateApplicationInput:
    name: str
    webhook_url: str
    event_types: list[str] = strawberry.field(default_factory=list)
    takes_erasure: bool = False
    takes_export: bool = False


@strawberry.input
class UpdateApplicationInput:
    id: strawberry.ID
    webhook_url: str | None = GQL_UNSET
    event_types: list[str] | None = GQL_UNSET
    takes_erasure: bool | None = GQL_UNSET
    takes_export: bool | None = GQL_UNSET
    enabled: bool | None = GQL_UNSET


@strawberry.type
class ApplicationPayload(Payload):
    application: ApplicationType | None = None
    signing_secret: str | None = strawberry.field(default=None, description="Shown once, when made or rotated.")


@strawberry.input
class CreateApiKeyInput:
    application_id: strawberry.ID
    name: str


@strawberry.type
class ApiKeyPayload(Payload):
    api_key: ApiKeyType | None = None
    key: str | None = strawberry.field(
        default=None, description="Shown once: the application sends it as `Authorization: Bearer ak_…`."
    )


@strawberry.input
class ConfirmErasureInput:
    data_request_id: strawberry.ID


@strawberry.input
class DeliverExportPartInput:
    data_request_id: strawberry.ID
    data: JSON = strawberry.field(description="A JSON object or array: what the application holds about the subject.")


@strawberry.type
class DataRequestPartPayload(Payload):
    ok: bool = False
    status: str | None = strawberry.field(default=None, description="The data request's status now.")


# --- queries and mutations ----------------------------------------------------------------


@strawberry.type
class WebhooksQuery:
    @strawberry.field(description="The event types and what they mean.")
    def webhook_event_types(self) -> list[EventTypeInfo]:
        return [
            EventTypeInfo(name=name, description=text, for_tenant_endpoints=name in events.TENANT_TYPES)
            for name, text in events.DESCRIPTIONS.items()
        ]

    @strawberry.field(description="ADMIN or OWNER: the organisation's webhook endpoints.")
    async def webhook_endpoints(self, info: Info) -> list[EndpointType]:
        return [EndpointType.of(e) for e in await info.context.read(endpoints.list_for_tenant)]

    @strawberry.field(description="Operators: the vendor's connected applications.")
    async def applications(self, info: Info) -> list[ApplicationType]:
        async def load(work: Work) -> list[ApplicationType]:
            found = await applications.list_all(work)
            keys = await applications.keys_of(work.db, [a.id for a in found])
            return [ApplicationType.of(a, keys[a.id]) for a in found]

        return await info.context.read(load)

    @strawberry.field(
        description="Connected applications (API key): the session a user's token stands for, or null when it is not a live full session."
    )
    async def session_info(self, info: Info, token: str) -> SessionInfoType | None:
        async def look(work: Work) -> SessionInfoType | None:
            work.applying()
            found = await sessions.describe(info.context.services.pool, token)
            if found is None:
                return None
            return SessionInfoType(
                user_id=strawberry.ID(str(found.user_id)),
                tenant_id=strawberry.ID(str(found.tenant_id)),
                tenant_slug=found.tenant_slug,
                role=found.role,
                mfa_verified=found.mfa_verified,
                expires_at=found.expires_at,
            )

        return await info.context.read(look)


@strawberry.type
class WebhooksMutation:
    @mutation(WebhookEndpointPayload, caller=ADMIN, description="The signing secret is in the answer, once.")
    async def create_webhook_endpoint(self, work: Work, input: CreateWebhookEndpointInput) -> WebhookEndpointPayload:
        made = await endpoints.create(work, url=input.url, types=input.event_types, description=input.description)
        return WebhookEndpointPayload(endpoint=EndpointType.of(made.endpoint), signing_secret=made.secret)

    @mutation(WebhookEndpointPayload, caller=ADMIN)
    async def update_webhook_endpoint(self, work: Work, input: UpdateWebhookEndpointInput) -> WebhookEndpointPayload:
        endpoint = await endpoints.update(
            work,
            endpoint_id=input.id,
            url=given(input.url),
            types=given(input.event_types),
            description=given(input.description),
            enabled=given(input.enabled),
        )
        return WebhookEndpointPayload(endpoint=EndpointType.of(endpoint))

    @mutation(OkPayload, caller=ADMIN)
    async def delete_webhook_endpoint(self, work: Work, id: strawberry.ID) -> OkPayload:
        await endpoints.delete(work, endpoint_id=id)
        return OkPayload(ok=True)

    @mutation(WebhookEndpointPayload, caller=ADMIN, description="A new signing secret, in the answer once.")
    async def rotate_webhook_endpoint_secret(self, work: Work, id: strawberry.ID) -> WebhookEndpointPayload:
        made = await endpoints.rotate_secret(work, endpoint_id=id)
        return WebhookEndpointPayload(endpoint=EndpointType.of(made.endpoint), signing_secret=made.secret)

    @mutation(
        ReplayPayload,
        caller=ADMIN,
        description="Deliver again every event since `since` the endpoint wants and did not get (at most 10,000).",
    )
    async def replay_webhook_endpoint(self, work: Work, input: ReplayInput) -> ReplayPayload:
        return ReplayPayload(queued=await deliveries.replay_endpoint(work, endpoint_id=input.id, since=input.since))

    @mutation(
        WebhookDeliveryPayload,
        caller=ADMIN_OR_OPERATOR,
        description="One more attempt now: an endpoint's delivery (ADMIN, OWNER) or an application's (operators).",
    )
    async def retry_webhook_delivery(self, work: Work, id: strawberry.ID) -> WebhookDeliveryPayload:
        delivery = await deliveries.retry(work, delivery_id=id)
        return WebhookDeliveryPayload(delivery_id=strawberry.ID(str(delivery.id)), status=delivery.status)

    @mutation(ApplicationPayload, caller=OPERATOR, description="The signing secret is in the answer, once.")
    async def create_application(self, work: Work, input: CreateApplicationInput) -> ApplicationPayload:
        made = await applications.create(
            work,
            name=input.name,
            webhook_url=input.webhook_url,
            types=input.event_types,
            takes_erasure=input.takes_erasure,
            takes_export=input.takes_export,
        )
        return ApplicationPayload(application=ApplicationType.of(made.application), signing_secret=made.secret)

    @mutation(ApplicationPayload, caller=OPERATOR)
    async def update_application(self, work: Work, input: UpdateApplicationInput) -> ApplicationPayload:
        application = await applications.update(
            work,
            application_id=input.id,
            webhook_url=given(input.webhook_url),
            types=given(input.event_types),
            takes_erasure=given(input.takes_erasure),
            takes_export=given(input.takes_export),
            enabled=given(input.enabled),
        )
        return ApplicationPayload(application=ApplicationType.of(application))

    @mutation(OkPayload, caller=OPERATOR)
    async def delete_application(self, work: Work, id: strawberry.ID) -> OkPayload:
        await application_removal.delete_application(work, application_id=id)
        return OkPayload(ok=True)

    @mutation(ApplicationPayload, caller=OPERATOR)
    async def rotate_application_secret(self, work: Work, id: strawberry.ID) -> ApplicationPayload:
        made = await applications.rotate_secret(work, application_id=id)
        return ApplicationPayload(application=ApplicationType.of(made.application), signing_secret=made.secret)

    @mutation(ReplayPayload, caller=OPERATOR)
    async def replay_application(self, work: Work, input: ReplayInput) -> ReplayPayload:
        return ReplayPayload(
            queued=await deliveries.replay_application(work, application_id=input.id, since=input.since)
        )

    @mutation(ApiKeyPayload, caller=OPERATOR, description="The key is in the answer, once.")
    async def create_api_key(self, work: Work, input: CreateApiKeyInput) -> ApiKeyPayload:
        made = await applications.create_key(work, application_id=input.application_id, name=input.name)
        return ApiKeyPayload(api_key=ApiKeyType.of(made.key), key=made.token)

    @mutation(ApiKeyPayload, caller=OPERATOR)
    async def revoke_api_key(self, work: Work, id: strawberry.ID) -> ApiKeyPayload:
        return ApiKeyPayload(api_key=ApiKeyType.of(await applications.revoke_key(work, key_id=id)))

    @mutation(
        DataRequestPartPayload,
        caller=APPLICATION,
        description="Connected applications (API key): the subject of this ERASURE request is erased on your side.",
    )
    async def confirm_erasure(self, work: Work, input: ConfirmErasureInput) -> DataRequestPartPayload:
        request = await parts.confirm_erasure(work, request_id=input.data_request_id)
        return DataRequestPartPayload(ok=True, status=request.status)

    @mutation(
        DataRequestPartPayload,
        caller=APPLICATION,
        description="Connected applications (API key): your part of this EXPORT request's archive.",
    )
    async def deliver_export_part(self, work: Work, input: DeliverExportPartInput) -> DataRequestPartPayload:
        request = await parts.deliver_export_part(work, request_id=input.data_request_id, data=input.data)
        return DataRequestPartPayload(ok=True, status=request.status)
