"""Execution plans: a lean executor for queries whose every resolver is synchronous.

graphql-core's executor collects fields, builds a resolve-info object per field, checks
every value for awaitables and keeps incremental-delivery books: about 300 Python calls
for `{ viewer { user { id username } } }`, most of that request's cost. For a cached
document that uses only plain fields (no fragments, directives, variables, abstract
types or introspection beyond `__typename`) and only synchronous resolvers, the field
collection is done once, when the document is first run, and each request walks the
plan: the resolver, the value completion, nothing else.

Anything else runs on graphql-core, which stays the reference: a query that meets an
awaitable at run time (only possible from a resolver declared synchronous) is re-run
there, and the tests run the same documents on both and compare the responses. Only
queries take this path; a query's resolvers read, so running one again is harmless."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    Undefined,
    default_field_resolver,
    located_error,
)
from graphql.execution.values import VariableValues, get_argument_values
from graphql.pyutils import Path, is_awaitable, is_iterable
from graphql.pyutils import inspect as inspect_value
from graphql.type.definition import GraphQLResolveInfoHelpers, is_leaf_type, is_object_type

STRAWBERRY_FIELD = "strawberry-definition"  # where strawberry keeps its field on a GraphQLField

_LEAF, _OBJECT, _LIST, _NON_NULL, _TYPENAME = range(5)


class NeedsGraphQLCore(Exception):
    """The plan met something only graphql-core handles; the caller runs it there."""


@dataclass(frozen=True, slots=True)
class Shape:
    """How to complete a value of one output type."""

    kind: int
    of: Shape | None = None  # the item type of a list, the inner type of a non-null
    leaf: GraphQLLeafType | None = None
    object_type: GraphQLObjectType | None = None
    fields: tuple[FieldPlan, ...] = ()


@dataclass(frozen=True, slots=True)
class FieldPlan:
    key: str  # the response key: the alias or the field name
    name: str
    parent: GraphQLObjectType
    nodes: list[FieldNode]
    field: GraphQLField | None  # None for __typename
    resolve: Callable[..., Any]
    takes_info: bool  # False for strawberry's plain attribute fields, which ignore it
    args: dict[str, Any]  # literal arguments, coerced once
    shape: Shape
    non_null: bool


@dataclass(frozen=True, slots=True)
class Plan:
    operation: OperationDefinitionNode
    fragments: dict[str, Any]
    root_type: GraphQLObjectType
    fields: tuple[FieldPlan, ...]


def compile_plan(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode) -> Plan | None:
    """A plan for this query, or None when graphql-core must run it."""
    if operation.operation is not OperationType.QUERY or operation.variable_definitions or operation.directives:
        return None
    root = schema.query_type
    if root is None:
        return None
    try:
        fields = _plan_selections(schema, root, operation.selection_set.selections)
    except _Unsupported:
        return None
    return Plan(operation=operation, fragments={}, root_type=root, fields=fields)


class _Unsupported(Exception):
    pass


def _plan_selections(schema: GraphQLSchema, parent: GraphQLObjectType, selections: Iterable[Any]) -> tuple[FieldPlan, ...]:
    plans: list[FieldPlan] = []
    keys: set[str] = set()
    for node in selections:
        if not isinstance(node, FieldNode) or node.directives:
            raise _Unsupported()  # fragments and @skip/@include: graphql-core merges them
        key = node.alias.value if node.alias else node.name.value
        if key in keys:
            raise _Unsupported()  # the same key twice: graphql-core merges the selections
        keys.add(key)
        plans.append(_plan_field(schema, parent, node, key))
    return tuple(plans)


def _plan_field(schema: GraphQLSchema, parent: GraphQLObjectType, node: FieldNode, key: str) -> FieldPlan:
    name = node.name.value
    if name == "__typename":
        return FieldPlan(key, name, parent, [node], None, _typename, False, {}, Shape(_TYPENAME), True)
    field = parent.fields.get(name)
    if field is None:  # __schema, __type: introspection stays with graphql-core
        raise _Unsupported()
    resolve = field.resolve or default_field_resolver
    if inspect.iscoroutinefunction(resolve):
        raise _Unsupported()
    strawberry_field = (field.extensions or {}).get(STRAWBERRY_FIELD)
    args = get_argument_values(field, node, VariableValues({}, {})) if field.args or node.arguments else {}
    takes_info = True
    if strawberry_field is not None and strawberry_field.is_basic_field:
        # What strawberry's wrapper does for a field without resolver, without the wrapper.
        takes_info, resolve = False, _attribute(strawberry_field.default_resolver, strawberry_field.python_name)
    elif strawberry_field is not None and not args:
        resolve = _direct(schema, strawberry_field) or resolve
    shape = _shape(schema, field.type, node)
    return FieldPlan(key, name, parent, [node], field, resolve, takes_info, args, shape, shape.kind == _NON_NULL)


def _attribute(default_resolver: Callable[[Any, str], Any], name: str) -> Callable[[Any, Any], Any]:
    def attribute(source: Any, info: Any) -> Any:
        return default_resolver(source, name)

    return attribute


def _direct(schema: GraphQLSchema, field: Any) -> Callable[..., Any] | None:
    """For a synchronous strawberry resolver without arguments, extensions or exception
    handlers: the call strawberry's wrapper makes (the source as self, root or parent;
    an Info), without its argument conversion and extension chain."""
    strawberry_schema = getattr(schema, "_strawberry_schema", None)
    resolver = field.base_resolver
    if strawberry_schema is None or resolver is None or field.arguments or field.extensions or field.is_async:
        return None
    if strawberry_schema.schema_converter.exception_handlers:
        return None
    info_class, call = strawberry_schema.config.info_class, resolver.wrapped_func
    passes_self = resolver.self_parameter is not None
    source_names = [p.name for p in (resolver.root_parameter, resolver.parent_parameter) if p is not None]
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None

    def direct(source: Any, info: GraphQLResolveInfo) -> Any:
        kwargs = {name: source for name in source_names}
        if info_name is not None:
            kwargs[info_name] = info_class(_raw_info=info, _field=field)
        return call(source, **kwargs) if passes_self else call(**kwargs)

    return direct


def _shape(schema: GraphQLSchema, type_: GraphQLOutputType, node: FieldNode) -> Shape:
    if isinstance(type_, GraphQLNonNull):
        return Shape(_NON_NULL, of=_shape(schema, type_.of_type, node))
    if isinstance(type_, GraphQLList):
        return Shape(_LIST, of=_shape(schema, type_.of_type, node))
    if is_leaf_type(type_):
        if node.selection_set is not None:
            raise _Unsupported()
        return Shape(_LEAF, leaf=type_)  # type: ignore[arg-type]
    if is_object_type(type_) and node.selection_set is not None and type_.is_type_of is None:  # type: ignore[union-attr]
        fields = _plan_selections(schema, type_, node.selection_set.selections)  # type: ignore[arg-type]
        return Shape(_OBJECT, object_type=type_, fields=fields)  # type: ignore[arg-type]
    raise _Unsupported()  # interfaces and unions: graphql-core resolves the runtime type


def _typename(source: Any, info: Any) -> Any:  # never called: __typename completes from the plan
    raise AssertionError


def execute_plan(schema: GraphQLSchema, plan: Plan, context: Any, root_value: Any = None) -> ExecutionResult:
    """Runs the plan; raises NeedsGraphQLCore when a resolver returns an awaitable."""
    run = _Run(schema, plan, context, root_value)
    try:
        data = run.fields(plan.fields, root_value, None)
    except GraphQLError as error:  # a non-null root field failed
        run.errors.append(error)
        data = None
    return ExecutionResult(data, run.errors or None)


class _Run:
    __slots__ = ("schema", "plan", "context", "root_value", "errors", "helpers")

    def __init__(self, schema: GraphQLSchema, plan: Plan, context: Any, root_value: Any) -> None:
        self.schema = schema
        self.plan = plan
        self.context = context
        self.root_value = root_value
        self.errors: list[GraphQLError] = []
        self.helpers = GraphQLResolveInfoHelpers(gather=_needs_core, track=_needs_core)

    def fields(self, plans: tuple[FieldPlan, ...], source: Any, path: Path | None) -> dict[str, Any]:
        return {f.key: self.field(f, source, Path(path, f.key, f.parent.name)) for f in plans}

    def field(self, f: FieldPlan, source: Any, path: Path) -> Any:
        try:
            if f.shape.kind == _TYPENAME:
                return f.parent.name
            if f.takes_info:
                value = f.resolve(source, self.info(f, path), **f.args)
            else:
                value = f.resolve(source, None)
            if is_awaitable(value):
                _give_up(value)
            return self.complete(f, f.shape, value, path)
        except NeedsGraphQLCore:
            raise
        except Exception as raw:
            error = located_error(raw, f.nodes, path.as_list())
            if f.non_null:
                raise error from None
            self.errors.append(error)
            return None

    def complete(self, f: FieldPlan, shape: Shape, value: Any, path: Path) -> Any:
        if isinstance(value, Exception):
            raise value
        if shape.kind == _NON_NULL:
            completed = self.complete(f, shape.of, value, path)  # type: ignore[arg-type]
            if completed is None:
                raise TypeError(f"Cannot return null for non-nullable field {f.parent.name}.{f.name}.")
            return completed
        if value is None or value is Undefined:
            return None
        if shape.kind == _LEAF:
            coerced = shape.leaf.coerce_output_value(value)  # type: ignore[union-attr]
            if coerced is None or coerced is Undefined:
                raise TypeError(f"Expected `{shape.leaf}.coerce_output_value({inspect_value(value)})` to return non-nullable value.")
            return coerced
        if shape.kind == _OBJECT:
            return self.fields(shape.fields, value, path)
        return self.complete_list(f, shape, value, path)

    def complete_list(self, f: FieldPlan, shape: Shape, value: Any, path: Path) -> list[Any]:
        if not is_iterable(value):
            raise GraphQLError(f"Expected Iterable, but did not find one for field '{f.parent.name}.{f.name}'.")
        item_shape: Shape = shape.of  # type: ignore[assignment]
        items = []
        for index, item in enumerate(value):
            item_path = path.add_key(index, None)
            if is_awaitable(item):
                _give_up(item)
            try:
                items.append(self.complete(f, item_shape, item, item_path))
            except NeedsGraphQLCore:
                raise
            except Exception as raw:
                error = located_error(raw, f.nodes, item_path.as_list())
                if item_shape.kind == _NON_NULL:
                    raise error from None
                self.errors.append(error)
                items.append(None)
        return items

    def info(self, f: FieldPlan, path: Path) -> GraphQLResolveInfo:
        return GraphQLResolveInfo(
            f.name, f.nodes, f.field.type, f.parent, path, self.schema, self.plan.fragments,  # type: ignore[union-attr]
            self.root_value, self.plan.operation, VariableValues({}, {}), self.context, is_awaitable, None, self.helpers,
        )


def _needs_core(*args: Any) -> Any:
    raise NeedsGraphQLCore()


def _give_up(awaitable: Any) -> None:
    if inspect.iscoroutine(awaitable):
        awaitable.close()  # never awaited: no warning, no work
    raise NeedsGraphQLCore()
