"""The Passkey type (the viewer lists them; api.graphql.passkeys manages them)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from db import models


@strawberry.type(name="Passkey")
class PasskeyType:
    id: strawberry.ID
    name: str
    created_at: datetime
    last_used_at: datetime | None
    aaguid: str = strawberry.field(description="The authenticator's model (AAGUID), as it told.")
    backup_eligible: bool
    backed_up: bool = strawberry.field(description="Synced by the platform (a multi-device passkey).")
    transports: list[str]

    @classmethod
    def of(cls, c: models.WebauthnCredential) -> PasskeyType:
        return cls(
            id=strawberry.ID(str(c.id)),
            name=c.name,
            created_at=c.created_at,
            last_used_at=c.last_used_at,
            aaguid=c.aaguid,
            backup_eligible=c.backup_eligible,
            backed_up=c.backed_up,
            transports=list(c.transports),
        )
