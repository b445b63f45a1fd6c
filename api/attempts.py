"""Attempts, and what must stand of them whatever the unit of work does.

Two kinds of writes outlive a rolled-back mutation: the counters that limit attempts
(of fifty concurrent password guesses exactly the limit are checked, so each is counted
*before* the check and the count must stand), and the audit events of failed attempts (a
wrong password leaves no other trace). Both go through this one mechanism, each in a
short transaction of its own on its own connection: counters at once, failure events
when the unit of work has ended (`audit.record_failure` collects them on the Work; the unit of work
calls `record`), so that they never wait on the unit of work's own audit-chain lock."""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import clock
from api.errors import RateLimited
from api.settings import Settings

StandingWrite = Callable[[AsyncSession], Awaitable[None]]


@dataclass(frozen=True)
class Limit:
    name: str
    limit: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class Step:
    """One counter step of a batch (see `Attempts.steps`): `take` counts and stops the
    batch with RATE_LIMITED past the limit; `within` counts and reports, silently;
    `give_back` uncounts one attempt that turned out legitimate; `clear` resets."""

    op: str
    limit: Limit
    subject: str
    cost: int = 1

    @classmethod
    def take(cls, limit: Limit, subject: str, cost: int = 1) -> Step:
        return cls("take", limit, subject, cost)

    @classmethod
    def within(cls, limit: Limit, subject: str) -> Step:
        return cls("within", limit, subject)

    @classmethod
    def give_back(cls, limit: Limit, subject: str) -> Step:
        return cls("give_back", limit, subject)

    @classmethod
    def clear(cls, limit: Limit, subject: str) -> Step:
        return cls("clear", limit, subject)


@dataclass(frozen=True)
class Limits:
    """The attempt limits this service applies, from settings."""

    # Failed password checks, counted before the check. By (tenant, identifier) in normal
    # form, answered with RATE_LIMITED, the same whether or not the account exists.
    login_identifier: Limit
    # By account, whatever identifier named it: past it the password is not checked and
    # the answer stays INVALID_CREDENTIALS (a visible limit here would tell who exists).
    login_account: Limit
    login_ip: Limit
    # Successful logins per account: sessions are storage.
    login_success: Limit
    password_reset: Limit
    password_reset_ip: Limit
    mfa_session: Limit
    mfa_account: Limit
    # Work that sends email or grows storage, per account: limits no real user meets.
    email_change: Limit
    invitation_resend: Limit
    invitations_per_tenant: Limit
    data_export: Limit
    consent_decisions: Limit
    # Sign-up: per client IP (answered RATE_LIMITED), per address (silent: no more mail).
    signup_ip: Limit
    signup_address: Limit
    # Passkey ceremonies started, per client IP.
    passkey_options: Limit

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        window = timedelta(seconds=settings.login_window_seconds)
        hour, day = timedelta(hours=1), timedelta(days=1)
        return cls(
            login_identifier=Limit("login-id", settings.login_failures_per_account, window),
            login_account=Limit("login-account", settings.login_failures_per_account, window),
            login_ip=Limit("login-ip", settings.login_failures_per_ip, window),
            login_success=Limit("login-ok", settings.successful_logins_per_window, window),
            password_reset=Limit("pw-reset", settings.password_resets_per_hour, hour),
            password_reset_ip=Limit("pw-reset-ip", settings.password_reset_requests_per_ip_hour, hour),
            # A pending session lives five minutes: five tries, then log in again.
            mfa_session=Limit("mfa-session", 5, timedelta(minutes=5)),
            mfa_account=Limit("mfa-account", settings.login_failures_per_account, window),
            email_change=Limit("email-change", settings.email_changes_per_hour, hour),
            invitation_resend=Limit("invite-resend", settings.invitation_resends_per_hour, hour),
            invitations_per_tenant=Limit("invites-tenant", settings.invitations_per_tenant_day, day),
            data_export=Limit("export", settings.exports_per_day, day),
            consent_decisions=Limit("consents", settings.consent_decisions_per_hour, hour),
            signup_ip=Limit("signup-ip", settings.signups_per_ip_hour, hour),
            signup_address=Limit("signup-address", settings.signups_per_address_day, day),
            passkey_options=Limit("passkey-options", settings.passkey_options_per_ip_hour, hour),
        )


