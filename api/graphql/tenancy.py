"""GraphQL surface of a tenant's life: sign-up and its confirmation, the contract record,
closure, and the legal holds operators see. Resolvers convert, call one use case, map back."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import UNSET as GQL_UNSET

from api.accounts import contracts
from api.graphql.accounts import given
from api.graphql.context import Context
from api.graphql.contracts import ContractInput, ContractType
from api.graphql.mutations import ANYONE, OPERATOR, OWNER_OR_OPERATOR, USER, mutation
from api.graphql.types import Connection, Info, Payload
from api.usecases import closure, legal_hold, onboarding, signup
from api.work import Work
from db.enums import TenantState


@strawberry.input
class SignUpInput:
    organisation_name: str
    slug: str = strawberry.field(
        description="The organisation's address (3 to 63 lowercase letters, digits and inner '-'), typed at login."
    )
    username: str = strawberry.field(description="The buyer's own username; they become the organisation's OWNER.")
    email: str
    password: str
    contract: ContractInput


@strawberry.type
class SignUpPayload(Payload):
    ok: bool = strawberry.field(
        default=False,
        description="The request was taken: a confirmation link is on its way to the address (the answer is the same whether or not the organisation address is free).",
    )


@strawberry.input
class ConfirmSignUpInput:
    token: str


@strawberry.type
class ConfirmSignUpPayload(Payload):
    tenant_slug: str | None = None
    username: str | None = None


@strawberry.input
class UpdateContractInput:
    company_name: str | None = GQL_UNSET
    postal_address: str | None = GQL_UNSET
    country: str | None = GQL_UNSET
    vat_id: str | None = strawberry.field(default=GQL_UNSET, description="null removes it.")
    billing_email: str | None = GQL_UNSET
    contact_name: str | None = GQL_UNSET


@strawberry.type
class ContractPayload(Payload):
    contract: ContractType | None = None


@strawberry.input
class CloseTenantInput:
    confirm_slug: str = strawberry.field(description="The organisation's address, typed out.")
    password: str | None = strawberry.field(default=None, description="The closer's password (OWNER or operator).")
    code: str | None = strawberry.field(
        default=None,
        description="The closer's second factor: the OWNER's TOTP or recovery code when enrolled; the operator's TOTP code always.",
    )
    tenant_id: strawberry.ID | None = strawberry.field(
        default=None, description="Operators: the tenant to close. The OWNER closes their own."
    )


@strawberry.type
class CloseTenantPayload(Payload):
    state: TenantState | None = None
    closed_at: datetime | None = None
    retain_until: datetime | None = None
    accounts_erased: int | None = None


@strawberry.input
class CreateTenantInput:
    slug: str
    name: str
    owner_username: str
    owner_email: str
    seat_limit: int | None = strawberry.field(default=None, description="null: unlimited.")
    contract: ContractInput | None = None


@strawberry.type
class CreateTenantPayload(Payload):
    tenant_id: strawberry.ID | None = None
    slug: str | None = None


@strawberry.type(name="LegalHold", description="A closed tenant's contract record under legal hold.")
class LegalHoldType:
    tenant_id: strawberry.ID
    slug: str
    name: str
    closed_at: datetime
    retain_until: datetime
    legal_basis: str
    contract: ContractType | None = strawberry.field(
        description="Null when the tenant had no contract record (made from the command line)."
    )


@strawberry.type
class LegalHoldConnection(Connection[LegalHoldType]):
    pass


def contract_values(c: ContractInput) -> dict[str, str | None]:
    return {
        "company_name": c.company_name,
        "postal_address": c.postal_address,
        "country": c.country,
        "vat_id": c.vat_id,
        "billing_email": c.billing_email,
        "contact_name": c.contact_name,
    }


@strawberry.type
class TenancyQuery:
    @strawberry.field(description="Operators only. Closed tenants under legal hold, the soonest to end first.")
    async def legal_holds(self, info: Info, first: int | None = 50, after: str | None = None) -> LegalHoldConnection:
        page = await info.context.read(
            lambda work: legal_hold.list_page(work, first=50 if first is None else first, after=after)
        )
        nodes = [
            LegalHoldType(
                tenant_id=strawberry.ID(str(h.tenant.id)),
                slug=h.tenant.slug,
                name=h.tenant.name,
                closed_at=h.tenant.closed_at,  # type: ignore[arg-type]  # set on every CLOSED tenant
                retain_until=h.tenant.retain_until,  # type: ignore[arg-type]
                legal_basis=h.legal_basis,
                contract=ContractType.of(h.contract) if h.contract else None,
            )
            for h in page.holds
        ]
        connection = Connection.page(nodes, [h.cursor for h in page.holds], page.has_next_page)
        return LegalHoldConnection(edges=connection.edges, page_info=connection.page_info)


@strawberry.type
class TenancyMutation:
    @mutation(
        SignUpPayload,
        caller=ANYONE,
        description="Buy the product: emails a link that creates the organisation, with the buyer as its OWNER, once confirmed. Nothing is stored before. SIGNUP_DISABLED when sign-up is off.",
    )
    async def sign_up(self, work: Work, input: SignUpInput) -> SignUpPayload:
        c = input.contract
        await signup.sign_up(
            work,
            organisation_name=input.organisation_name,
            slug=input.slug,
            username=input.username,
            email=input.email,
            password=input.password,
            contract=contract_values(c),
        )
        return SignUpPayload(ok=True)

    @mutation(
        ConfirmSignUpPayload,
        caller=ANYONE,
        description="The emailed link's token: creates the organisation (once). The buyer then signs in with the password chosen at sign-up.",
    )
    async def confirm_sign_up(self, work: Work, input: ConfirmSignUpInput) -> ConfirmSignUpPayload:
        confirmed = await signup.confirm(work, token=input.token)
        return ConfirmSignUpPayload(tenant_slug=confirmed.slug, username=confirmed.username)

    @mutation(
        CreateTenantPayload,
        caller=OPERATOR,
        description="Operators: create a tenant (also when sign-up is off); its OWNER is INVITED by email.",
    )
    async def create_tenant(self, work: Work, input: CreateTenantInput) -> CreateTenantPayload:
        work.operating()
        c = input.contract
        created = await onboarding.create_tenant(
            work,
            slug=input.slug,
            name=input.name,
            owner_username=input.owner_username,
            owner_email=input.owner_email,
            seats=input.seat_limit,
            source="operator",
            contract=None if c is None else contract_values(c),
        )
        return CreateTenantPayload(tenant_id=strawberry.ID(str(created.tenant.id)), slug=created.tenant.slug)

    @mutation(
        ContractPayload,
        caller=USER,
        description="OWNER only. Correct the contract record (a tenant without one gets one, then with every required field).",
    )
    async def update_contract(self, work: Work, input: UpdateContractInput) -> ContractPayload:
        record = await contracts.update(
            work,
            company_name=given(input.company_name),
            postal_address=given(input.postal_address),
            country=given(input.country),
            vat_id=given(input.vat_id),
            billing_email=given(input.billing_email),
            contact_name=given(input.contact_name),
        )
        return ContractPayload(contract=ContractType.of(record))

    @mutation(
        CloseTenantPayload,
        caller=OWNER_OR_OPERATOR,
        description="Close the organisation: every account is erased at once, the contract record is kept under legal hold until retainUntil. The OWNER gives password, second factor (when enrolled) and the slug; an operator the tenantId, the slug, their password and a TOTP code.",
    )
    async def close_tenant(self, work: Work, ctx: Context, input: CloseTenantInput) -> CloseTenantPayload:
        if work.operator is not None:
            closed = await closure.close_as_operator(
                work,
                tenant_id=str(input.tenant_id or ""),
                confirm_slug=input.confirm_slug,
                password=input.password or "",
                code=input.code or "",
            )
        else:
            closed = await closure.close_own(
                work,
                password=input.password or "",
                code=input.code,
                confirm_slug=input.confirm_slug,
                tenant_id=None if input.tenant_id is None else str(input.tenant_id),
            )
            ctx.clear_session_cookie()
        return CloseTenantPayload(
            state=closed.tenant.state,
            closed_at=closed.tenant.closed_at,
            retain_until=closed.tenant.retain_until,
            accounts_erased=closed.accounts_erased,
        )


__all__ = ["TenancyMutation", "TenancyQuery"]
