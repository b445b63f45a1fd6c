"""GraphQL types every domain shares: the error shape, the payload base, pages and
connections, and the enums the tables define (db.enums), exposed as GraphQL enums."""

from __future__ import annotations

from enum import Enum
from typing import Generic, TypeVar

import strawberry
from strawberry.types import Info as StrawberryInfo

from api import i18n
from api.errors import ErrorCode as DomainErrorCode
from api.errors import Problem
from api.graphql.context import Context
from db import enums

Info = StrawberryInfo[Context, None]
T = TypeVar("T")

# The enums are the ones the tables define (db.enums) and the domain errors; registering
# them here makes them GraphQL enums (strawberry marks the class), so every module
# annotates with the classes themselves.
for _exposed in (
    DomainErrorCode,
    enums.Role,
    enums.AccountStatus,
    enums.ActorType,
    enums.LegalBasis,
    enums.DataRequestKind,
    enums.DataRequestStatus,
    enums.TenantState,
    enums.DeliveryStatus,
    enums.PartStatus,
    enums.ProofMethod,
):
    strawberry.enum(_exposed)

_VALUE_DESCRIPTIONS: dict[type[Enum], dict[str, str]] = {
    enums.Role: {
        "OWNER": "Holds the contract and billing relationship; can manage admins.",
        "ADMIN": "Manages users, purposes, settings, audit log and data requests of the tenant.",
    },
    enums.TenantState: {
        "ACTIVE": "In use.",
        "SUSPENDED": "Nobody can log in and every session has ended; the data is kept.",
        "CLOSED": "Every account is erased; the contract record is under legal hold until the tenant's retainUntil.",
    },
    enums.AccountStatus: {
        "INVITED": "Added by an administrator; has not yet set a password.",
        "DISABLED": "Cannot log in; sessions revoked.",
    },
    enums.DataRequestKind: {
        "EXPORT": "Right of access and portability: a machine-readable copy of all the subject's data.",
        "ERASURE": "Right to erasure.",
    },
}
for _enum, _descriptions in _VALUE_DESCRIPTIONS.items():
    for _value in _enum.__strawberry_definition__.values:  # type: ignore[attr-defined]  # set by strawberry.enum
        _value.description = _descriptions.get(_value.name, _value.description)


@strawberry.type
class UserError:
    field: str | None = strawberry.field(
        description="The input field the error is about, as a path such as `input.password`; null when it is about the whole request."
    )
    message: str
    code: DomainErrorCode
    index: int | None = strawberry.field(
        default=None,
        description="In a bulk operation, the position (from 0) of the input row the error is about; null otherwise.",
    )

    @classmethod
    def from_problem(cls, problem: Problem, locale: str = i18n.DEFAULT_LOCALE) -> UserError:
        message = i18n.translate(problem.message, locale)
        return cls(field=problem.field, message=message, code=problem.code, index=problem.index)


@strawberry.type
class Payload:
    """A mutation's answer: its fields, or the expected failures that stopped it."""

    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class OkPayload(Payload):
    ok: bool = False


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None

    @classmethod
    def of(cls, cursors: list[str], has_next_page: bool) -> PageInfo:
        return cls(has_next_page=has_next_page, end_cursor=cursors[-1] if cursors else None)


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @classmethod
    def page(cls, nodes: list[T], cursors: list[str], has_next_page: bool) -> Connection[T]:
        return cls(
            edges=[Edge(cursor=c, node=n) for n, c in zip(nodes, cursors)],
            page_info=PageInfo.of(cursors, has_next_page),
        )


@strawberry.input
class PasswordInput:
    password: str
    code: str | None = strawberry.field(
        default=None,
        description="A second factor (TOTP or recovery code) where the action needs one, e.g. regenerateRecoveryCodes.",
    )
