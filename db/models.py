"""SQLModel tables. Every tenant-owned table carries `tenant_id` in its primary and
unique keys, and references other tenant rows through (tenant_id, id), so a row can
never point into another tenant and the tables can be distributed by tenant_id."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    String,
    Text,
    func,
    text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import ARRAY, INET, JSONB
from sqlmodel import Field, SQLModel

from db.enums import (
    AccountStatus,
    ActorType,
    ConsentSource,
    DataRequestKind,
    DataRequestStatus,
    DeliveryStatus,
    LegalBasis,
    PartStatus,
    PasskeyCeremony,
    ProofMethod,
    Role,
    SessionStage,
    TenantState,
    TokenKind,
    check_in,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(nullable: bool = False, default_now: bool = True) -> Any:
    return Field(
        default_factory=utcnow if default_now else None,
        sa_type=DateTime(timezone=True),
        nullable=nullable,
        sa_column_kwargs={"server_default": func.now()} if default_now else {},
    )


def _enum(values: type[StrEnum], length: int = 16) -> SAEnum:
    """A VARCHAR holding the enum's values (not names), read back as enum members; the
    CHECK constraint is declared with the table (check_in), as the migrations made it."""
    return SAEnum(
        values,
        native_enum=False,
        create_constraint=False,
        length=length,
        validate_strings=True,
        values_callable=lambda enum: [member.value for member in enum],
    )


class Tenant(SQLModel, table=True):
    __tablename__ = "tenant"
    __table_args__ = (
        Index("tenant_slug_key", text("lower(slug)"), unique=True),
        CheckConstraint("seat_limit IS NULL OR seat_limit >= 0", name="tenant_seat_limit_check"),
        CheckConstraint("session_idle_timeout_minutes BETWEEN 1 AND 10080", name="tenant_idle_check"),
        CheckConstraint("session_absolute_timeout_hours BETWEEN 1 AND 8760", name="tenant_absolute_check"),
        CheckConstraint(
            "inactive_account_retention_days IS NULL OR inactive_account_retention_days >= 1",
            name="tenant_retention_check",
        ),
        CheckConstraint("audit_retention_days BETWEEN 30 AND 3650", name="tenant_audit_retention_check"),
        CheckConstraint(check_in("state", TenantState), name="tenant_state_check"),
        CheckConstraint(
            "(state = 'CLOSED') = (closed_at IS NOT NULL AND retain_until IS NOT NULL)", name="tenant_closed_check"
        ),
        Index("tenant_signup_nonce_key", "signup_nonce_hash", unique=True),
        Index("tenant_hold_idx", "retain_until", postgresql_where=text("state = 'CLOSED'")),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    slug: str = Field(sa_type=String(63))
    name: str = Field(sa_type=String(200))
    seat_limit: int | None = None
    require_mfa: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    session_idle_timeout_minutes: int = Field(default=30, sa_column_kwargs={"server_default": text("30")})
    session_absolute_timeout_hours: int = Field(default=12, sa_column_kwargs={"server_default": text("12")})
    inactive_account_retention_days: int | None = None
    audit_retention_days: int = Field(default=730, sa_column_kwargs={"server_default": text("730")})
    # The locale and time zone of accounts that chose none, and of the organisation's emails.
    default_locale: str = Field(default="en", sa_type=String(8), sa_column_kwargs={"server_default": "en"})
    time_zone: str = Field(default="UTC", sa_type=String(64), sa_column_kwargs={"server_default": "UTC"})
    created_at: datetime = _ts()
    state: TenantState = Field(
        default=TenantState.ACTIVE, sa_type=_enum(TenantState), sa_column_kwargs={"server_default": "ACTIVE"}
    )
    state_changed_at: datetime | None = _ts(nullable=True, default_now=False)
    closed_at: datetime | None = _ts(nullable=True, default_now=False)
    # The end of the legal hold of a CLOSED tenant: then its contract record, its remaining
    # audit events and the tenant row go (api.tenancy.holds).
    retain_until: datetime | None = _ts(nullable=True, default_now=False)
    # The hash of the signed sign-up link that created it, so the link is used once.
    signup_nonce_hash: bytes | None = Field(default=None, sa_type=LargeBinary)


class TenantContract(SQLModel, table=True):
    """The contracting party's details (who bought the licence, for invoicing). The one
    piece of personal data that outlives the tenant's closure, under legal hold."""

    __tablename__ = "tenant_contract"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),)

    tenant_id: uuid.UUID = Field(primary_key=True)
    company_name: str = Field(sa_type=String(200))
    postal_address: str = Field(sa_type=String(500))
    country: str = Field(sa_type=String(2))
    vat_id: str | None = Field(default=None, sa_type=String(20))
    billing_email: str = Field(sa_type=String(320))
    contact_name: str = Field(sa_type=String(100))
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        Index("app_user_username_key", "tenant_id", text("lower(username)"), unique=True),
        Index("app_user_email_key", "tenant_id", text("lower(email)"), unique=True),
        Index("app_user_tenant_status_idx", "tenant_id", "status", "role"),
        Index("app_user_webauthn_handle_key", "tenant_id", "webauthn_user_handle", unique=True),
        CheckConstraint(check_in("role", Role), name="app_user_role_check"),
        CheckConstraint(check_in("status", AccountStatus), name="app_user_status_check"),
    )

    tenant_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    username: str = Field(sa_type=String(64))
    email: str = Field(sa_type=String(320))
    display_name: str | None = Field(default=None, sa_type=String(100))
    role: Role = Field(default=Role.MEMBER, sa_type=_enum(Role))
    status: AccountStatus = Field(default=AccountStatus.INVITED, sa_type=_enum(AccountStatus))
    email_verified: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    # Kept in step with a confirmed user_totp row, so lists need no join.
    mfa_enabled: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    password_hash: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    last_login_at: datetime | None = _ts(nullable=True, default_now=False)
    # Set when the account was told it will be erased for inactivity; cleared by a login.
    inactivity_warned_at: datetime | None = _ts(nullable=True, default_now=False)
    # WebAuthn's user handle: random, made with the first passkey; tells the account from
    # a discoverable credential without naming it.
    webauthn_user_handle: bytes | None = Field(default=None, sa_type=LargeBinary)
    # The account's own language and time zone; None follows the organisation's.
    locale: str | None = Field(default=None, sa_type=String(8))
    time_zone: str | None = Field(default=None, sa_type=String(64))


