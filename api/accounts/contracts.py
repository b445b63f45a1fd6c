"""The tenant's contract record: who bought the licence, for invoicing. The OWNER sees
and corrects it; it goes into the OWNER's export; changes are audited by field name only
(every value in it may identify a person). After closure it is kept under legal hold."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields

from babel import Locale
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock, text
from api.accounts import validation
from api.audit import actions
from api.audit import service as audit
from api.errors import ErrorCode, Forbidden, Problem, UserFailure
from api.i18n import _
from api.values import UNSET, Maybe
from api.work import Work
from db.models import TenantContract

# ISO 3166-1 alpha-2 codes, from CLDR (Babel), without its groupings and private codes.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})
COUNTRIES = frozenset(
    c for c in map(str, Locale("en").territories) if len(c) == 2 and c.isalpha() and c not in _NOT_COUNTRIES
)
# A VAT identification number as written on invoices: a two-letter prefix and 2 to 13
# letters or digits (EU VIES formats and most others); spaces, dots and dashes dropped.
VAT_RE = re.compile(r"^[A-Z]{2}[A-Z0-9+*]{2,13}$")


@dataclass(frozen=True)
class ContractDetails:
    company_name: str
    postal_address: str
    country: str
    vat_id: str | None
    billing_email: str
    contact_name: str


def _country(value: str, field: str) -> str:
    code = value.strip().upper()
    if code not in COUNTRIES:
        raise UserFailure.of(
            ErrorCode.INVALID_INPUT, _("The country is a two-letter ISO 3166 code, such as NL."), field
        )
    return code


def _vat_id(value: str | None, field: str) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > 40:
        raise UserFailure.of(ErrorCode.INVALID_INPUT, _("A VAT number has at most 15 letters and digits."), field)
    compact = re.sub(r"[\s.\-]", "", value).upper()
    if not VAT_RE.fullmatch(compact):
        raise UserFailure.of(
            ErrorCode.INVALID_INPUT,
            _("A VAT number starts with its two-letter country prefix, then 2 to 13 letters or digits."),
            field,
        )
    return compact


RULES: dict[str, Callable[[str, str], str | None]] = {
    "company_name": lambda v, f: text.clean(v, field=f, what=_("Company names"), max_length=200),
    "postal_address": lambda v, f: text.clean(v, field=f, what=_("Postal addresses"), max_length=500, multiline=True),
    "country": _country,
    "vat_id": _vat_id,
    "billing_email": lambda v, f: validation.email(v, f),
    "contact_name": lambda v, f: text.clean(v, field=f, what=_("Contact names"), max_length=100),
}
GRAPHQL_NAMES = {
    "company_name": "companyName",
    "postal_address": "postalAddress",
    "country": "country",
    "vat_id": "vatId",
    "billing_email": "billingEmail",
    "contact_name": "contactName",
}


def validate(values: dict[str, str | None], prefix: str) -> dict[str, str | None]:
    """Each given field normalised; every problem at once (field paths under `prefix`)."""
    clean: dict[str, str | None] = {}
    problems: list[Problem] = []
    for key, value in values.items():
        field = f"{prefix}.{GRAPHQL_NAMES[key]}"
        if value is None and key != "vat_id":
            problems.append(Problem(ErrorCode.INVALID_INPUT, _("This field is required."), field))
            continue
        try:
            clean[key] = RULES[key](value or "", field) if key != "vat_id" else _vat_id(value, field)
        except UserFailure as failure:
            problems += failure.problems
    if problems:
        raise UserFailure(*problems)
    return clean


def details(**values: str | None) -> ContractDetails:
    """Validated details of a new contract record (every field but vatId required)."""
    clean = validate({f.name: values.get(f.name) for f in fields(ContractDetails)}, "input.contract")
    return ContractDetails(**clean)  # type: ignore[arg-type]


def new_record(tenant_id: uuid.UUID, contract: ContractDetails) -> TenantContract:
    now = clock.now()
    return TenantContract(tenant_id=tenant_id, created_at=now, updated_at=now, **contract.__dict__)


async def get(db: AsyncSession, tenant_id: uuid.UUID) -> TenantContract | None:
    return await db.get(TenantContract, tenant_id)


async def own(work: Work) -> TenantContract | None:
    """The contract record of the OWNER's tenant (FORBIDDEN for anyone else)."""
    actor = work.acting()
    if not actor.is_owner:
        raise Forbidden()
    return await get(work.db, actor.tenant_id)


async def update(work: Work, **changes: Maybe[str | None]) -> TenantContract:
    """The OWNER corrects the record; a tenant without one (made by the CLI) gets one, then
    with every required field given."""
    actor, db = work.acting(), work.db
    if not actor.is_owner:
        raise Forbidden()
    given = {key: value for key, value in changes.items() if value is not UNSET}
    # An explicit null leaves a required field as it is; it clears the VAT number.
    given = {key: value for key, value in given.items() if value is not None or key == "vat_id"}
    record = await db.get(TenantContract, actor.tenant_id, with_for_update=True, populate_existing=True)
    if record is None:
        missing = [f.name for f in fields(ContractDetails) if f.name not in given and f.name != "vat_id"]
        if missing:
            raise UserFailure(
                *(
                    Problem(ErrorCode.INVALID_INPUT, _("This field is required."), f"input.{GRAPHQL_NAMES[m]}")
                    for m in missing
                )
            )
    clean = validate(given, "input")
    if record is None:
        record = new_record(actor.tenant_id, ContractDetails(**{"vat_id": None, **clean}))  # type: ignore[arg-type]
        db.add(record)
        action, before = actions.CONTRACT_CREATED, {}
    else:
        action = actions.CONTRACT_UPDATED
        before = {key: getattr(record, key) for key in clean}
        for key, value in clean.items():
            setattr(record, key, value)
        record.updated_at = clock.now()
    # Every value may name a person (a sole trader's company, a contact): field names only.
    changed = {key: {"changed": True} for key, value in clean.items() if before.get(key) != value}
    if changed or action == actions.CONTRACT_CREATED:
        audit.record(
            db,
            tenant_id=actor.tenant_id,
            action=action,
            meta=work.meta,
            actor=actor,
            target_type="tenant",
            target_id=actor.tenant_id,
            changes=changed,
        )
    await db.flush()
    return record
