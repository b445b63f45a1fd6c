"""Every audit action name, in one place. Names are dotted and stable: clients and
auditors filter on them, so rename never; add new ones instead."""

from __future__ import annotations

TENANT_CREATED = "tenant.created"
TENANT_SETTINGS_CHANGED = "tenant.settings_changed"
TENANT_SEAT_LIMIT_CHANGED = "tenant.seat_limit_changed"
TENANT_SUSPENDED = "tenant.suspended"
TENANT_REACTIVATED = "tenant.reactivated"
TENANT_CLOSED = "tenant.closed"
TENANT_CLOSE_FAILED = "tenant.close_failed"
TENANT_PURGED = "tenant.purged"  # the legal hold ended: only in the operators' log
CONTRACT_CREATED = "contract.created"
CONTRACT_UPDATED = "contract.updated"

WEBHOOK_ENDPOINT_CREATED = "webhook_endpoint.created"
WEBHOOK_ENDPOINT_UPDATED = "webhook_endpoint.updated"
WEBHOOK_ENDPOINT_DELETED = "webhook_endpoint.deleted"
WEBHOOK_ENDPOINT_SECRET_ROTATED = "webhook_endpoint.secret_rotated"
WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint.disabled"  # failing for days
WEBHOOK_DELIVERY_RETRIED = "webhook_delivery.retried"
WEBHOOK_REPLAYED = "webhook.replayed"
# Connected applications: in the operators' log.
APPLICATION_CREATED = "application.created"
APPLICATION_UPDATED = "application.updated"
APPLICATION_DELETED = "application.deleted"
APPLICATION_SECRET_ROTATED = "application.secret_rotated"
APPLICATION_DISABLED = "application.disabled"
API_KEY_CREATED = "api_key.created"
API_KEY_REVOKED = "api_key.revoked"

OPERATOR_CREATED = "operator.created"
OPERATOR_LOGIN_SUCCEEDED = "operator.login_succeeded"
OPERATOR_LOGIN_FAILED = "operator.login_failed"
OPERATOR_LOGGED_OUT = "operator.logged_out"
OPERATOR_FACTOR_RESET = "operator.factor_reset"
OPERATOR_DISABLED = "operator.disabled"
OPERATOR_ENABLED = "operator.enabled"

USER_CREATED = "user.created"
USER_UPDATED = "user.updated"
USER_ROLE_CHANGED = "user.role_changed"
USER_STATUS_CHANGED = "user.status_changed"
USER_ACTIVATED = "user.activated"

INVITATION_SENT = "invitation.sent"
INVITATION_ACCEPTED = "invitation.accepted"

SESSION_CREATED = "session.created"
SESSION_REVOKED = "session.revoked"
SESSIONS_PURGED = "session.purged"
TOKENS_PURGED = "token.purged"

LOGIN_SUCCEEDED = "login.succeeded"
LOGIN_FAILED = "login.failed"

PASSWORD_CHANGED = "password.changed"
PASSWORD_CHANGE_FAILED = "password.change_failed"
PASSWORD_RESET_REQUESTED = "password.reset_requested"
PASSWORD_RESET = "password.reset"

MFA_ENROLLMENT_STARTED = "mfa.enrollment_started"
MFA_ENABLED = "mfa.enabled"
MFA_VERIFIED = "mfa.verified"
MFA_FAILED = "mfa.failed"
MFA_CODE_REPLAYED = "mfa.code_replayed"
MFA_ATTEMPTS_EXHAUSTED = "mfa.attempts_exhausted"
MFA_DISABLED = "mfa.disabled"
MFA_RESET = "mfa.reset"
RECOVERY_CODES_GENERATED = "recovery_codes.generated"
RECOVERY_CODE_USED = "recovery_code.used"
PASSKEY_REGISTERED = "passkey.registered"
PASSKEY_RENAMED = "passkey.renamed"
PASSKEY_REMOVED = "passkey.removed"
PASSKEY_USED = "passkey.used"
PASSKEY_FAILED = "passkey.failed"
PASSKEY_SIGN_COUNT_REGRESSED = "passkey.sign_count_regressed"
SESSION_REAUTHENTICATED = "session.reauthenticated"
REAUTHENTICATION_FAILED = "session.reauthentication_failed"

EMAIL_CHANGE_REQUESTED = "email.change_requested"
EMAIL_CHANGE_FAILED = "email.change_failed"
EMAIL_CHANGED = "email.changed"

PURPOSE_CREATED = "purpose.created"
PURPOSE_UPDATED = "purpose.updated"
PURPOSE_ARCHIVED = "purpose.archived"
CONSENT_GRANTED = "consent.granted"
CONSENT_WITHDRAWN = "consent.withdrawn"
CONSENT_RENEWAL_REQUESTED = "consent.renewal_requested"

PROFILE_UPDATED = "profile.updated"
DATA_REQUEST_CREATED = "data_request.created"
DATA_REQUEST_PROCESSING = "data_request.processing"
DATA_REQUEST_COMPLETED = "data_request.completed"
DATA_REQUEST_FAILED = "data_request.failed"
DATA_REQUEST_PART_CONFIRMED = "data_request.part_confirmed"  # an application erased the subject
DATA_REQUEST_PART_DELIVERED = "data_request.part_delivered"  # an application sent its export part
DATA_REQUEST_OVERDUE = "data_request.overdue"  # past its legal due date; administrators told
EXPORT_EXPIRED = "data_request.export_expired"
USER_ERASED = "user.erased"
USER_INACTIVITY_WARNED = "user.inactivity_warned"
ACCOUNT_DELETE_FAILED = "account.delete_failed"
RETENTION_COMPLETED = "retention.completed"

AUDIT_PURGED = "audit.purged"

ALL = frozenset(v for k, v in dict(globals()).items() if k.isupper() and isinstance(v, str))

# What `viewer.activity` shows a user about their own account.
SECURITY_PREFIXES = (
    "login.",
    "passkey.",
    "session.reauthenticat",
    "password.",
    "mfa.",
    "recovery_code",
    "session.created",
    "session.revoked",
    "email.",
    "invitation.accepted",
)
SECURITY = frozenset(a for a in ALL if a.startswith(SECURITY_PREFIXES))