class AccountToken(SQLModel, table=True):
    """Single-use emailed tokens (invitation, password reset, email verification); hash only."""

    __tablename__ = "account_token"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "user_id"], ["app_user.tenant_id", "app_user.id"], ondelete="CASCADE"),
        Index("account_token_hash_key", "tenant_id", "token_hash", unique=True),
        Index("account_token_hash_idx", "token_hash"),
        Index("account_token_user_idx", "tenant_id", "user_id", "kind"),
        CheckConstraint(check_in("kind", TokenKind), name="account_token_kind_check"),
    )

    tenant_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID
    kind: TokenKind = Field(sa_type=_enum(TokenKind, 32))
    token_hash: bytes = Field(sa_type=LargeBinary)
    expires_at: datetime = _ts(default_now=False)
    used_at: datetime | None = _ts(nullable=True, default_now=False)
    created_at: datetime = _ts()
    # e.g. the new address for an email verification
    data: dict[str, Any] | None = Field(default=None, sa_type=JSONB)


class UserSession(SQLModel, table=True):
    """A server-side session; the browser holds only the token, the table only its hash."""

    __tablename__ = "user_session"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "user_id"], ["app_user.tenant_id", "app_user.id"], ondelete="CASCADE"),
        Index("user_session_hash_key", "tenant_id", "token_hash", unique=True),
        Index("user_session_hash_idx", "token_hash"),
        Index("user_session_user_idx", "tenant_id", "user_id"),
        Index("user_session_expires_idx", "expires_at"),
        CheckConstraint(check_in("stage", SessionStage), name="user_session_stage_check"),
        CheckConstraint(
            "proof_method IS NULL OR " + check_in("proof_method", ProofMethod), name="user_session_proof_method_check"
        ),
    )

    tenant_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID
    token_hash: bytes = Field(sa_type=LargeBinary)
    stage: SessionStage = Field(default=SessionStage.FULL, sa_type=_enum(SessionStage))
    mfa_verified: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    created_at: datetime = _ts()
    last_seen_at: datetime = _ts()
    expires_at: datetime = _ts(default_now=False)
    ip_address: str | None = Field(default=None, sa_type=INET)
    user_agent: str | None = Field(default=None, sa_type=String(512))
    # When and how the session last proved who is there (sensitive actions ask for a fresh one).
    proof_at: datetime | None = _ts(nullable=True, default_now=False)
    proof_method: ProofMethod | None = Field(default=None, sa_type=_enum(ProofMethod, 24))


