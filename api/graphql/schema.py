"""The schema, assembled from each domain's Query and Mutation parts, with the limits and
caches every request goes through."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from api.accounts.schema import AccountsMutation, AccountsQuery
from api.audit.schema import AuditQuery
from api.auth.mfa_schema import MfaMutation
from api.auth.schema import AuthMutation, AuthQuery
from api.privacy.schema import PrivacyMutation, PrivacyQuery
from api.graphql.errors import log_unexpected

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 3000


@strawberry.type
class Query(AuthQuery, AccountsQuery, AuditQuery, PrivacyQuery):
    pass


@strawberry.type
class Mutation(AuthMutation, MfaMutation, AccountsMutation, PrivacyMutation):
    pass


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        # Expected errors (auth, validation, limits) are answers, not incidents.
        log_unexpected(errors)


def build_schema(*, production: bool = False) -> Schema:
    """In production introspection is off: the web app ships with the schema it was built against."""
    return Schema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(auto_camel_case=True),
        extensions=[
            ParserCache(maxsize=512),
            ValidationCache(maxsize=512),
            QueryDepthLimiter(max_depth=MAX_DEPTH),
            MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
            MaxTokensLimiter(max_token_count=MAX_TOKENS),
            *([DisableIntrospection()] if production else []),
        ],
    )


schema = build_schema()
