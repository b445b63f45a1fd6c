"""Adding many accounts at once (a CSV file in the console): all or nothing against the
seat licence, every row's problems reported with its index, one invitation each, in a
number of SQL statements that does not depend on how many rows there are."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from api import clock, events
from api.accounts import tenants, validation
from api.accounts.invitations import invite_new
from api.audit import actions
from api.audit import service as audit
from api.errors import ErrorCode, Forbidden, Problem, UserFailure
from api.i18n import _, ngettext
from api.security import stepup
from api.work import Work
from db.enums import ADMIN_ROLES, AccountStatus, Role
from db.models import User

# Past this many problems the rest are summed up in one: the answer stays bounded.
MAX_PROBLEMS = 500


@dataclass(frozen=True)
class NewAccount:
    username: str
    email: str
    role: Role = Role.MEMBER
    display_name: str | None = None
    locale: str | None = None
    time_zone: str | None = None


@dataclass(frozen=True)
class _Clean:
    username: str
    email: str
    role: Role
    display_name: str | None
    locale: str | None = None
    time_zone: str | None = None


def _check_rows(rows: Sequence[NewAccount]) -> tuple[list[_Clean | None], list[Problem]]:
    """Each row normalised (None where it has a problem), and the problems: format, and
    the same username or address twice in the file."""
    problems: list[Problem] = []
    clean: list[_Clean | None] = []
    first_with: dict[tuple[str, str], int] = {}
    for index, row in enumerate(rows):
        path = f"input.users.{index}"
        values: dict[str, str | None] = {}
        row_problems: list[Problem] = []
        for key, check, value, field in (
            ("username", validation.username, row.username, f"{path}.username"),
            ("email", validation.email, row.email, f"{path}.email"),
            ("display_name", validation.display_name, row.display_name, f"{path}.displayName"),
            ("locale", validation.locale, row.locale, f"{path}.locale"),
            ("time_zone", validation.time_zone, row.time_zone, f"{path}.timeZone"),
        ):
            try:
                values[key] = check(value, field)  # type: ignore[arg-type]  # display_name takes None too
            except UserFailure as failure:
                row_problems += [Problem(p.code, p.message, p.field, index) for p in failure.problems]
        for key, field in (("username", "username"), ("email", "email")):
            value = values.get(key)
            if isinstance(value, str):
                earlier = first_with.setdefault((key, value.lower()), index)
                if earlier != index:
                    row_problems.append(
                        Problem(
                            ErrorCode.DUPLICATE,
                            (
                                _("Row %(row)s has this username too.", row=earlier + 1)
                                if key == "username"
                                else _("Row %(row)s has this email address too.", row=earlier + 1)
                            ),
                            f"{path}.{field}",
                            index,
                        )
                    )
        problems += row_problems
        clean.append(
            None
            if row_problems
            else _Clean(
                str(values["username"]),
                str(values["email"]),
                row.role,
                values["display_name"],
                values["locale"],
                values["time_zone"],
            )
        )
    return clean, problems


async def add_many(work: Work, rows: Sequence[NewAccount]) -> list[User]:
    actor, db, settings = work.admin(), work.db, work.settings
    if not rows:
        raise UserFailure.of(ErrorCode.INVALID_INPUT, _("Give at least one account."), "input.users")
    if any(row.role == Role.OWNER for row in rows) and not actor.is_owner:
        raise Forbidden()
    if any(row.role in ADMIN_ROLES for row in rows):
        await stepup.require_fresh(work)  # who may administer, as a change of role
    clean: list[_Clean | None] = []
    if len(rows) > settings.bulk_add_max_rows:
        # Rows past the limit are not looked at (the work stays bounded); the licence is.
        clean, problems = (
            [],
            [
                Problem(
                    ErrorCode.INVALID_INPUT,
                    _(
                        "At most %(max)s accounts can be added in one call; this has %(count)s.",
                        max=settings.bulk_add_max_rows,
                        count=len(rows),
                    ),
                    "input.users",
                )
            ],
        )
    else:
        clean, problems = _check_rows(rows)

    tenant = await tenants.lock(db, actor.tenant_id)
    names = [c.username.lower() for c in clean if c]
    addresses = [c.email.lower() for c in clean if c]
    taken = (
        []
        if not names
        else (
            await db.execute(
                select(func.lower(col(User.username)), func.lower(col(User.email))).where(
                    col(User.tenant_id) == tenant.id,
                    or_(func.lower(col(User.username)).in_(names), func.lower(col(User.email)).in_(addresses)),
                )
            )
        ).all()
    )
    taken_names = {row[0] for row in taken}
    taken_addresses = {row[1] for row in taken}
    for index, row in enumerate(clean):
        if row is None:
            continue
        if row.username.lower() in taken_names:
            problems.append(
                Problem(
                    ErrorCode.DUPLICATE,
                    _("This username is taken in your organisation."),
                    f"input.users.{index}.username",
                    index,
                )
            )
        if row.email.lower() in taken_addresses:
            problems.append(
                Problem(
                    ErrorCode.DUPLICATE,
                    _("An account with this email exists in your organisation."),
                    f"input.users.{index}.email",
                    index,
                )
            )
    if tenant.seat_limit is not None:
        free = max(tenant.seat_limit - await tenants.seats_used(db, tenant.id), 0)
        if len(rows) > free:
            problems.insert(
                0,
                Problem(
                    ErrorCode.SEAT_LIMIT_REACHED,
                    ngettext(
                        "%(n)s account needs a free seat; %(free)s of the %(limit)s are free.",
                        "%(n)s accounts need %(n)s free seats; %(free)s of the %(limit)s are free.",
                        len(rows),
                        free=free,
                        limit=tenant.seat_limit,
                    ),
                    "input.users",
                ),
            )
    if problems:
        problems.sort(key=lambda p: (p.index is not None, p.index or 0))
        if len(problems) > MAX_PROBLEMS:
            more = len(problems) - MAX_PROBLEMS + 1
            problems = [
                *problems[: MAX_PROBLEMS - 1],
                Problem(
                    ErrorCode.INVALID_INPUT,
                    ngettext("%(n)s more problem; fix these first.", "%(n)s more problems; fix these first.", more),
                    "input.users",
                ),
            ]
        raise UserFailure(*problems)
    await work.attempts.take(work.attempts.limits.invitations_per_tenant, str(actor.tenant_id), cost=len(rows))

    now = clock.now()
    accounts = [
        User(
            tenant_id=tenant.id,
            username=c.username,
            email=c.email,
            display_name=c.display_name,
            role=c.role,
            status=AccountStatus.INVITED,
            locale=c.locale,
            time_zone=c.time_zone,
            created_at=now,
            updated_at=now,
        )
        for c in clean
        if c is not None
    ]
    columns = (
        "tenant_id",
        "id",
        "username",
        "email",
        "display_name",
        "role",
        "status",
        "locale",
        "time_zone",
        "created_at",
        "updated_at",
    )
    try:
        await db.execute(insert(User), [{name: getattr(u, name) for name in columns} for u in accounts])
    except IntegrityError:  # only if something added one without the tenant lock
        raise UserFailure.of(
            ErrorCode.DUPLICATE, _("A username or email address is taken in your organisation."), "input.users"
        ) from None
    for user in accounts:
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
                **({"display_name": {"changed": True}} if user.display_name else {}),
                "role": {"new": user.role},
                "status": {"new": AccountStatus.INVITED},
                "bulk": {"new": True},
            },
        )
    # One multi-row INSERT now (SQLAlchemy's insertmanyvalues pages hold 1,000 rows).
    await audit.write_recorded(db)
    await invite_new(work, tenant=tenant, accounts=accounts)
    await events.emit_many(
        db, [events.Event(events.USER_CREATED, tenant.id, events.user_data(u), u.id) for u in accounts]
    )
    return accounts
