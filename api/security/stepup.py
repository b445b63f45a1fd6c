"""Step-up: sensitive actions need a proof of who is there that is fresh (at most
REAUTH_MAX_AGE_MINUTES old) and strong enough (multi-factor when the account has a second
factor). Otherwise REAUTH_REQUIRED, saying how old a proof may be and which ways to give
one this account has; `reauthenticate` (api.auth.reauthentication) gives a new one."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from api import clock
from api.errors import ReauthRequired
from api.request_meta import Actor
from api.work import Work
from db.enums import ProofMethod

MULTI_FACTOR = frozenset({ProofMethod.PASSWORD_TOTP, ProofMethod.PASSWORD_PASSKEY, ProofMethod.PASSKEY})


async def methods_for(work: Work, actor: Actor) -> list[str]:
    """What `reauthenticate` takes from this account: the password (with a code when it
    has TOTP; alone when it has no second factor at all) and, when it has one, a passkey."""
    found = await work.db.execute(
        text(
            "SELECT EXISTS (SELECT 1 FROM user_totp WHERE tenant_id = :t AND user_id = :u AND confirmed_at IS NOT NULL),"
            " EXISTS (SELECT 1 FROM webauthn_credential WHERE tenant_id = :t AND user_id = :u)"
        ),
        {"t": actor.tenant_id, "u": actor.user_id},
    )
    has_totp, has_passkey = found.one()
    methods = []
    if has_totp:
        methods.append("PASSWORD_AND_SECOND_FACTOR")
    elif not actor.has_second_factor:
        methods.append("PASSWORD")
    if has_passkey:
        methods.append("PASSKEY")
    return methods


def is_fresh(actor: Actor, max_age: timedelta) -> bool:
    if actor.proof_at is None or actor.proof_method is None:
        return False
    if clock.now() - actor.proof_at > max_age:
        return False
    return not actor.has_second_factor or actor.proof_method in MULTI_FACTOR


async def require_fresh(work: Work, actor: Actor | None = None) -> None:
    """REAUTH_REQUIRED unless the acting session proved who is there recently and strongly
    enough. Services call it first thing in a sensitive action."""
    actor = actor or work.acting()
    max_age = timedelta(minutes=work.settings.reauth_max_age_minutes)
    if not is_fresh(actor, max_age):
        raise ReauthRequired(int(max_age.total_seconds()), await methods_for(work, actor))
