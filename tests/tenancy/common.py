"""Shared set-up for the tenant-life tests: sign-up input, operators made directly in the
database (their own login is tested in tests/operators), and the tenancy operations."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from api import clock
from api.operators import accounts as operator_accounts
from api.operators import sessions as operator_sessions
from tests.helpers import PASSWORD, Api, Browser, code

SIGN_UP = """
mutation($input: SignUpInput!) { signUp(input: $input) { ok errors { field code message } } }
"""
CONFIRM_SIGN_UP = """
mutation($t: String!) { confirmSignUp(input: {token: $t}) { tenantSlug username errors { field code message } } }
"""
CONTRACT = (
    "{ viewer { tenant { state contract { companyName postalAddress country vatId billingEmail contactName } } } }"
)
CLOSE = """
mutation($input: CloseTenantInput!) {
  closeTenant(input: $input) { state closedAt retainUntil accountsErased errors { field code message } } }
"""
LEGAL_HOLDS = """
{ legalHolds { edges { node { tenantId slug name closedAt retainUntil legalBasis
  contract { companyName billingEmail contactName vatId } } } pageInfo { hasNextPage } } }
"""

BUYER_EMAIL = "bea.buyer-7391@initech.example"


def sign_up_input(slug: str = "initech", email: str = BUYER_EMAIL, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "organisationName": "Initech B.V.",
        "slug": slug,
        "username": "bea-buyer",
        "email": email,
        "password": PASSWORD,
        "contract": {
            "companyName": "Initech B.V.",
            "postalAddress": "Keizersgracht 1\n1015 CC Amsterdam",
            "country": "nl",
            "vatId": "NL 8191.13.456 B01",
            "billingEmail": "invoices-7391@initech.example",
            "contactName": "Bea Buyer-Vos",
        },
    }
    return {**base, **changes}


async def signed_up(api: Api, slug: str = "initech", email: str = BUYER_EMAIL) -> str:
    """Sign up; the confirmation token from the email."""
    (await api.browser().gql(SIGN_UP, {"input": sign_up_input(slug, email)})).ok("signUp")
    return await api.queued_token(email)


async def operator_browser(api: Api, username: str = "olga") -> tuple[Browser, str]:
    """A signed-in operator (made as `create-operator` makes one, signed in directly: their
    login is tested in tests/operators). `operator_code(api, username)` gives a code."""
    async with api.unit() as work:
        factor = await operator_accounts.create(
            work, username=username, email=f"{username}@vendor.example", password=PASSWORD
        )
        token, _ = operator_sessions.start(work.db, api.settings, factor.operator, work.meta)
        operator_id = factor.operator.id
    _SECRETS[username] = factor.secret
    browser = api.browser()
    browser.http.cookies.set(api.settings.session_cookie_name, token)
    return browser, str(operator_id)


_SECRETS: dict[str, str] = {}


def operator_code(username: str = "olga") -> str:
    """A current TOTP code of an operator made by operator_browser (each once: the clock
    moves a step on)."""
    clock.advance(timedelta(seconds=30))
    return code(_SECRETS[username])


def new_id() -> str:
    return str(uuid.uuid4())