class AuditEvent(SQLModel, table=True):
    """Append-only record of every change. Holds ids, never personal values."""

    __tablename__ = "audit_event"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        Index("audit_event_chain_key", "tenant_id", text("chain_seq DESC"), unique=True),
        Index("audit_event_target_idx", "tenant_id", "target_id", text("chain_seq DESC")),
        Index("audit_event_actor_idx", "tenant_id", "actor_id", text("chain_seq DESC")),
        Index("audit_event_action_idx", "tenant_id", "action", text("chain_seq DESC")),
        Index("audit_event_time_idx", "tenant_id", "occurred_at", "chain_seq"),
        CheckConstraint(check_in("actor_type", ActorType), name="audit_event_actor_type_check"),
    )

    tenant_id: uuid.UUID = Field(primary_key=True)
    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, primary_key=True, autoincrement=True),
    )
    occurred_at: datetime = _ts()
    action: str = Field(sa_type=String(64))
    actor_type: ActorType = Field(sa_type=_enum(ActorType))
    actor_id: uuid.UUID | None = None
    target_type: str | None = Field(default=None, sa_type=String(32))
    target_id: uuid.UUID | None = None
    ip_address: str | None = Field(default=None, sa_type=INET)
    user_agent: str | None = Field(default=None, sa_type=String(512))
    request_id: str | None = Field(default=None, sa_type=String(64))
    changes: dict[str, Any] | None = Field(default=None, sa_type=JSONB)
    # Set by the database's chain trigger (see migration 0004), never by the application.
    chain_seq: int | None = Field(default=None, nullable=False, sa_type=BigInteger)
    prev_hash: bytes | None = Field(default=None, nullable=False, sa_type=LargeBinary)
    row_hash: bytes | None = Field(default=None, nullable=False, sa_type=LargeBinary)


class AuditCheckpoint(SQLModel, table=True):
    """A tenant's audit chain head as the application saw it, with an HMAC under a key
    derived from SECRET_KEY (which the database does not hold), each linked to the one
    before: a chain rewritten or cut short below a checkpoint no longer matches it."""

    __tablename__ = "audit_checkpoint"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),)

    tenant_id: uuid.UUID = Field(primary_key=True)
    chain_seq: int = Field(sa_type=BigInteger, primary_key=True)
    row_hash: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = _ts()
    key_id: str = Field(sa_type=String(16))
    prev_mac: bytes = Field(sa_type=LargeBinary)
    mac: bytes = Field(sa_type=LargeBinary)


class RateLimitCounter(SQLModel, table=True):
    """Fixed-window attempt counters shared by every process. Keys are HMACs of what is
    limited (account, client IP), so the table holds no personal data."""

    __tablename__ = "rate_limit_counter"
    __table_args__ = (Index("rate_limit_counter_window_idx", "window_start"),)

    key: str = Field(primary_key=True, sa_type=String(80))
    window_start: datetime = _ts(default_now=False)
    count: int = 0


class UserTotp(SQLModel, table=True):
    """A user's TOTP authenticator. The secret is sealed (AES-GCM); `key_id` names the key."""

    __tablename__ = "user_totp"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "user_id"], ["app_user.tenant_id", "app_user.id"], ondelete="CASCADE"),
    )

    tenant_id: uuid.UUID = Field(primary_key=True)
    user_id: uuid.UUID = Field(primary_key=True)
    secret_ciphertext: str = Field(sa_type=Text)
    key_id: str = Field(sa_type=String(16))
    confirmed_at: datetime | None = _ts(nullable=True, default_now=False)
    # The newest time step accepted: a code is never accepted twice.
    last_used_step: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = _ts()


