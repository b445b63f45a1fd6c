"""Single-use emailed tokens (invitation, password reset, email verification): issued as
random values kept only as hashes, taken under a row lock so that of two concurrent
uses exactly one finds the token live."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api import clock
from api.crypto import hash_token, new_token
from api.errors import ErrorCode, UserFailure
from db.enums import AccountStatus, TenantState, TokenKind
from db.models import AccountToken, Tenant, User


async def issue(
    db: AsyncSession, user: User, kind: TokenKind, valid: timedelta, data: dict[str, Any] | None = None
) -> str:
    """A new token of this kind for the user, replacing any earlier one; returns the token."""
    await db.execute(
        delete(AccountToken).where(
            col(AccountToken.tenant_id) == user.tenant_id,
            col(AccountToken.user_id) == user.id,
            col(AccountToken.kind) == kind,
        )
    )
    token, token_hash = new_token()
    db.add(
        AccountToken(
            tenant_id=user.tenant_id,
            user_id=user.id,
            kind=kind,
            token_hash=token_hash,
            expires_at=clock.now() + valid,
            data=data,
        )
    )
    return token


async def issue_new(db: AsyncSession, accounts: list[User], kind: TokenKind, valid: timedelta) -> list[str]:
    """One token of this kind for each new account (which has none yet), in one statement."""
    expires = clock.now() + valid
    issued = [new_token() for _ in accounts]
    if accounts:
        await db.execute(
            insert(AccountToken),
            [
                {"tenant_id": u.tenant_id, "user_id": u.id, "kind": kind, "token_hash": h, "expires_at": expires}
                for u, (_, h) in zip(accounts, issued)
            ],
        )
    return [token for token, _ in issued]


async def revoke(db: AsyncSession, user: User, *kinds: TokenKind) -> None:
    """End the user's outstanding tokens of these kinds (a changed password or address
    makes links sent for the old one worthless)."""
    await db.execute(
        delete(AccountToken).where(
            col(AccountToken.tenant_id) == user.tenant_id,
            col(AccountToken.user_id) == user.id,
            col(AccountToken.kind).in_(kinds),
        )
    )


async def take(
    db: AsyncSession, token: str, kind: TokenKind, *, account_status: AccountStatus, field: str, message: str
) -> tuple[AccountToken, User, Tenant]:
    """The live token (locked, marked used), its user and tenant; INVALID_TOKEN when the
    token is unknown, used, expired, its tenant is not ACTIVE, or its account is not in
    `account_status`. The caller's transaction decides: a rollback leaves the token usable."""
    invalid = UserFailure.of(ErrorCode.INVALID_TOKEN, message, field)
    if not token or len(token) > 128:
        raise invalid
    row = (
        await db.execute(
            select(AccountToken, User, Tenant)
            .join(
                User, (col(User.tenant_id) == col(AccountToken.tenant_id)) & (col(User.id) == col(AccountToken.user_id))
            )
            .join(Tenant, col(Tenant.id) == col(AccountToken.tenant_id))
            .where(
                col(AccountToken.token_hash) == hash_token(token),
                col(AccountToken.kind) == kind,
                col(AccountToken.used_at).is_(None),
                col(AccountToken.expires_at) > clock.now(),
                # A suspended or closed organisation's links do nothing (kept for reactivation).
                col(Tenant.state) == TenantState.ACTIVE,
            )
            # The account too: a concurrent change of its status (disabling) is waited for
            # and then seen, never overwritten with what was read before it.
            .with_for_update(of=[AccountToken, User], key_share=True)
            .execution_options(populate_existing=True)
        )
    ).first()
    if row is None or row.User.status != account_status:
        raise invalid
    row.AccountToken.used_at = clock.now()
    return row.AccountToken, row.User, row.Tenant
