"""Running operations against the strawberry-built schema with graphql-core directly.

Each distinct document is parsed and validated once (a bounded cache keyed by the
query text) with the request limits as validation rules; a request then costs one
cache lookup and graphql-core's execution. strawberry defines the schema, the types
and the resolvers; its per-request extension machinery is not on this path."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    parse,
    specified_rules,
    validate,
)
from graphql import execute as graphql_execute
from graphql.utilities import get_operation_ast
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

from api.graphql.errors import log_unexpected

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 3000
MAX_QUERY_LENGTH = 100_000
CACHE_SIZE = 512


class MutationOverGet(Exception):
    """A mutation sent with GET: refused before it runs."""


class Executor:
    def __init__(self, schema: GraphQLSchema, *, introspection: bool) -> None:
        self.schema = schema
        self.rules = [*specified_rules, depth_rule(MAX_DEPTH, None), max_aliases_rule(MAX_ALIASES)]
        if not introspection:
            self.rules.append(NoSchemaIntrospectionCustomRule)
        self._prepared: OrderedDict[str, tuple[DocumentNode | None, Sequence[GraphQLError]]] = OrderedDict()

    def prepare(self, query: str) -> tuple[DocumentNode | None, Sequence[GraphQLError]]:
        """The parsed document and its validation errors, cached per query text."""
        cached = self._prepared.get(query)
        if cached is not None:
            self._prepared.move_to_end(query)
            return cached
        if len(query) > MAX_QUERY_LENGTH:
            return None, [GraphQLError(f"The document is longer than {MAX_QUERY_LENGTH} characters.")]
        try:
            document = parse(query, max_tokens=MAX_TOKENS, no_location=False)
        except GraphQLError as error:
            prepared: tuple[DocumentNode | None, Sequence[GraphQLError]] = (None, [error])
        else:
            prepared = (document, validate(self.schema, document, self.rules))
        self._prepared[query] = prepared
        if len(self._prepared) > CACHE_SIZE:
            self._prepared.popitem(last=False)
        return prepared

    async def run(
        self, query: str, variables: dict[str, Any] | None, operation_name: str | None, context: Any, *, allow_mutations: bool
    ) -> ExecutionResult:
        document, errors = self.prepare(query)
        if errors or document is None:
            return ExecutionResult(None, list(errors))
        operation: OperationDefinitionNode | None = get_operation_ast(document, operation_name)
        if operation is None:
            return ExecutionResult(None, [GraphQLError("Unknown or ambiguous operation name.")])
        if operation.operation is OperationType.MUTATION and not allow_mutations:
            raise MutationOverGet()
        if operation.name is not None:
            label = operation.name.value
        else:
            first = operation.selection_set.selections[0]
            label = getattr(getattr(first, "name", None), "value", "anonymous")
        context.request.scope.setdefault("state", {})["operation"] = f"{operation.operation.value} {label}"[:80]
        if operation.operation is OperationType.SUBSCRIPTION:
            return ExecutionResult(None, [GraphQLError("Subscriptions are not supported.")])
        result = graphql_execute(
            self.schema, document, context_value=context, variable_values=variables, operation_name=operation_name
        )
        if not isinstance(result, ExecutionResult):
            result = await result
        if result.errors:
            log_unexpected(result.errors)
        return result
