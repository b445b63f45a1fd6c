"""Who is acting and from where: plain data the services receive, never an HTTP object."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from db.enums import ProofMethod, Role


@dataclass(frozen=True)
class RequestMeta:
    ip_address: str | None = None
    user_agent: str | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # The supported locale the client's Accept-Language prefers, if any: what anonymous
    # answers and emails follow when no account or organisation says otherwise.
    locale: str | None = None


@dataclass(frozen=True)
class Actor:
    """An authenticated user acting within their tenant."""

    tenant_id: uuid.UUID
    user_id: uuid.UUID
    role: Role
    session_id: uuid.UUID | None = None
    # When and how the session last proved who is there, and whether the account has a
    # second factor (then only a multi-factor proof counts): api.security.stepup.
    proof_at: datetime | None = None
    proof_method: ProofMethod | None = None
    has_second_factor: bool = False
    # The account's locale and time zone (its own, else the organisation's).
    locale: str = "en"
    time_zone: str = "UTC"

    @property
    def is_admin(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER


@dataclass(frozen=True)
class OperatorActor:
    """One of the vendor's staff, acting through an operator session (no tenant)."""

    operator_id: uuid.UUID
    session_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ApplicationActor:
    """One of the vendor's connected applications, calling with one of its API keys."""

    application_id: uuid.UUID
    name: str
    key_id: uuid.UUID | None = None


SYSTEM_META = RequestMeta(ip_address=None, user_agent="system", request_id="system")
