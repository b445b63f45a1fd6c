"""The attempt limits this service applies, from settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from api.auth.ratelimit import Limit
from api.settings import Settings


@dataclass(frozen=True)
class Limits:
    # Failed password checks, counted before the check. By (tenant, identifier) in normal
    # form, answered with RATE_LIMITED, the same whether or not the account exists.
    login_identifier: Limit
    # By account, whatever identifier named it: past it the password is not checked and
    # the answer stays INVALID_CREDENTIALS (a visible limit here would tell who exists).
    login_account: Limit
    login_ip: Limit
    # Successful logins per account: sessions are storage (a request of aliased logins
    # with the right password made 91).
    login_success: Limit
    password_reset: Limit
    password_reset_ip: Limit
    mfa_session: Limit
    mfa_account: Limit
    # Work that sends email or grows storage, per account: limits no real user meets.
    email_change: Limit
    invitation_resend: Limit
    data_export: Limit
    consent_decisions: Limit

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        window = timedelta(seconds=settings.login_window_seconds)
        hour, day = timedelta(hours=1), timedelta(days=1)
        return cls(
            login_identifier=Limit("login-id", settings.login_failures_per_account, window),
            login_account=Limit("login-account", settings.login_failures_per_account, window),
            login_ip=Limit("login-ip", settings.login_failures_per_ip, window),
            login_success=Limit("login-ok", 20, window),
            password_reset=Limit("pw-reset", settings.password_resets_per_hour, hour),
            password_reset_ip=Limit("pw-reset-ip", 30, hour),
            # A pending session lives five minutes: five tries, then log in again.
            mfa_session=Limit("mfa-session", 5, timedelta(minutes=5)),
            mfa_account=Limit("mfa-account", settings.login_failures_per_account, window),
            email_change=Limit("email-change", 5, hour),
            invitation_resend=Limit("invite-resend", 5, hour),
            data_export=Limit("export", 5, day),
            consent_decisions=Limit("consents", 300, hour),
        )
