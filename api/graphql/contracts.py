"""GraphQL shape of a tenant's contract record (api.accounts.contracts)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from db import models


@strawberry.type(
    name="Contract",
    description="The contracting party of a tenant: who bought the licence, for invoicing. Seen by the OWNER; after closure, by operators while under legal hold.",
)
class ContractType:
    company_name: str
    postal_address: str
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 code.")
    vat_id: str | None
    billing_email: str
    contact_name: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, c: models.TenantContract) -> ContractType:
        return cls(
            company_name=c.company_name,
            postal_address=c.postal_address,
            country=c.country,
            vat_id=c.vat_id,
            billing_email=c.billing_email,
            contact_name=c.contact_name,
            created_at=c.created_at,
            updated_at=c.updated_at,
        )


@strawberry.input(description="The contracting party's details.")
class ContractInput:
    company_name: str
    postal_address: str
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 code, such as NL.")
    billing_email: str
    contact_name: str
    vat_id: str | None = None
