"""Running operations against the strawberry-built schema with graphql-core directly.

Each distinct document is parsed and validated once (a bounded cache keyed by the
query text) with the request limits as validation rules; a request then costs one
cache lookup and the execution: a plan (api.graphql.plans) for a query made of plain
fields, graphql-core for everything else. strawberry defines the
schema, the types and the resolvers; its per-request extension machinery is not on
this path."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    TokenKind,
    parse,
    specified_rules,
    validate,
)
from graphql import execute as graphql_execute
from graphql.utilities import get_operation_ast
from graphql.validation import NoSchemaIntrospectionCustomRule

from api.graphql import limits
from api.graphql.errors import log_unexpected
from api.graphql.plans import NeedsGraphQLCore, Plan, compile_plan, execute_plan

log = logging.getLogger("api.graphql")

MAX_TOKENS = 3000
MAX_QUERY_LENGTH = 100_000
# The cache of parsed and validated documents is bounded by (estimated) bytes: a parsed
# document keeps every token with its location, about 730 bytes each (measured), so
# 3 000 tokens cost some 2 MB.
CACHE_BYTES = 32 * 1024 * 1024
BYTES_PER_TOKEN = 800


def operation_label(operation: OperationDefinitionNode) -> str:
    """What metrics and logs call an operation: its type and first root field, both
    known to the schema (the document is valid by now), never the client-chosen
    operation name or alias, so the set of labels is bounded by the schema."""
    first = operation.selection_set.selections[0]
    field = first.name.value if isinstance(first, FieldNode) else "fragment"
    return f"{operation.operation.value} {field}"


class MutationOverGet(Exception):
    """A mutation sent with GET: refused before it runs."""


@dataclass
class Prepared:
    document: DocumentNode | None
    errors: Sequence[GraphQLError]
    plans: dict[str | None, Plan | None] = field(default_factory=dict)  # by operation name; None: graphql-core
    size: int = 0  # estimated bytes held


NUL_MESSAGE = "Strings cannot contain the NUL character (U+0000)."


def _scan_tokens(document: DocumentNode) -> tuple[int, bool]:
    """The number of tokens (for the cache's size estimate) and whether a string literal
    holds a NUL, which no text column can store. The lexer's tokens are a linked list."""
    tokens, nul = 0, False
    token = document.loc.start_token if document.loc is not None else None
    while token is not None:
        tokens += 1
        nul = nul or (token.kind in (TokenKind.STRING, TokenKind.BLOCK_STRING) and "\x00" in (token.value or ""))
        token = token.next
    return tokens, nul


# Variables nested deeper than this are refused before anything reads them: no input
# of this API comes close (a passkey credential is 4 levels, an export part a document a
# receiver may nest, but not a thousand times), and code that walks a value recursively
# (JSON encoders, libraries) must never meet the interpreter's recursion limit.
MAX_VARIABLE_DEPTH = 64
DEPTH_MESSAGE = f"Variables are nested more than {MAX_VARIABLE_DEPTH} levels deep."


def variables_problem(value: Any) -> str | None:
    """Why the variables cannot be run, if they cannot: a NUL in any string (or key),
    which no text column can store, or nesting past MAX_VARIABLE_DEPTH. Iterative, so as
    deep as the JSON parser allowed."""
    # (value, how many lists and objects hold it): the variables' own object holds none.
    stack: list[tuple[Any, int]] = [(value, -1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return NUL_MESSAGE
        elif isinstance(item, dict | list):
            if depth >= MAX_VARIABLE_DEPTH:
                return DEPTH_MESSAGE
            if isinstance(item, dict):
                stack.extend((key, depth) for key in item)
                stack.extend((child, depth + 1) for child in item.values())
            else:
                stack.extend((child, depth + 1) for child in item)
    return None


class Executor:
    def __init__(self, schema: GraphQLSchema, *, introspection: bool, plans: bool = True) -> None:
        self.schema = schema
        # Execution plans rely on internals of strawberry and graphql-core (bounded to the
        # versions tested in pyproject.toml). GRAPHQL_PLANS=false turns them off; any plan
        # that cannot be compiled or run falls back to graphql-core, logged once.
        self.plans = plans
        self._plan_failures_logged: set[str] = set()
        self.rules = list(specified_rules)
        if not introspection:
            self.rules.append(NoSchemaIntrospectionCustomRule)
        self._prepared: OrderedDict[str, Prepared] = OrderedDict()
        self._cached_bytes = 0

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
            tokens, nul = _scan_tokens(document)
            # The limits first (one linear pass): graphql-core's rules run only on what they admit.
            errors = limits.check(document) or validate(self.schema, document, self.rules)
            if nul:
                errors = [*errors, GraphQLError(NUL_MESSAGE)]
            prepared = Prepared(document, errors, size=2 * len(query) + BYTES_PER_TOKEN * tokens)
        prepared.size = prepared.size or 2 * len(query)
        self._remember(query, prepared)
        return prepared

    def _compile(self, document: DocumentNode, operation: OperationDefinitionNode) -> Plan | None:
        if not self.plans:
            return None
        try:
            return compile_plan(self.schema, document, operation)
        except Exception as error:  # noqa: BLE001 - e.g. a strawberry or graphql-core internal that moved
            self._log_plan_failure("compile", error)
            return None

    def _log_plan_failure(self, stage: str, error: Exception) -> None:
        """Once per process and stage: the fallback keeps answering, the log says why."""
        if stage not in self._plan_failures_logged:
            self._plan_failures_logged.add(stage)
            log.error("execution plans failed to %s; running on graphql-core instead", stage, exc_info=error)

    def _remember(self, query: str, prepared: Prepared) -> None:
        if prepared.size > CACHE_BYTES // 8:
            return
        self._prepared[query] = prepared
        self._cached_bytes += prepared.size
        while self._cached_bytes > CACHE_BYTES:
            _, evicted = self._prepared.popitem(last=False)
            self._cached_bytes -= evicted.size

    @property
    def cached_bytes(self) -> int:
        return self._cached_bytes

    async def run(
        self,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        context: Any,
        *,
        allow_mutations: bool,
    ) -> ExecutionResult:
        prepared = self.prepare(query)
        document = prepared.document
        if prepared.errors or document is None:
            return ExecutionResult(None, list(prepared.errors))
        problem = variables_problem(variables) if variables else None
        if problem is not None:
            return ExecutionResult(None, [GraphQLError(problem)])
        operation: OperationDefinitionNode | None = get_operation_ast(document, operation_name)
        if operation is None:
            return ExecutionResult(None, [GraphQLError("Unknown or ambiguous operation name.")])
        if operation.operation is OperationType.MUTATION and not allow_mutations:
            raise MutationOverGet()
        context.request.scope.setdefault("state", {})["operation"] = operation_label(operation)
        if operation.operation is OperationType.SUBSCRIPTION:
            return ExecutionResult(None, [GraphQLError("Subscriptions are not supported.")])
        if operation_name in prepared.plans:
            plan = prepared.plans[operation_name]
        else:
            plan = prepared.plans[operation_name] = self._compile(document, operation)
        result: ExecutionResult | None = None
        if plan is not None:
            try:
                outcome = execute_plan(self.schema, plan, context, variables)
                result = outcome if isinstance(outcome, ExecutionResult) else await outcome
            except NeedsGraphQLCore:
                prepared.plans[operation_name] = None  # a resolver tracks async work: from now on graphql-core
            except Exception as error:  # noqa: BLE001 - the plan itself broke (resolver errors become field errors)
                self._log_plan_failure("run", error)
                prepared.plans[operation_name] = None
        if result is None:
            executed = graphql_execute(
                self.schema, document, context_value=context, variable_values=variables, operation_name=operation_name
            )
            result = executed if isinstance(executed, ExecutionResult) else await executed
        if result.errors:
            log_unexpected(result.errors)
        return result
