"""The attempt limits this service applies, from settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from api.auth.ratelimit import Limit
from api.settings import Settings


@dataclass(frozen=True)
class Limits:
    login_account: Limit
    login_ip: Limit
    password_reset: Limit
    mfa_session: Limit
    mfa_account: Limit

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        window = timedelta(seconds=settings.login_window_seconds)
        return cls(
            login_account=Limit("login-account", settings.login_failures_per_account, window),
            login_ip=Limit("login-ip", settings.login_failures_per_ip, window),
            password_reset=Limit("pw-reset", settings.password_resets_per_hour, timedelta(hours=1)),
            # A pending session lives five minutes: five tries, then log in again.
            mfa_session=Limit("mfa-session", 5, timedelta(minutes=5)),
            mfa_account=Limit("mfa-account", settings.login_failures_per_account, window),
        )