class RecoveryCode(SQLModel, table=True):
    __tablename__ = "recovery_code"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "user_id"], ["app_user.tenant_id", "app_user.id"], ondelete="CASCADE"),
        Index("recovery_code_user_hash_key", "tenant_id", "user_id", "code_hash", unique=True),
    )

    tenant_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID
    code_hash: bytes = Field(sa_type=LargeBinary)
    used_at: datetime | None = _ts(nullable=True, default_now=False)
    created_at: datetime = _ts()


class Purpose(SQLModel, table=True):
    """Why the tenant processes personal data. `version` goes up on a material change."""

    __tablename__ = "purpose"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        Index("purpose_key_key", "tenant_id", "key", unique=True),
        CheckConstraint(check_in("legal_basis", LegalBasis), name="purpose_legal_basis_check"),
    )

    tenant_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    key: str = Field(sa_type=String(64))
    title: str = Field(sa_type=String(200))
    description: str = Field(sa_type=Text)
    legal_basis: LegalBasis = Field(sa_type=_enum(LegalBasis, 32))
    # Title and description in other languages: {"nl": {"title": ..., "description": ...}};
    # `title`/`description` are the fallback for any language not given.
    translations: dict[str, dict[str, str]] = Field(
        default_factory=dict, sa_type=JSONB, sa_column_kwargs={"server_default": text("'{}'::jsonb")}
    )
    version: int = 1
    active: bool = True
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class ConsentEvent(SQLModel, table=True):
    """One consent decision, with its proof. History is only ever appended to."""

    __tablename__ = "consent_event"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "user_id"], ["app_user.tenant_id", "app_user.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "purpose_id"], ["purpose.tenant_id", "purpose.id"]),
        Index("consent_event_user_idx", "tenant_id", "user_id", "purpose_id", text("recorded_at DESC")),
        Index("consent_event_purpose_idx", "tenant_id", "purpose_id"),
        # A person's history, newest first, a page at a time however long it is.
        Index("consent_event_history_idx", "tenant_id", "user_id", text("recorded_at DESC"), text("id DESC")),
        CheckConstraint(check_in("source", ConsentSource), name="consent_event_source_check"),
    )

    tenant_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID
    purpose_id: uuid.UUID
    purpose_key: str = Field(sa_type=String(64))
    purpose_version: int
    granted: bool
    source: ConsentSource = Field(sa_type=_enum(ConsentSource))
    ip_address: str | None = Field(default=None, sa_type=INET)
    recorded_at: datetime = _ts()


class ConsentCurrent(SQLModel, table=True):
    """Each person's newest decision per purpose, kept by a trigger on consent_event (in
    the deciding transaction), so what is decided now is read without reading history."""

    __tablename__ = "consent_current"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "user_id"], ["app_user.tenant_id", "app_user.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "purpose_id"], ["purpose.tenant_id", "purpose.id"], ondelete="CASCADE"),
        Index("consent_current_purpose_idx", "tenant_id", "purpose_id"),
    )

    tenant_id: uuid.UUID = Field(primary_key=True)
    user_id: uuid.UUID = Field(primary_key=True)
    purpose_id: uuid.UUID = Field(primary_key=True)
    granted: bool
    purpose_version: int
    recorded_at: datetime = _ts(default_now=False)
    event_id: uuid.UUID


class DataRequest(SQLModel, table=True):
    """A data subject's request (access/portability or erasure) and its fulfilment.
    `subject_id` becomes null when the subject is erased; the row stays as proof."""

    __tablename__ = "data_request"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        # Erasing the subject keeps the request (as proof) without them.
        ForeignKeyConstraint(
            ["tenant_id", "subject_id"],
            ["app_user.tenant_id", "app_user.id"],
            ondelete="SET NULL (subject_id)",
            name="data_request_subject_fkey",
        ),
        Index("data_request_time_idx", "tenant_id", text("requested_at DESC"), text("id DESC")),
        Index("data_request_subject_idx", "tenant_id", "subject_id"),
        CheckConstraint(check_in("kind", DataRequestKind), name="data_request_kind_check"),
        CheckConstraint(check_in("status", DataRequestStatus), name="data_request_status_check"),
    )

    tenant_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: DataRequestKind = Field(sa_type=_enum(DataRequestKind))
    status: DataRequestStatus = Field(default=DataRequestStatus.PENDING, sa_type=_enum(DataRequestStatus))
    subject_id: uuid.UUID | None = None
    requested_by: uuid.UUID | None = None
    requested_at: datetime = _ts()
    due_at: datetime = _ts(default_now=False)
    completed_at: datetime | None = _ts(nullable=True, default_now=False)
    download_expires_at: datetime | None = _ts(nullable=True, default_now=False)
    # When the tenant's administrators were told it is past its due date.
    overdue_notified_at: datetime | None = _ts(nullable=True, default_now=False)


