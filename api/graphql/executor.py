"""Running operations against the strawberry-built schema with graphql-core directly.

Each distinct document is parsed and validated once (a bounded cache keyed by the
query text) with the request limits as validation rules; a request then costs one
cache lookup and the execution: a plan (api.graphql.plans) for a query made of plain
fields, graphql-core for everything else. strawberry defines the
schema, the types and the resolvers; its per-request extension machinery is not on
this path."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
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
from api.graphql.plans import NeedsGraphQLCore, Plan, compile_plan, execute_plan

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 3000
MAX_QUERY_LENGTH = 100_000
CACHE_SIZE = 512


class MutationOverGet(Exception):
    """A mutation sent with GET: refused before it runs."""


@dataclass
class Prepared:
    document: DocumentNode | None
    errors: Sequence[GraphQLError]
    plans: dict[str | None, Plan | None] = field(default_factory=dict)  # by operation name; None: graphql-core


class Executor:
    def __init__(self, schema: GraphQLSchema, *, introspection: bool) -> None:
        self.schema = schema
        self.rules = [*specified_rules, depth_rule(MAX_DEPTH, None), max_aliases_rule(MAX_ALIASES)]
        if not introspection:
            self.rules.append(NoSchemaIntrospectionCustomRule)
        self._prepared: OrderedDict[str, Prepared] = OrderedDict()

    def prepare(self, query: str) -> Prepared:
        """The parsed document and its validation errors, cached per query text."""
        cached = self._prepared.get(query)
        if cached is not None:
            self._prepared.move_to_end(query)
            return cached
        if len(query) > MAX_QUERY_LENGTH:
            return Prepared(None, [GraphQLError(f"The document is longer than {MAX_QUERY_LENGTH} characters.")])
        try:
            document = parse(query, max_tokens=MAX_TOKENS, no_location=False)
        except GraphQLError as error:
            prepared = Prepared(None, [error])
        else:
            prepared = Prepared(document, validate(self.schema, document, self.rules))
        self._prepared[query] = prepared
        if len(self._prepared) > CACHE_SIZE:
            self._prepared.popitem(last=False)
        return prepared

    async def run(
        self, query: str, variables: dict[str, Any] | None, operation_name: str | None, context: Any, *, allow_mutations: bool
    ) -> ExecutionResult:
        prepared = self.prepare(query)
        document = prepared.document
        if prepared.errors or document is None:
            return ExecutionResult(None, list(prepared.errors))
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
        if operation_name in prepared.plans:
            plan = prepared.plans[operation_name]
        else:
            plan = prepared.plans[operation_name] = compile_plan(self.schema, document, operation)
        result: ExecutionResult | None = None
        if plan is not None:
            try:
                outcome = execute_plan(self.schema, plan, context, variables)
                result = outcome if isinstance(outcome, ExecutionResult) else await outcome
            except NeedsGraphQLCore:
                prepared.plans[operation_name] = None  # a resolver tracks async work: from now on graphql-core
        if result is None:
            executed = graphql_execute(
                self.schema, document, context_value=context, variable_values=variables, operation_name=operation_name
            )
            result = executed if isinstance(executed, ExecutionResult) else await executed
        if result.errors:
            log_unexpected(result.errors)
        return result
