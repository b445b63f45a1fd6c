"""The closed sets of values the tables hold, each defined once. The models' CHECK
constraints follow from them, the services compare against them, and the GraphQL layer
exposes them (strawberry.enum) where clients see them."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "OWNER"
    ADMIN = "ADMIN"
    MEMBER = "MEMBER"


# The roles that administer an organisation: granting, taking or disabling them needs a
# fresh proof of identity (step-up).
ADMIN_ROLES = frozenset({Role.OWNER, Role.ADMIN})


class AccountStatus(StrEnum):
    INVITED = "INVITED"
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


class TokenKind(StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"
    EMAIL_VERIFICATION = "email_verification"


class SessionStage(StrEnum):
    FULL = "full"
    MFA_PENDING = "mfa_pending"  # the password was right; a second factor must follow
    MFA_ENROLLMENT = "mfa_enrollment"  # the tenant requires 2FA and the user has none: may only enroll


class ActorType(StrEnum):
    USER = "USER"
    SYSTEM = "SYSTEM"
    ANONYMOUS = "ANONYMOUS"
    OPERATOR = "OPERATOR"  # the vendor's staff (api.operators)
    APPLICATION = "APPLICATION"  # a connected application calling with its API key (api.webhooks)


class TenantState(StrEnum):
    """A tenant's life: a sign-up awaiting confirmation is not stored (its signed link is
    all there is); then ACTIVE, SUSPENDED (nobody logs in, data kept), CLOSED (accounts
    erased; the contract record under legal hold until the tenant's `retain_until`)."""

    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    CLOSED = "CLOSED"


class LegalBasis(StrEnum):
    CONTRACT = "CONTRACT"
    CONSENT = "CONSENT"
    LEGITIMATE_INTEREST = "LEGITIMATE_INTEREST"
    LEGAL_OBLIGATION = "LEGAL_OBLIGATION"


class ConsentSource(StrEnum):
    WEB = "web"
    API = "api"
    ADMIN = "admin"
    EMAIL_LINK = "email-link"
    SYSTEM = "system"


class DataRequestKind(StrEnum):
    EXPORT = "EXPORT"
    ERASURE = "ERASURE"


class DataRequestStatus(StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    REJECTED = "REJECTED"


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"  # waiting for its next attempt
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"  # every attempt of the retry schedule failed


class PartStatus(StrEnum):
    """A connected application's part in a data request: its erasure confirmation, or its
    export part."""

    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"  # erasure: the application says it erased the subject
    DELIVERED = "DELIVERED"  # export: the application sent its part
    MISSING = "MISSING"  # export: the part could not be had


class ProofMethod(StrEnum):
    """How a session last proved who is there (api.security.stepup)."""

    PASSWORD = "password"
    PASSWORD_TOTP = "password+totp"  # or a recovery code
    PASSWORD_PASSKEY = "password+passkey"
    PASSKEY = "passkey"  # user-verified: two factors in one


class PasskeyCeremony(StrEnum):
    """What a WebAuthn challenge was issued for; it is good for that only."""

    REGISTRATION = "registration"
    LOGIN = "login"
    SECOND_FACTOR = "second_factor"
    REAUTHENTICATION = "reauthentication"


def check_in(column: str, values: type[StrEnum]) -> str:
    """The CHECK constraint's condition: the column holds one of the enum's values."""
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"
