"""Fulfilling a data subject's request that reached the organisation outside the API:
an administrator records it and it is carried out (an export built, or the erasure done
at once)."""

from __future__ import annotations

from api.accounts import users
from api.errors import ErrorCode, UserFailure
from api.i18n import _
from api.privacy.erasure import erase_as_admin
from api.privacy.requests import start_export
from api.security import stepup
from api.work import Work
from db.enums import DataRequestKind
from db.models import DataRequest


async def create_for_user(work: Work, *, user_id: str, kind: DataRequestKind) -> DataRequest:
    """An export or an erasure of someone else's data: as sensitive as the person's own
    request or removing them (a fresh proof of identity)."""
    admin = work.admin()
    await stepup.require_fresh(work)
    subject = await users.visible(work.db, admin, user_id, lock=True)
    if subject is None:
        raise UserFailure.of(ErrorCode.NOT_FOUND, _("No such account."), "userId")
    if kind == DataRequestKind.EXPORT:
        # Counted once the account is known to be the administrator's to ask for, and
        # apart from the person's own budget, which an administrator must not use up.
        await work.attempts.take(work.attempts.limits.data_export, f"by-admin:{subject.tenant_id}:{subject.id}")
        return await start_export(work, subject=subject, requested_by=admin)
    return await erase_as_admin(work, subject)
