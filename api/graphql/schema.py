"""The schema, assembled from each domain's Query and Mutation parts. Request limits,
caching and execution are in executor.py."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from api.accounts.schema import AccountsMutation, AccountsQuery
from api.audit.schema import AuditQuery
from api.auth.mfa_schema import MfaMutation
from api.auth.schema import AuthMutation, AuthQuery
from api.privacy.schema import PrivacyMutation, PrivacyQuery


@strawberry.type
class Query(AuthQuery, AccountsQuery, AuditQuery, PrivacyQuery):
    pass


@strawberry.type
class Mutation(AuthMutation, MfaMutation, AccountsMutation, PrivacyMutation):
    pass


schema = strawberry.Schema(query=Query, mutation=Mutation, config=StrawberryConfig(auto_camel_case=True))