# In the driver's own parameter style ($n): run on a bare asyncpg connection, or through
# SQLAlchemy's asyncpg driver (exec_driver_sql) where there is no bare pool. One statement
# for any batch of counter steps (migration 0014): applied in order, in one transaction
# committed without waiting for the WAL, stopping at the first attempt past its limit.
# Every argument is a text array (the one array type asyncpg knows without asking the
# server for it on each new connection), cast in the statement.
_STEPS = (
    "SELECT stopped, window_start, array_to_string(within, '') AS within FROM rate_limit_steps("
    "$1::text[], $2::text[], $3::text[]::interval[], $4::text[]::int[], $5::text[]::int[], $6)"
)
_PURGE = text("DELETE FROM rate_limit_counter WHERE window_start < :before RETURNING 1")


class Attempts:
    """Counters in PostgreSQL, shared by every process; keys are HMACs of what is
    limited (account, identifier, client IP), so the table holds no personal data.

    Counting happens while a unit of work holds a connection of the engine's pool; with
    `pool` (the application's bare asyncpg pool) the counter's own statement never waits
    for a second connection of that same pool, which a burst of concurrent attempts would
    exhaust."""

    def __init__(
        self, secret: bytes, limits: Limits, sessionmaker: async_sessionmaker[Any], pool: asyncpg.Pool | None = None
    ) -> None:
        self._secret = hashlib.sha256(b"rate-limit:" + secret).digest()
        self.limits = limits
        self._sessionmaker = sessionmaker
        self._pool = pool

    async def _counter(self, sql: str, *args: Any) -> Any:
        """One autocommitted statement on its own connection; the first row it returns."""
        if self._pool is not None:
            return await self._pool.fetchrow(sql, *args)
        async with self._sessionmaker.begin() as db:
            return (await (await db.connection()).exec_driver_sql(sql, args)).first()

    def key(self, limit: Limit, subject: str) -> str:
        digest = hmac.new(
            self._secret, f"{limit.name}:{subject}".encode("utf-8", "surrogatepass"), hashlib.sha256
        ).hexdigest()
        return f"{limit.name[:15]}:{digest[:60]}"

    async def steps(self, *steps: Step) -> list[bool]:
        """Applies the steps in order in one statement (one round trip, one transaction),
        and answers each `within` step's verdict. A `take` past its limit raises
        RATE_LIMITED (its count stands) and the steps after it are not applied.

        A batch holds its counters' locks until it ends: batches that share counters
        must name them in the same order (the login's: client IP, identifier, account)."""
        now = clock.now()
        row = await self._counter(_STEPS, *self.step_arguments(steps), now)
        stopped, window_start, within = row[0], row[1], row[2]
        if stopped:
            raise RateLimited(
                retry_after=_seconds_left(window_start, steps[stopped - 1].limit.window, now),
                limit=steps[stopped - 1].limit.name,
            )
        return [verdict == "t" for verdict in within]

    def step_arguments(self, steps: Sequence[Step]) -> tuple[list[str], ...]:
        """`_STEPS`'s arrays, but its last parameter (the time)."""
        return (
            [s.op for s in steps],
            [self.key(s.limit, s.subject) for s in steps],
            [f"{s.limit.window.total_seconds()} seconds" for s in steps],
            [str(s.cost) for s in steps],
            [str(s.limit.limit) for s in steps],
        )

    async def take(self, limit: Limit, subject: str, cost: int = 1) -> None:
        """Count one attempt (or `cost` units); RATE_LIMITED (with the seconds until the
        window ends) past the limit. The count stands whatever happens next."""
        await self.steps(Step.take(limit, subject, cost))

    async def within(self, limit: Limit, subject: str) -> bool:
        """Count one attempt; False past the limit instead of raising (a silent limit)."""
        [verdict] = await self.steps(Step.within(limit, subject))
        return verdict

    async def give_back(self, limit: Limit, subject: str) -> None:
        """An attempt that turned out legitimate (a success) is not a failure."""
        await self.steps(Step.give_back(limit, subject))

    async def clear(self, limit: Limit, subject: str) -> None:
        await self.steps(Step.clear(limit, subject))

    async def record(self, standing: Sequence[StandingWrite]) -> None:
        """Writes that must stand (failure audit events, a spent pending session), after
        their unit of work has ended, in one transaction of their own."""
        if standing:
            async with self._sessionmaker.begin() as db:
                for write in standing:
                    await write(db)


async def purge_counters(db: AsyncSession, older_than: timedelta) -> int:
    return len((await db.execute(_PURGE, {"before": clock.now() - older_than})).all())


def _seconds_left(window_start: datetime, window: timedelta, now: datetime) -> int:
    # A concurrent attempt whose clock read came later may have opened the window after
    # this request's `now`: the wait is never longer than the window itself.
    left = math.ceil((window_start + window - now).total_seconds())
    return min(max(1, left), math.ceil(window.total_seconds()))
