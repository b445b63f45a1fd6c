"""Proving again, inside a session, that the person is who the session says: the
password re-check before sensitive changes."""

from __future__ import annotations

from api.audit import service as audit
from api.errors import ErrorCode, UserFailure
from api.i18n import _
from api.security import passwords
from api.work import Work
from db.models import User


async def confirm_password(work: Work, user: User, password: str, *, field: str, failed_action: str) -> None:
    """Counts against the account's login budget (before the check, so guesses are
    bounded); a wrong password is audited as `failed_action` and stands when the unit
    of work rolls back; a right one gives back only its own attempt."""
    budget = work.attempts.limits.login_account
    await work.attempts.take(budget, str(user.id))
    if not await passwords.verify_password(user.password_hash, password[: passwords.MAX_LENGTH * 4]):
        audit.record_failure(
            work,
            tenant_id=user.tenant_id,
            action=failed_action,
            actor_id=user.id,
            target_type="user",
            target_id=user.id,
        )
        raise UserFailure.of(ErrorCode.INVALID_CREDENTIALS, _("The password is not right."), field)
    await work.attempts.give_back(budget, str(user.id))
