"""The viewer: the authenticated user and everything the API holds about them, across
domains (accounts, sessions, audit activity, consents, data requests, 2FA)."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from api import i18n
from api.accounts import tenants
from api.audit import query as audit_query
from api.auth import mfa
from api.auth import passkeys as passkey_service
from api.graphql.accounts import TenantType, UserType
from api.graphql.audit import AuditEventType, event_page
from api.graphql.passkey_type import PasskeyType
from api.graphql.privacy import ConsentEventType, ConsentType, DataRequestType
from api.graphql.types import Connection, Info
from api.pagination import MAX_PAGE
from api.privacy import consents, parts, requests
from api.security import sessions
from api.security.sessions import LiveSession, SessionInfo
from db import models


@strawberry.type(name="Session")
class SessionType:
    id: strawberry.ID
    current: bool = strawberry.field(description="True for the session that made this request.")
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ip_address: str | None
    user_agent: str | None
    mfa_verified: bool

    @classmethod
    def of(cls, s: LiveSession, current_id: object) -> SessionType:
        return cls(
            id=strawberry.ID(str(s.id)),
            current=s.id == current_id,
            created_at=s.created_at,
            last_seen_at=s.last_seen_at,
            expires_at=s.expires_at,
            ip_address=s.ip_address,
            user_agent=s.user_agent,
            mfa_verified=s.mfa_verified,
        )


@strawberry.type(description="The authenticated user and everything the API holds about them.")
class Viewer:
    # The account arrives with the session lookup, or with the mutation that made the session.
    user: UserType
    tenant_id: strawberry.Private[uuid.UUID]
    user_id: strawberry.Private[uuid.UUID]
    session_id: strawberry.Private[uuid.UUID | None] = None
    preloaded_tenant: strawberry.Private[models.Tenant | None] = None
    effective_locale: strawberry.Private[str] = i18n.DEFAULT_LOCALE
    effective_time_zone: strawberry.Private[str] = i18n.DEFAULT_TIME_ZONE

    @classmethod
    def of_session(cls, session: SessionInfo) -> Viewer:
        assert session.user is not None
        return cls(
            user=UserType.of(session.user),
            tenant_id=session.tenant_id,
            user_id=session.user_id,
            session_id=session.session_id,
            effective_locale=session.locale,
            effective_time_zone=session.time_zone,
        )

    @classmethod
    def of_account(cls, user: models.User, tenant: models.Tenant) -> Viewer:
        return cls(
            user=UserType.of(user),
            tenant_id=user.tenant_id,
            user_id=user.id,
            preloaded_tenant=tenant,
            effective_locale=user.locale or tenant.default_locale,
            effective_time_zone=user.time_zone or tenant.time_zone,
        )

    @strawberry.field(description="The language this account's texts follow: its own choice, else its organisation's.")
    def locale(self) -> str:
        return self.effective_locale

    @strawberry.field(description="The time zone this account's dates follow: its own choice, else its organisation's.")
    def time_zone(self) -> str:
        return self.effective_time_zone

    @strawberry.field
    async def tenant(self, info: Info) -> TenantType:
        if self.preloaded_tenant is None:
            self.preloaded_tenant = await info.context.read(lambda work: tenants.get(work.db, self.tenant_id))
        return TenantType.of(self.preloaded_tenant)

    @strawberry.field
    async def sessions(self, info: Info) -> list[SessionType]:
        live = await info.context.read(lambda work: sessions.live_for_user(work.db, self.tenant_id, self.user_id))
        return [SessionType.of(s, self.session_id) for s in live]

    @strawberry.field(
        description="Security-relevant events about this user (logins, password and 2FA changes), newest first."
    )
    async def activity(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[AuditEventType]:
        page = await info.context.read(
            lambda work: audit_query.activity(
                work.db, self.tenant_id, self.user_id, first=20 if first is None else first, after=after
            )
        )
        return event_page(page, subject_id=self.user_id)

    @strawberry.field
    async def consents(self, info: Info) -> list[ConsentType]:
        return [
            ConsentType.of(c)
            for c in await info.context.read(lambda work: consents.state(work.db, self.tenant_id, self.user_id))
        ]

    @strawberry.field(
        description="The account's consent decisions, newest first, `first` (1 to 100, default 100) at a time; "
        "`after` is the `cursor` of the last one seen."
    )
    async def consent_history(
        self, info: Info, first: int | None = MAX_PAGE, after: str | None = None
    ) -> list[ConsentEventType]:
        page = MAX_PAGE if first is None else first
        history = await info.context.read(
            lambda work: consents.history(work.db, self.tenant_id, self.user_id, first=page, after=after)
        )
        return [ConsentEventType.of(e) for e in history]

    @strawberry.field
    async def data_requests(self, info: Info) -> list[DataRequestType]:
        own = await info.context.read(lambda work: requests.for_subject(work.db, self.tenant_id, self.user_id))
        by_request = await info.context.read(lambda work: parts.parts_of(work.db, [r.id for r in own]))
        return [
            DataRequestType.of(
                r, viewer_id=self.user_id, settings=info.context.settings, application_parts=by_request.get(r.id)
            )
            for r in own
        ]

    @strawberry.field(description="Whether an authenticator app (TOTP) is on; `user.mfaEnabled` counts passkeys too.")
    async def totp_enabled(self, info: Info) -> bool:
        return await info.context.read(lambda work: mfa.has_confirmed_totp(work.db, self.tenant_id, self.user_id))

    @strawberry.field(description="The account's passkeys (no key material).")
    async def passkeys(self, info: Info) -> list[PasskeyType]:
        found = await info.context.read(lambda work: passkey_service.of_user(work.db, self.tenant_id, self.user_id))
        return [PasskeyType.of(c) for c in found]

    @strawberry.field
    async def recovery_codes_remaining(self, info: Info) -> int:
        return await info.context.read(lambda work: mfa.recovery_codes_remaining(work.db, self.tenant_id, self.user_id))
