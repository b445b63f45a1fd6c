"""Accounts within a tenant, as its administrators manage them."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api import clock, events
from api.accounts import tenants, tokens, validation
from api.accounts.invitations import issue_invitation
from api.audit import actions
from api.audit import service as audit
from api.errors import BadInput, ErrorCode, Forbidden, UserFailure
from api.i18n import _
from api.pagination import check_first, decode_cursor, encode_cursor
from api.request_meta import Actor
from api.security import sessions, stepup
from api.security.sessions import ACCOUNT_STATUSES, ROLES, UserSnapshot
from api.values import UNSET, Maybe
from api.work import Work
from db.enums import ADMIN_ROLES, AccountStatus, Role, TokenKind
from db.models import User


def _not_found(field: str = "input.id") -> UserFailure:
    return UserFailure.of(ErrorCode.NOT_FOUND, _("No such account."), field)


def parse_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return None


async def visible(db: AsyncSession, actor: Actor, user_id: str, *, lock: bool = False) -> User | None:
    """The account with this id in the actor's tenant; None for any other id, so an id
    from another tenant is indistinguishable from one that does not exist."""
    uid = parse_id(user_id)
    if uid is None:
        return None
    query = select(User).where(col(User.tenant_id) == actor.tenant_id, col(User.id) == uid)
    if lock:
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    return (await db.execute(query)).scalar_one_or_none()


async def _taken(
    db: AsyncSession, tenant_id: uuid.UUID, *, username: str | None = None, email: str | None = None
) -> bool:
    cond = (
        func.lower(col(User.username)) == username.lower()
        if username is not None
        else func.lower(col(User.email)) == (email or "").lower()
    )
    found = await db.execute(select(col(User.id)).where(col(User.tenant_id) == tenant_id, cond).limit(1))
    return found.first() is not None


async def add(
    work: Work,
    *,
    username: str,
    email: str,
    role: Role,
    display_name: str | None,
    locale: str | None = None,
    time_zone: str | None = None,
) -> User:
    """An INVITED account plus its invitation email (in the account's language, else the
    organisation's); fails past the seat limit."""
    actor, db = work.admin(), work.db
    problems = []
    checks: tuple[Callable[[], object], ...] = (
        lambda: validation.username(username),
        lambda: validation.email(email),
        lambda: validation.display_name(display_name),
        lambda: validation.locale(locale, "input.locale"),
        lambda: validation.time_zone(time_zone, "input.timeZone"),
    )
    for check in checks:
        try:
            check()
        except UserFailure as failure:
            problems += failure.problems
    if problems:
        raise UserFailure(*problems)
    username, email = validation.username(username), validation.email(email)
    display_name = validation.display_name(display_name)
    locale, time_zone = validation.locale(locale, "input.locale"), validation.time_zone(time_zone, "input.timeZone")
    if role == Role.OWNER and not actor.is_owner:
        raise Forbidden()
    if role in ADMIN_ROLES:
        await stepup.require_fresh(work)  # who may administer, as a change of role
    await work.attempts.take(work.attempts.limits.invitations_per_tenant, str(actor.tenant_id))

    tenant = await tenants.lock(db, actor.tenant_id)
    if await _taken(db, tenant.id, username=username):
        raise UserFailure.of(ErrorCode.DUPLICATE, _("This username is taken in your organisation."), "input.username")
    if await _taken(db, tenant.id, email=email):
        raise UserFailure.of(
            ErrorCode.DUPLICATE, _("An account with this email exists in your organisation."), "input.email"
        )
    await tenants.ensure_free_seat(db, tenant)

    user = User(
        tenant_id=tenant.id,
        username=username,
        email=email,
        display_name=display_name,
        role=role,
        status=AccountStatus.INVITED,
        locale=locale,
        time_zone=time_zone,
    )
    db.add(user)
    try:
        await db.flush()
    except IntegrityError:
        raise UserFailure.of(
            ErrorCode.DUPLICATE, _("This username or email is taken in your organisation."), "input.username"
        ) from None
    audit.record(
        db,
        tenant_id=tenant.id,
        action=actions.USER_CREATED,
        meta=work.meta,
        actor=actor,
        target_type="user",
        target_id=user.id,
        changes={
            "username": {"changed": True},
            "email": {"changed": True},
            **({"display_name": {"changed": True}} if display_name else {}),
            "role": {"new": role},
            "status": {"new": AccountStatus.INVITED},
        },
    )
    await issue_invitation(work, tenant=tenant, user=user)
    await events.emit(db, events.USER_CREATED, tenant.id, events.user_data(user), user.id)
    return user


async def other_active_owners(db: AsyncSession, user: User) -> int:
    """ACTIVE owners of the user's tenant besides the user: an INVITED owner cannot act
    yet and a DISABLED one cannot act at all, so neither keeps the organisation owned."""
    query = (
        select(func.count())
        .select_from(User)
        .where(
            col(User.tenant_id) == user.tenant_id,
            col(User.role) == Role.OWNER,
            col(User.status) == AccountStatus.ACTIVE,
            col(User.id) != user.id,
        )
    )
    return int((await db.execute(query)).scalar_one())


async def ensure_owned_without(db: AsyncSession, user: User, field: str | None = "input.id") -> None:
    """LAST_OWNER when taking this OWNER away (demoting, disabling, erasing) would leave
    the tenant with no ACTIVE owner. Call with the tenant locked."""
    if user.role == Role.OWNER and await other_active_owners(db, user) == 0:
        raise UserFailure.of(
            ErrorCode.LAST_OWNER, _("The organisation needs at least one active owner; appoint another first."), field
        )


async def update(
    work: Work,
    *,
    user_id: str,
    role: Maybe[Role | None] = UNSET,
    status: Maybe[AccountStatus | None] = UNSET,
    display_name: Maybe[str | None] = UNSET,
) -> User:
    """Change role, status or display name. Only an OWNER touches OWNER accounts or grants
    OWNER; the last OWNER who can act cannot be demoted or disabled; disabling revokes
    every session; re-enabling takes a seat again."""
    actor, db, meta = work.admin(), work.db, work.meta
    if status not in (UNSET, None) and status not in (AccountStatus.ACTIVE, AccountStatus.DISABLED):
        raise UserFailure.of(
            ErrorCode.INVALID_INPUT,
            _("Status can be set to ACTIVE or DISABLED; invitations set INVITED."),
            "input.status",
        )
    new_display = validation.display_name(display_name) if display_name is not UNSET else UNSET

    # Lock order everywhere: tenant, then user. The tenant lock serialises owner and seat counts.
    tenant = await tenants.lock(db, actor.tenant_id)
    user = await visible(db, actor, user_id, lock=True)
    if user is None:
        raise _not_found()
    if (user.role == Role.OWNER or role == Role.OWNER) and not actor.is_owner:
        raise Forbidden()

    new_role = user.role if role in (UNSET, None) else role
    new_status = _new_status(user, status)
    # A change of who may administer: a role, or an administrator disabled or back.
    if new_role != user.role or (new_status != user.status and user.role in ADMIN_ROLES):
        await stepup.require_fresh(work)
    if user.status == AccountStatus.DISABLED and new_status != AccountStatus.DISABLED:
        await tenants.ensure_free_seat(db, tenant)  # back in use (ACTIVE, or INVITED again)

    if (
        user.role == Role.OWNER
        and user.status != AccountStatus.DISABLED
        and (new_role != Role.OWNER or new_status == AccountStatus.DISABLED)
    ):
        await ensure_owned_without(db, user)

    before = {"role": user.role, "status": user.status, "display_name": user.display_name}
    user.role, user.status = new_role, new_status
    if new_display is not UNSET:
        user.display_name = new_display
    user.updated_at = clock.now()
    after = {"role": user.role, "status": user.status, "display_name": user.display_name}

    revoked = 0
    if new_status == AccountStatus.DISABLED and before["status"] != AccountStatus.DISABLED:
        revoked = len(
            await sessions.revoke(
                db, tenant_id=user.tenant_id, user_id=user.id, meta=meta, actor=actor, reason="account_disabled"
            )
        )
        # Links already sent die with the account's access: enabling it again does not
        # revive them (an invited account is sent a new invitation with resendInvitation).
        await tokens.revoke(db, user, *TokenKind)

    def changed(action: str, changes: dict[str, Any]) -> None:
        audit.record(
            db,
            tenant_id=tenant.id,
            action=action,
            meta=meta,
            actor=actor,
            target_type="user",
            target_id=user.id,
            changes=changes,
        )

    if before["role"] != after["role"]:
        changed(actions.USER_ROLE_CHANGED, audit.field_changes({"role": before["role"]}, {"role": after["role"]}))
    if before["status"] != after["status"]:
        changes = audit.field_changes({"status": before["status"]}, {"status": after["status"]})
        if revoked:
            changes["sessions_revoked"] = {"new": revoked}
        changed(actions.USER_STATUS_CHANGED, changes)
    if before["display_name"] != after["display_name"]:
        changed(
            actions.USER_UPDATED,
            audit.field_changes({"display_name": before["display_name"]}, {"display_name": after["display_name"]}),
        )
    await emit_updated(db, user, [key for key in before if before[key] != after[key]])
    if new_status == AccountStatus.DISABLED and before["status"] != AccountStatus.DISABLED:
        await events.emit(db, events.USER_DISABLED, user.tenant_id, {"userId": user.id}, user.id)
    await db.flush()
    return user


async def emit_updated(db: AsyncSession, user: User, fields: list[str]) -> None:
    """`user.updated` with the account as it is now and the names of what changed."""
    if fields:
        names = {"display_name": "displayName", "email_verified": "emailVerified"}
        await events.emit(
            db,
            events.USER_UPDATED,
            user.tenant_id,
            {**events.user_data(user), "changed": [names.get(f, f) for f in fields]},
            user.id,
        )


async def revoke_sessions(work: Work, *, user_id: str) -> int:
    """An administrator ends every session of an account (only an OWNER, an OWNER's)."""
    actor, db = work.admin(), work.db
    user = await visible(db, actor, user_id)
    if user is None:
        raise _not_found("id")
    if user.role == Role.OWNER and not actor.is_owner:
        raise Forbidden()
    revoked = await sessions.revoke(
        db, tenant_id=actor.tenant_id, user_id=user.id, meta=work.meta, actor=actor, reason="revoked_by_admin"
    )
    return len(revoked)


async def resend_invitation(work: Work, *, user_id: str) -> None:
    actor, db = work.admin(), work.db
    await work.attempts.take(work.attempts.limits.invitation_resend, f"{actor.tenant_id}:{parse_id(user_id)}")
    await work.attempts.take(work.attempts.limits.invitations_per_tenant, str(actor.tenant_id))
    tenant = await tenants.get(db, actor.tenant_id)
    user = await visible(db, actor, user_id, lock=True)
    if user is None:
        raise _not_found("id")
    if user.status != AccountStatus.INVITED:
        raise UserFailure.of(
            ErrorCode.INVALID_INPUT, _("Only accounts still waiting for their invitation can get a new one."), "id"
        )
    await issue_invitation(work, tenant=tenant, user=user)


async def update_own_profile(
    work: Work,
    *,
    display_name: Maybe[str | None],
    locale: Maybe[str | None] = UNSET,
    time_zone: Maybe[str | None] = UNSET,
) -> User:
    """Rectification by the user: the display name (email has its own verified flow), and
    the language and time zone the account's texts and dates follow ("" or null: the
    organisation's)."""
    actor, db, meta = work.acting(), work.db, work.meta
    wanted: dict[str, str | None] = {}
    problems = []
    for key, value, check, field in (
        ("display_name", display_name, validation.display_name, "input.displayName"),
        ("locale", locale, validation.locale, "input.locale"),
        ("time_zone", time_zone, validation.time_zone, "input.timeZone"),
    ):
        if value is UNSET:
            continue
        try:
            wanted[key] = check(value, field)
        except UserFailure as failure:
            problems += failure.problems
    if problems:
        raise UserFailure(*problems)
    user = await db.get(
        User, (actor.tenant_id, actor.user_id), with_for_update={"key_share": True}, populate_existing=True
    )
    assert user is not None
    changed = [key for key, value in wanted.items() if getattr(user, key) != value]
    if changed:
        for key in changed:
            setattr(user, key, wanted[key])
        user.updated_at = clock.now()
        # The display name is personal data: the log says it changed; a language is not.
        audit.record(
            db,
            tenant_id=actor.tenant_id,
            action=actions.PROFILE_UPDATED,
            meta=meta,
            actor=actor,
            target_type="user",
            target_id=user.id,
            changes={key: {"changed": True} if key == "display_name" else {"new": wanted[key]} for key in changed},
        )
        if "display_name" in changed:
            await emit_updated(db, user, ["display_name"])
    await db.flush()
    return user


@dataclass(frozen=True)
class UserPage:
    users: list[UserSnapshot]
    cursors: list[str]
    has_next_page: bool
    total_count: int


def _encode_cursor(user: User | UserSnapshot) -> str:
    return encode_cursor(user.username.lower(), str(user.id))


def _decode_cursor(cursor: str) -> tuple[str, uuid.UUID]:
    key, uid = decode_cursor(cursor, "text", "uuid")
    return key, uid


# One statement for a page and the count of all that match: the rows as plain records (no
# ORM), the filters as parameters (null = no filter), so one prepared statement serves
# every list. The page walks the (tenant_id, lower(username)) index; the count is an
# uncorrelated subquery, evaluated once.
_MATCHES = """
  {t}.tenant_id = $1
  AND ($2::text IS NULL OR lower({t}.username) LIKE $2 ESCAPE '\\' OR lower({t}.email) LIKE $2 ESCAPE '\\'
       OR lower({t}.display_name) LIKE $2 ESCAPE '\\')
  AND ($3::text IS NULL OR {t}.role = $3)
  AND ($4::text IS NULL OR {t}.status = $4)
"""
_PAGE_SQL = f"""
SELECT u.tenant_id, u.id, u.username, u.email, u.display_name, u.role, u.status, u.email_verified,
       u.mfa_enabled, u.created_at, u.last_login_at, u.locale, u.time_zone,
       (SELECT count(*) FROM app_user c WHERE {_MATCHES.format(t="c")}) AS total
FROM app_user u
WHERE {_MATCHES.format(t="u")}
  AND ($5::text IS NULL OR (lower(u.username), u.id) > ($5::text, $6::uuid))
ORDER BY lower(u.username), u.id
LIMIT $7
"""
_COUNT_SQL = f"SELECT count(*) AS total FROM app_user c WHERE {_MATCHES.format(t='c')}"


async def list_page(
    work: Work, *, first: int, after: str | None, search: str | None, role: Role | None, status: AccountStatus | None
) -> UserPage:
    """Accounts ordered by username (case-insensitive), keyset-paginated."""
    actor = work.admin()
    check_first(first)
    if search is not None and len(search) > 200:
        raise BadInput(_("`search` has at most 200 characters."))
    pattern = None
    if search and search.strip():
        pattern = "%" + search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    key, uid = _decode_cursor(after) if after else (None, None)
    filters = (actor.tenant_id, pattern, role.value if role else None, status.value if status else None)
    rows = await work.fetch(_PAGE_SQL, *filters, key, uid, first + 1)
    # Past the end, the page has no row to carry the count: it is asked on its own.
    total = rows[0]["total"] if rows else (await work.fetch(_COUNT_SQL, *filters))[0]["total"]
    page = [_snapshot(r) for r in rows[:first]]
    return UserPage(page, [_encode_cursor(u) for u in page], len(rows) > first, int(total))


def _snapshot(r: Mapping[str, Any]) -> UserSnapshot:
    return UserSnapshot(
        r["tenant_id"],
        r["id"],
        r["username"],
        r["email"],
        r["display_name"],
        ROLES[r["role"]],
        ACCOUNT_STATUSES[r["status"]],
        r["email_verified"],
        r["mfa_enabled"],
        r["created_at"],
        r["last_login_at"],
        r["locale"],
        r["time_zone"],
    )


def _new_status(user: User, status: AccountStatus | object | None) -> AccountStatus:
    if status == AccountStatus.DISABLED:
        return AccountStatus.DISABLED
    if status == AccountStatus.ACTIVE and user.status == AccountStatus.DISABLED:
        # An account that never set a password goes back to waiting for its invitation.
        return AccountStatus.ACTIVE if user.password_hash else AccountStatus.INVITED
    return user.status  # ACTIVE on an ACTIVE or INVITED account changes nothing


async def get_visible(work: Work, user_id: str) -> User | None:
    return await visible(work.db, work.admin(), user_id)


__all__ = ["add", "get_visible", "list_page", "resend_invitation", "update", "visible"]
