"""Configuration: every knob is an environment variable with a safe local default."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class ConfigurationError(RuntimeError):
    """A setting that must not be used (raised at start-up)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    env: Literal["development", "production"] = "development"
    database_url: str | None = None
    secret_key: str | None = None
    # Older keys, comma-separated, still accepted for decryption while secrets are re-sealed.
    secret_key_fallbacks: Annotated[list[str], NoDecode] = []
    app_url: str = "http://localhost:8000"
    # This API's own public base URL, for download links (default: APP_URL).
    api_url: str | None = None
    export_download_hours: int = 24
    # A download that the client does not read for this long is closed; how many one
    # person may have open at once (per process).
    export_send_timeout_seconds: float = 30
    export_downloads_per_user: int = 2
    smtp_url: str | None = None
    mail_from: str = "Accounts <no-reply@localhost>"
    allowed_origins: Annotated[list[str], NoDecode] = []
    data_dir: Path = Path(".data")
    # Secure cookies are the default everywhere but development over plain http.
    cookie_secure: bool | None = None
    # In development `serve` also runs the background jobs so one command is enough.
    run_worker_in_serve: bool | None = None
    # The reference console at / (default: in development only).
    serve_console: bool | None = None
    db_pool_size: int = 20
    db_max_overflow: int = 10
    # Set to true behind pgbouncer in transaction mode: disables prepared-statement caches.
    db_pgbouncer: bool = False
    log_level: str = "INFO"
    max_body_bytes: int = 1_048_576
    # A client must finish its request headers, and then its body, within these.
    header_timeout_seconds: float = 10
    body_timeout_seconds: float = 30
    # A worker that sends no heartbeat for this long is dead; its jobs are retried.
    worker_heartbeat_seconds: float = 10
    worker_stalled_after_seconds: float = 30
    # Whether a worker (alone or inside `serve`) queues the periodic jobs (purges, audit
    # checkpoints, ...) when they are due. Off only where something else does, or nothing
    # should (tests, whose fresh databases would have them all due at every start).
    scheduled_jobs: bool = True
    # Failed logins (and other password checks) per account and per client IP, per window.
    login_failures_per_account: int = 10
    login_failures_per_ip: int = 50
    login_window_seconds: int = 900
    # Password-reset emails per account per hour (past it, the request is still "ok").
    password_resets_per_hour: int = 3
    # Work that sends email or grows storage, per account (client IP for reset requests):
    # limits no real user meets.
    successful_logins_per_window: int = 20
    password_reset_requests_per_ip_hour: int = 30
    email_changes_per_hour: int = 5
    invitation_resends_per_hour: int = 5
    # Invitation emails one organisation may send per day (adding and resending): so that a
    # trial tenant cannot mail arbitrary addresses without end.
    invitations_per_tenant_day: int = 2000
    exports_per_day: int = 5
    consent_decisions_per_hour: int = 300
    # Self-service sign-up (signUp); off: tenants come from the CLI and the operators only.
    signup_enabled: bool = True
    # The seat licence a tenant starts with after sign-up (a trial); null: unlimited.
    signup_trial_seats: int | None = 5
    signups_per_ip_hour: int = 10
    signups_per_address_day: int = 5
    # How long a closed tenant's contract record is kept (tax law: 7 years in the Netherlands).
    contract_retention_years: int = 7
    # The legal basis recorded for that hold.
    contract_retention_basis: str = (
        "GDPR art. 17(3)(b) and art. 6(1)(c): retention required by law "
        "(statutory retention of invoicing records, Dutch AWR art. 52: 7 years)"
    )
    # After this many days the operators' log keeps no IP address or user agent.
    operator_log_network_days: int = 180
    # Passkeys (WebAuthn): the relying party's id (a registrable domain; default: APP_URL's
    # host), its name, and the origins allowed to use them (default: APP_URL's origin).
    webauthn_rp_id: str | None = None
    webauthn_rp_name: str = "Accounts"
    webauthn_origins: Annotated[list[str], NoDecode] = []
    passkey_challenge_seconds: int = 300
    passkey_options_per_ip_hour: int = 120
    # Sensitive actions need a proof of who is there at most this old (step-up).
    reauth_max_age_minutes: int = 10
    # Operator sessions (the vendor's staff): as users' defaults.
    operator_session_idle_minutes: int = 30
    operator_session_absolute_hours: int = 12
    # Rows one addUsers call may add.
    bulk_add_max_rows: int = 1000
    # Outbound events (api.webhooks). Loopback receivers (and plain http to them) are for
    # development and tests: default on in development only, refused in production.
    webhook_allow_loopback: bool | None = None
    # Seconds to wait before each retry; the attempts are these plus the first (about 3 days).
    webhook_retry_schedule: Annotated[list[int], NoDecode] = [5, 300, 1800, 7200, 18000, 36000, 43200, 57600, 86400]
    webhook_timeout_seconds: float = 10
    # A receiver failing for this long is disabled and its owner emailed.
    webhook_disable_after_hours: int = 72
    # How long finished events, deliveries and attempts are kept.
    webhook_history_days: int = 14
    webhook_concurrency: int = 16
    webhook_endpoints_per_tenant: int = 10
    # A connected application's export part: its size cap, and how long it is waited for.
    export_part_max_bytes: int = 512 * 1024
    export_part_wait_hours: int = 72
    # Run plain queries on cached execution plans (api.graphql.plans); false: graphql-core only.
    graphql_plans: bool = True
    # /metrics is served only to `Authorization: Bearer <METRICS_TOKEN>`; unset, not at all.
    metrics_token: str | None = None
    # Addresses (or networks) of the reverse proxies whose X-Forwarded-For and
    # X-Forwarded-Proto are believed; none by default, so a client cannot forge its address.
    trusted_proxies: Annotated[list[str], NoDecode] = []

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip().rstrip("/") for o in value.split(",") if o.strip()]
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [p.strip() for p in value.split(",") if p.strip()]
        return value

    @field_validator("webauthn_origins", mode="before")
    @classmethod
    def _split_webauthn_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip().rstrip("/") for o in value.split(",") if o.strip()]
        return value

    @field_validator("webhook_retry_schedule", mode="before")
    @classmethod
    def _split_schedule(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(v) for v in value.split(",") if v.strip()]
        return value

    @field_validator("secret_key_fallbacks", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [k.strip() for k in value.split(",") if k.strip()]
        return value

    @field_validator("app_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if self.cookie_secure is None:
            self.cookie_secure = self.env != "development"
        if self.run_worker_in_serve is None:
            self.run_worker_in_serve = self.env == "development"
        if self.serve_console is None:
            self.serve_console = self.env == "development"
        if self.webhook_allow_loopback is None:
            self.webhook_allow_loopback = self.env == "development"
        return self

    @property
    def public_api_url(self) -> str:
        return (self.api_url or self.app_url).rstrip("/")

    @property
    def rp_id(self) -> str:
        return self.webauthn_rp_id or (urlsplit(self.app_url).hostname or "localhost")

    @property
    def rp_origins(self) -> list[str]:
        if self.webauthn_origins:
            return self.webauthn_origins
        parts = urlsplit(self.app_url)
        return [f"{parts.scheme}://{parts.netloc}"]

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    @property
    def session_cookie_name(self) -> str:
        # The __Host- prefix makes browsers insist on Secure, Path=/ and no Domain.
        return "__Host-session" if self.cookie_secure else "session"

    @property
    def cors_origins(self) -> list[str]:
        if self.allowed_origins:
            return self.allowed_origins
        if self.is_development:
            parts = urlsplit(self.app_url)
            return [f"{parts.scheme}://{parts.netloc}"]
        return []

    def check_production_safety(self) -> None:
        """Refuse to start in production with settings that would be unsafe there."""
        if self.env != "production":
            return
        problems = []
        if not self.secret_key or len(self.secret_key) < 32:
            problems.append("SECRET_KEY must be set to at least 32 characters")
        if not self.cookie_secure:
            problems.append("COOKIE_SECURE must not be false")
        if not self.app_url.startswith("https://"):
            problems.append("APP_URL must use https")
        if not self.database_url:
            problems.append("DATABASE_URL must be set (the embedded server is for development)")
        if self.webhook_allow_loopback:
            problems.append("WEBHOOK_ALLOW_LOOPBACK must not be true (webhooks may not reach this host)")
        # Fixed windows: an hour can touch ceil(3600 / window) + 1 of them.
        windows_per_hour = -(-3600 // self.login_window_seconds) + 1
        if self.login_failures_per_account * windows_per_hour > 100:
            problems.append("login limits allow more than 100 failures per account per hour")
        if problems:
            raise ConfigurationError("refusing to start in production: " + "; ".join(problems))

    def effective_secret_key(self) -> bytes:
        """The configured key; in development a random one kept under the data directory,
        so `serve` and a separate `worker` agree on it."""
        if self.secret_key:
            return self.secret_key.encode()
        self.check_production_safety()
        path = self.data_dir / "dev-secret-key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip().encode()

    def secret_keys(self) -> list[bytes]:
        """The current key first, then the fallbacks: encrypt with the first, decrypt with any."""
        return [self.effective_secret_key(), *(k.encode() for k in self.secret_key_fallbacks)]


@lru_cache
def get_settings() -> Settings:
    return Settings()
