"""Password hashing (argon2id, OWASP parameters, off the event loop) and the password policy."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from api.errors import ErrorCode, Problem, UserFailure
from api.i18n import Msg, _
from api.security import strength

MIN_LENGTH = 8
RECOMMENDED_LENGTH = 15
MAX_LENGTH = 256  # well above the 64 that must be allowed; bounds hashing work per request

# OWASP's first argon2id option: m = 19 MiB, t = 2, p = 1.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)

# A bounded pool of its own, so a storm of logins queues here instead of starving
# the default executor (which the database driver and the rest of the app share).
_pool = ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1), thread_name_prefix="argon2")


# zxcvbn's warnings (its English texts, without their full stop), so that catalogues have them:
# a password's hint is said in the reader's language like any other message.
ZXCVBN_WARNINGS = (
    _("A word by itself is easy to guess"),
    _("Common names and surnames are easy to guess"),
    _("Dates are often easy to guess"),
    _("Names and surnames by themselves are easy to guess"),
    _("Recent years are easy to guess"),
    _('Repeats like "aaa" are easy to guess'),
    _('Repeats like "abcabcabc" are only slightly harder to guess than "abc"'),
    _("Sequences like abc or 6543 are easy to guess"),
    _("Short keyboard patterns are easy to guess"),
    _("Straight rows of keys are easy to guess"),
    _("This is a very common password"),
    _("This is a top-100 common password"),
    _("This is a top-10 common password"),
    _("This is similar to a commonly used password"),
    _("It is too easy to guess"),
)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return HASHER.hash("not the password of anyone at all")


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_pool, HASHER.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Verify in the worker pool; with no hash, verify against a dummy so that an unknown
    account costs the same time as a wrong password."""

    def check() -> bool:
        try:
            HASHER.verify(password_hash or _dummy_hash(), password)  # raises unless it matches
            return password_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.get_running_loop().run_in_executor(_pool, check)


def needs_rehash(password_hash: str) -> bool:
    return HASHER.check_needs_rehash(password_hash)


def length_problem(password: str, field: str) -> Problem | None:
    if len(password) < MIN_LENGTH:
        return Problem(
            ErrorCode.PASSWORD_POLICY,
            _(
                "Use at least %(min)s characters; %(recommended)s or more is recommended.",
                min=MIN_LENGTH,
                recommended=RECOMMENDED_LENGTH,
            ),
            field,
        )
    if len(password) > MAX_LENGTH:
        return Problem(ErrorCode.PASSWORD_POLICY, _("Use at most %(max)s characters.", max=MAX_LENGTH), field)
    if "\x00" in password:
        return Problem(ErrorCode.PASSWORD_POLICY, _("Passwords cannot contain the NUL character."), field)
    return None


def _variants(value: str) -> list[str]:
    value = value.lower()
    parts = [value]
    if "@" in value:
        local, _at, domain = value.partition("@")
        parts += [local, domain.split(".")[0]]
    return parts


async def check_password_policy(password: str, *, user_inputs: list[str], field: str) -> list[Problem]:
    """NIST 800-63B style: length, no composition rules, not common or guessable from
    the account's own details. zxcvbn judges the whole password, with those details as
    its user inputs, at every allowed length (see api.security.strength)."""
    problem = length_problem(password, field)
    if problem is not None:
        return [problem]
    inputs = [part for value in user_inputs if value for part in _variants(value)]
    verdict = await strength.judge(password, inputs)
    if verdict.score < 3:
        hint = verdict.warning or "It is too easy to guess."
        return [
            Problem(
                ErrorCode.PASSWORD_POLICY,
                _(
                    "Choose a less guessable password: %(hint)s. A passphrase of %(recommended)s or more characters works well.",
                    hint=Msg(hint.rstrip(".")),
                    recommended=RECOMMENDED_LENGTH,
                ),
                field,
            )
        ]
    return []


async def hash_new_password(password: str, *, username: str, email: str, tenant_words: list[str], field: str) -> str:
    """The policy, checked against the account's own details, then the hash; PASSWORD_POLICY otherwise."""
    problems = await check_password_policy(password, user_inputs=[username, email, *tenant_words], field=field)
    if problems:
        raise UserFailure(*problems)
    return await hash_password(password)
