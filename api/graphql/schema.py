"""The schema, assembled from each domain's Query and Mutation parts. Request limits,
caching and execution are in executor.py."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from api.graphql.accounts import AccountsMutation, AccountsQuery
from api.graphql.audit import AuditQuery
from api.graphql.auth import AuthMutation, AuthQuery
from api.graphql.mfa import MfaMutation
from api.graphql.operators import OperatorsMutation, OperatorsQuery
from api.graphql.passkeys import PasskeysMutation
from api.graphql.privacy import PrivacyMutation, PrivacyQuery
from api.graphql.tenancy import TenancyMutation, TenancyQuery
from api.graphql.webhooks import WebhooksMutation, WebhooksQuery


@strawberry.type
class Query(AuthQuery, AccountsQuery, AuditQuery, PrivacyQuery, OperatorsQuery, TenancyQuery, WebhooksQuery):
    pass


@strawberry.type
class Mutation(
    AuthMutation,
    MfaMutation,
    PasskeysMutation,
    AccountsMutation,
    PrivacyMutation,
    OperatorsMutation,
    TenancyMutation,
    WebhooksMutation,
):
    pass


schema = strawberry.Schema(query=Query, mutation=Mutation, config=StrawberryConfig(auto_camel_case=True))