class ExportChunk(SQLModel, table=True):
    """A piece of an export archive, in order; deleted when the download expires."""

    __tablename__ = "export_chunk"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "request_id"], ["data_request.tenant_id", "data_request.id"], ondelete="CASCADE"
        ),
    )

    tenant_id: uuid.UUID = Field(primary_key=True)
    request_id: uuid.UUID = Field(primary_key=True)
    seq: int = Field(primary_key=True)
    data: bytes = Field(sa_type=LargeBinary)


class Operator(SQLModel, table=True):
    """The vendor's staff: no tenant, no seat; a password and a TOTP second factor always."""

    __tablename__ = "operator"
    __table_args__ = (Index("operator_username_key", text("lower(username)"), unique=True),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    username: str = Field(sa_type=String(64))
    email: str = Field(sa_type=String(320))
    password_hash: str = Field(sa_type=Text)
    totp_secret_ciphertext: str = Field(sa_type=Text)
    totp_key_id: str = Field(sa_type=String(16))
    # The newest time step accepted: a code is never accepted twice.
    totp_last_used_step: int | None = Field(default=None, sa_type=BigInteger)
    disabled: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    created_at: datetime = _ts()
    last_login_at: datetime | None = _ts(nullable=True, default_now=False)


class OperatorSession(SQLModel, table=True):
    __tablename__ = "operator_session"
    __table_args__ = (
        ForeignKeyConstraint(["operator_id"], ["operator.id"], ondelete="CASCADE"),
        Index("operator_session_hash_key", "token_hash", unique=True),
        Index("operator_session_operator_idx", "operator_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    operator_id: uuid.UUID
    token_hash: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = _ts()
    last_seen_at: datetime = _ts()
    expires_at: datetime = _ts(default_now=False)
    ip_address: str | None = Field(default=None, sa_type=INET)
    user_agent: str | None = Field(default=None, sa_type=String(512))


class OperatorAuditEvent(SQLModel, table=True):
    """The operators' own log: every operator action (also written to the tenant's chain),
    and what the system did to tenants that have no chain any more (a purge after the
    legal hold). Append-only and hash-chained like audit_event (migration 0007). Keeps
    bare ids and the organisation's slug, never a tenant user's personal data."""

    __tablename__ = "operator_audit_event"
    __table_args__ = (
        Index("operator_audit_event_seq_key", text("chain_seq DESC"), unique=True),
        Index("operator_audit_event_tenant_idx", "tenant_id", text("chain_seq DESC")),
        CheckConstraint(check_in("actor_type", ActorType), name="operator_audit_event_actor_type_check"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    occurred_at: datetime = _ts()
    action: str = Field(sa_type=String(64))
    actor_type: ActorType = Field(sa_type=_enum(ActorType))
    operator_id: uuid.UUID | None = None
    tenant_id: uuid.UUID | None = None
    ip_address: str | None = Field(default=None, sa_type=INET)
    user_agent: str | None = Field(default=None, sa_type=String(512))
    request_id: str | None = Field(default=None, sa_type=String(64))
    changes: dict[str, Any] | None = Field(default=None, sa_type=JSONB)
    chain_seq: int | None = Field(default=None, nullable=False, sa_type=BigInteger)
    prev_hash: bytes | None = Field(default=None, nullable=False, sa_type=LargeBinary)
    row_hash: bytes | None = Field(default=None, nullable=False, sa_type=LargeBinary)


class Application(SQLModel, table=True):
    """One of the vendor's own applications: it receives events for every tenant at its
    webhook URL, may take part in erasure and export, and calls this API with its keys.
    The signing secret is sealed (it must be read to sign), never stored in clear."""

    __tablename__ = "application"
    __table_args__ = (Index("application_name_key", text("lower(name)"), unique=True),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(sa_type=String(64))
    webhook_url: str = Field(sa_type=String(2048))
    event_types: list[str] = Field(default_factory=list, sa_type=ARRAY(Text))
    takes_erasure: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    takes_export: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    secret_sealed: str = Field(sa_type=Text)
    enabled: bool = Field(default=True, sa_column_kwargs={"server_default": text("true")})
    disabled_reason: str | None = Field(default=None, sa_type=String(200))
    # Since when every attempt to it has failed (null: the last one succeeded).
    failing_since: datetime | None = _ts(nullable=True, default_now=False)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class ApplicationApiKey(SQLModel, table=True):
    """A key an application calls this API with: random, kept as its SHA-256 hash."""

    __tablename__ = "application_api_key"
    __table_args__ = (
        ForeignKeyConstraint(["application_id"], ["application.id"], ondelete="CASCADE"),
        Index("application_api_key_hash_key", "key_hash", unique=True),
        Index("application_api_key_application_idx", "application_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    application_id: uuid.UUID
    name: str = Field(sa_type=String(100))
    # The key's first characters, to tell keys apart in lists.
    prefix: str = Field(sa_type=String(16))
    key_hash: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = _ts()
    last_used_at: datetime | None = _ts(nullable=True, default_now=False)
    revoked_at: datetime | None = _ts(nullable=True, default_now=False)


class WebhookEndpoint(SQLModel, table=True):
    """A tenant's own receiver (its SIEM, its automation): only that tenant's events."""

    __tablename__ = "webhook_endpoint"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),)

    tenant_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    url: str = Field(sa_type=String(2048))
    description: str | None = Field(default=None, sa_type=String(200))
    event_types: list[str] = Field(default_factory=list, sa_type=ARRAY(Text))
    secret_sealed: str = Field(sa_type=Text)
    enabled: bool = Field(default=True, sa_column_kwargs={"server_default": text("true")})
    disabled_reason: str | None = Field(default=None, sa_type=String(200))
    failing_since: datetime | None = _ts(nullable=True, default_now=False)
    created_by: uuid.UUID | None = None
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class WebhookEvent(SQLModel, table=True):
    """An event, written in the transaction of the change it reports (the outbox) when
    some receiver wants its type. `payload` is the exact body sent. `subject_id`: the
    account it is about, so that erasing the account takes its events along."""

    __tablename__ = "webhook_event"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        Index("webhook_event_tenant_time_idx", "tenant_id", "occurred_at"),
        Index("webhook_event_subject_idx", "subject_id", postgresql_where=text("subject_id IS NOT NULL")),
        Index("webhook_event_time_idx", "occurred_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    tenant_id: uuid.UUID | None = None
    type: str = Field(sa_type=String(64))
    payload: dict[str, Any] = Field(sa_type=JSONB)
    subject_id: uuid.UUID | None = None
    occurred_at: datetime = _ts()


class WebhookDelivery(SQLModel, table=True):
    """One event to one receiver (an application, or a tenant's endpoint), at least once."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        ForeignKeyConstraint(["event_id"], ["webhook_event.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["application_id"], ["application.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["tenant_id", "endpoint_id"], ["webhook_endpoint.tenant_id", "webhook_endpoint.id"], ondelete="CASCADE"
        ),
        CheckConstraint(
            "(application_id IS NULL) <> (endpoint_id IS NULL) AND (endpoint_id IS NULL) = (tenant_id IS NULL)",
            name="webhook_delivery_target_check",
        ),
        CheckConstraint(check_in("status", DeliveryStatus), name="webhook_delivery_status_check"),
        Index("webhook_delivery_due_idx", "next_attempt_at", postgresql_where=text("status = 'PENDING'")),
        Index("webhook_delivery_event_idx", "event_id"),
        Index("webhook_delivery_application_idx", "application_id", text("created_at DESC")),
        Index("webhook_delivery_endpoint_idx", "tenant_id", "endpoint_id", text("created_at DESC")),
        Index(
            "webhook_delivery_application_due_idx",
            "application_id",
            "next_attempt_at",
            postgresql_where=text("status = 'PENDING'"),
        ),
        Index(
            "webhook_delivery_endpoint_due_idx",
            "tenant_id",
            "endpoint_id",
            "next_attempt_at",
            postgresql_where=text("status = 'PENDING'"),
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    event_id: uuid.UUID
    application_id: uuid.UUID | None = None
    tenant_id: uuid.UUID | None = None
    endpoint_id: uuid.UUID | None = None
    status: DeliveryStatus = Field(default=DeliveryStatus.PENDING, sa_type=_enum(DeliveryStatus))
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    next_attempt_at: datetime = _ts()
    # A worker that claimed it holds it until then; past it, another may (at least once).
    locked_until: datetime | None = _ts(nullable=True, default_now=False)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, sa_type=String(500))
    created_at: datetime = _ts()
    finished_at: datetime | None = _ts(nullable=True, default_now=False)


class WebhookAttempt(SQLModel, table=True):
    """Every attempt of a delivery, kept for WEBHOOK_HISTORY_DAYS."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (
        ForeignKeyConstraint(["delivery_id"], ["webhook_delivery.id"], ondelete="CASCADE"),
        Index("webhook_attempt_delivery_idx", "delivery_id", "attempted_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    delivery_id: uuid.UUID
    attempted_at: datetime = _ts()
    status_code: int | None = None
    latency_ms: int
    error: str | None = Field(default=None, sa_type=String(500))


class DataRequestPart(SQLModel, table=True):
    """A connected application's part in a data request: its confirmation that it erased
    the subject, or its part of the subject's export (JSON, size-capped)."""

    __tablename__ = "data_request_part"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "request_id"], ["data_request.tenant_id", "data_request.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["application_id"], ["application.id"], ondelete="CASCADE"),
        CheckConstraint(check_in("status", PartStatus), name="data_request_part_status_check"),
        Index("data_request_part_pending_idx", "status", "created_at", postgresql_where=text("status = 'PENDING'")),
    )

    tenant_id: uuid.UUID = Field(primary_key=True)
    request_id: uuid.UUID = Field(primary_key=True)
    application_id: uuid.UUID = Field(primary_key=True)
    status: PartStatus = Field(default=PartStatus.PENDING, sa_type=_enum(PartStatus))
    data: bytes | None = Field(default=None, sa_type=LargeBinary)
    reason: str | None = Field(default=None, sa_type=String(200))
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class WebauthnCredential(SQLModel, table=True):
    """A passkey: its id and public key (never a private key), its signature counter and
    what the authenticator said of itself."""

    __tablename__ = "webauthn_credential"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "user_id"], ["app_user.tenant_id", "app_user.id"], ondelete="CASCADE"),
        Index("webauthn_credential_id_key", "tenant_id", "credential_id", unique=True),
        Index("webauthn_credential_user_idx", "tenant_id", "user_id"),
    )

    tenant_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID
    credential_id: bytes = Field(sa_type=LargeBinary)
    public_key: bytes = Field(sa_type=LargeBinary)
    sign_count: int = Field(default=0, sa_type=BigInteger)
    aaguid: str = Field(sa_type=String(36))
    transports: list[str] = Field(default_factory=list, sa_type=ARRAY(Text))
    backup_eligible: bool = False
    backed_up: bool = False
    name: str = Field(sa_type=String(64))
    created_at: datetime = _ts()
    last_used_at: datetime | None = _ts(nullable=True, default_now=False)


class WebauthnChallenge(SQLModel, table=True):
    """A WebAuthn challenge: single-use, short-lived, for one ceremony, bound to the session
    that asked (or, signing in, to the flow it was given to), kept as its hash."""

    __tablename__ = "webauthn_challenge"
    __table_args__ = (
        CheckConstraint(check_in("ceremony", PasskeyCeremony), name="webauthn_challenge_ceremony_check"),
        Index("webauthn_challenge_expires_idx", "expires_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    ceremony: PasskeyCeremony = Field(sa_type=_enum(PasskeyCeremony, 24))
    challenge_hash: bytes = Field(sa_type=LargeBinary)
    tenant_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    created_at: datetime = _ts()
    expires_at: datetime = _ts(default_now=False)
    used_at: datetime | None = _ts(nullable=True, default_now=False)


metadata = SQLModel.metadata
