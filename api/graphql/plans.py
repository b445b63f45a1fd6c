"""Execution plans: a lean executor for the queries the web app sends.

graphql-core's executor collects the fields of every selection, builds a resolve-info
object per field and keeps incremental-delivery books on each request: about 300
Python calls for `{ viewer { user { id username } } }`, most of that request's cost,
and ~15 µs per field of a users page. For a cached query document that uses only
plain fields (no fragments, directives, abstract types or introspection beyond
`__typename`; variables are fine), the field collection is done once, when the
document is first run, and each request walks the plan: the variables, the resolver,
the value completion, and only for fields that wait, the gathering of coroutines.
Below a resolver, values made only of plain attributes (a page of rows: objects, lists
and leaves whose fields have no resolver) are completed by one tight recursive pass
that builds no paths and no resolve-info; anything unusual there (a null in a non-null
position, something to await, a value a scalar refuses) sends that value back through
the general completion, which locates the error as graphql-core does.

The semantics are graphql-core's, which stays the reference: siblings and list items
that wait run concurrently (DataLoaders batch as before), errors are located and
nulled the same way, and the tests run the same documents on both and compare the
responses. Mutations, and everything a plan does not cover, run on graphql-core."""

from __future__ import annotations

import asyncio
import operator
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from types import CoroutineType
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLString,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    Undefined,
    ValueNode,
    VariableNode,
    default_field_resolver,
    located_error,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.pyutils import Path, gather_with_cancel, is_awaitable, is_iterable
from graphql.pyutils import inspect as inspect_value
from graphql.type.definition import GraphQLResolveInfoHelpers, is_leaf_type, is_object_type

STRAWBERRY_FIELD = "strawberry-definition"  # where strawberry keeps its field on a GraphQLField

_LEAF, _OBJECT, _LIST, _NON_NULL = range(4)


class NeedsGraphQLCore(Exception):
    """The plan met something only graphql-core handles; the caller runs it there."""


@dataclass(frozen=True, slots=True)
class Shape:
    """How to complete a value of one output type."""

    kind: int
    of: Shape | None = None  # the item type of a list, the inner type of a non-null
    leaf: GraphQLLeafType | None = None
    fields: tuple[FieldPlan, ...] = ()  # of an object
    # For the fast completion (None: this shape needs the general one): an object's
    # (key, attribute getter, shape) triples; a leaf's output conversion, and the one
    # class of value the scalar returns unchanged.
    plain: tuple[tuple[str, Callable[[Any], Any], Shape], ...] | None = None
    convert: Callable[[Any], Any] | None = None
    same: type | None = None


@dataclass(frozen=True, slots=True)
class FieldPlan:
    key: str  # the response key: the alias or the field name
    name: str
    parent: GraphQLObjectType
    nodes: list[FieldNode]
    field: GraphQLField | None  # None for __typename
    resolve: Callable[..., Any]
    takes_info: bool  # False for strawberry's plain attribute fields, which ignore it
    args: dict[str, Any] | None  # literal arguments, coerced once; None: they use variables
    shape: Shape
    non_null: bool
    getter: Callable[[Any], Any] | None = None  # a plain attribute read, for the fast completion


@dataclass(frozen=True, slots=True)
class Plan:
    operation: OperationDefinitionNode
    fields: tuple[FieldPlan, ...]


def compile_plan(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode) -> Plan | None:
    """A plan for this query, or None when graphql-core must run it."""
    if operation.operation is not OperationType.QUERY or operation.directives:
        return None
    root = schema.query_type
    if root is None:
        return None
    try:
        fields = _plan_selections(schema, root, operation.selection_set.selections)
    except _Unsupported:
        return None
    return Plan(operation=operation, fields=fields)


class _Unsupported(Exception):
    pass


def _plan_selections(
    schema: GraphQLSchema, parent: GraphQLObjectType, selections: Iterable[Any]
) -> tuple[FieldPlan, ...]:
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
        typename = Shape(_NON_NULL, of=Shape(_LEAF, leaf=GraphQLString))
        return FieldPlan(key, name, parent, [node], None, _constant(parent.name), False, {}, typename, True)
    field = parent.fields.get(name)
    if field is None:  # __schema, __type: introspection stays with graphql-core
        raise _Unsupported()
    resolve = field.resolve or default_field_resolver
    strawberry_field = (field.extensions or {}).get(STRAWBERRY_FIELD)
    args: dict[str, Any] | None = {}
    if any(_uses_variables(argument.value) for argument in node.arguments or ()):
        args = None  # coerced per request, from that request's variables
    elif field.args or node.arguments:
        try:
            args = get_argument_values(field, node, _NO_VARIABLES)
        except GraphQLError:
            raise _Unsupported() from None  # let graphql-core report it, as for any request
    takes_info = True
    getter: Callable[[Any], Any] | None = None
    if strawberry_field is not None and strawberry_field.is_basic_field:
        # What strawberry's wrapper does for a field without resolver, without the wrapper.
        takes_info, resolve = False, _attribute(strawberry_field.default_resolver, strawberry_field.python_name)
        getter = _getter(strawberry_field.default_resolver, strawberry_field.python_name)
    elif strawberry_field is not None and not field.args:
        resolve = _direct(schema, strawberry_field) or resolve
    shape = _shape(schema, field.type, node)
    return FieldPlan(
        key, name, parent, [node], field, resolve, takes_info, args, shape, shape.kind == _NON_NULL, getter
    )


def _uses_variables(value: ValueNode) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(_uses_variables(item) for item in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_uses_variables(field.value) for field in value.fields)
    return False


def _constant(value: Any) -> Callable[[Any, Any], Any]:
    def constant(source: Any, info: Any) -> Any:
        return value

    return constant


def _getter(default_resolver: Callable[[Any, str], Any], name: str) -> Callable[[Any], Any]:
    if default_resolver is getattr:
        return operator.attrgetter(name)
    return lambda source: default_resolver(source, name)


def _attribute(default_resolver: Callable[[Any, str], Any], name: str) -> Callable[[Any, Any], Any]:
    def attribute(source: Any, info: Any) -> Any:
        return default_resolver(source, name)

    return attribute


def _direct(schema: GraphQLSchema, field: Any) -> Callable[..., Any] | None:
    """For a strawberry resolver without arguments, extensions or exception
    handlers: the call strawberry's wrapper makes (the source as self, root or parent;
    an Info), without its argument conversion and extension chain."""
    strawberry_schema = getattr(schema, "_strawberry_schema", None)
    resolver = field.base_resolver
    if strawberry_schema is None or resolver is None or field.arguments or field.extensions:
        return None
    if strawberry_schema.schema_converter.exception_handlers:
        return None
    info_class, call = strawberry_schema.config.info_class, resolver.wrapped_func
    passes_self = resolver.self_parameter is not None
    source_names = [p.name for p in (resolver.root_parameter, resolver.parent_parameter) if p is not None]
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None

    def direct(source: Any, info: GraphQLResolveInfo[Any]) -> Any:
        kwargs = dict.fromkeys(source_names, source)
        if info_name is not None:
            kwargs[info_name] = info_class(_raw_info=info, _field=field)
        return call(source, **kwargs) if passes_self else call(**kwargs)

    return direct


def _shape(schema: GraphQLSchema, type_: GraphQLOutputType, node: FieldNode) -> Shape:
    if isinstance(type_, GraphQLNonNull):
        inner = _shape(schema, type_.of_type, node)
        return Shape(_NON_NULL, of=inner, plain=() if _is_plain(inner) else None)
    if isinstance(type_, GraphQLList):
        item = _shape(schema, type_.of_type, node)
        return Shape(_LIST, of=item, plain=() if _is_plain(item) else None)
    if is_leaf_type(type_):
        if node.selection_set is not None:
            raise _Unsupported()
        convert, same = _leaf_conversion(type_)
        return Shape(_LEAF, leaf=type_, plain=(), convert=convert, same=same)
    if is_object_type(type_) and node.selection_set is not None and type_.is_type_of is None:
        fields = _plan_selections(schema, type_, node.selection_set.selections)
        plain = None
        if all(f.getter is not None and _is_plain(f.shape) for f in fields):
            plain = tuple((f.key, f.getter, f.shape) for f in fields if f.getter is not None)
        return Shape(_OBJECT, fields=fields, plain=plain)
    raise _Unsupported()  # interfaces and unions: graphql-core resolves the runtime type


def _is_plain(shape: Shape) -> bool:
    return shape.plain is not None


def _leaf_conversion(leaf: GraphQLLeafType) -> tuple[Callable[[Any], Any], type | None]:
    """The scalar's own output coercion, and the value class it is known to return as is
    (str for String and ID, bool for Boolean). For a strawberry enum, its members' names
    looked up directly (the first name whose value matches, as its coercion loops)."""
    convert = leaf.coerce_output_value
    if leaf is GraphQLString or leaf is GraphQLID:
        return convert, str
    if leaf is GraphQLBoolean:
        return convert, bool
    wrapped = getattr(leaf, "wrapped_cls", None)
    if isinstance(leaf, GraphQLEnumType) and isinstance(wrapped, type) and issubclass(wrapped, Enum):
        names: dict[Any, str] = {}
        for member in wrapped:
            for name, value in leaf.values.items():
                if member.value == value.value:
                    names.setdefault(member, name)
                    break

        def enum_name(value: Any) -> Any:
            if value.__class__ is wrapped and value in names:
                return names[value]
            return convert(value)

        return enum_name, None
    return convert, None


def execute_plan(
    schema: GraphQLSchema, plan: Plan, context: Any, variables: dict[str, Any] | None = None
) -> ExecutionResult | Awaitable[ExecutionResult]:
    """Runs the plan: the result at once when every resolver answered synchronously,
    else an awaitable of it. Raises NeedsGraphQLCore if a resolver asks for work
    tracking, which only graphql-core provides."""
    variable_values = _NO_VARIABLES
    if plan.operation.variable_definitions:
        coerced = get_variable_values(schema, plan.operation.variable_definitions, variables or {}, max_errors=50)
        if isinstance(coerced, list):
            return ExecutionResult(None, coerced)
        variable_values = coerced
    run = _Run(schema, plan, context, variable_values)
    try:
        data = run.fields(plan.fields, None, None)  # no root value, as graphql-core is called
    except GraphQLError as error:  # a non-null root field failed
        return ExecutionResult(None, [*run.errors, error])
    if not _pending(data):
        return ExecutionResult(data, run.errors or None)

    async def finish() -> ExecutionResult:
        try:
            completed = await data
        except GraphQLError as error:
            return ExecutionResult(None, [*run.errors, error])
        return ExecutionResult(completed, run.errors or None)

    return finish()


class _Run:
    """One execution. Mirrors graphql-core's semantics: sibling fields and list items
    that wait run concurrently; an error in a non-null position nulls the nearest
    nullable ancestor, cancels the work still pending under it and discards later
    errors from there."""

    __slots__ = ("context", "errors", "nulled", "plan", "schema", "variables")

    def __init__(self, schema: GraphQLSchema, plan: Plan, context: Any, variables: VariableValues) -> None:
        self.schema = schema
        self.plan = plan
        self.context = context
        self.variables = variables
        self.errors: list[GraphQLError] = []
        self.nulled: set[Path] = set()

    # --- fields -------------------------------------------------------------------

    def fields(self, plans: tuple[FieldPlan, ...], source: Any, path: Path | None) -> Any:
        results: dict[str, Any] = {}
        waiting: list[str] = []
        try:
            for f in plans:
                value = results[f.key] = self.field(f, source, Path(path, f.key, f.parent.name))
                if _pending(value):
                    waiting.append(f.key)
        except Exception:
            self.settle([results[key] for key in waiting])
            raise
        return _filled(results, waiting) if waiting else results

    def field(self, f: FieldPlan, source: Any, path: Path) -> Any:
        try:
            if f.takes_info:
                assert f.field is not None  # a field that takes info is a schema field, not __typename
                args = f.args if f.args is not None else get_argument_values(f.field, f.nodes[0], self.variables)
                value = f.resolve(source, self.info(f, path), **args)
            else:
                value = f.resolve(source, None)
            if _awaitable(value):
                return self.await_field(f, f.shape, value, path)
            completed = self.complete(f, f.shape, value, path)
            if _pending(completed):
                return self.await_completed(f, f.shape, completed, path)
            return completed
        except NeedsGraphQLCore:
            raise
        except Exception as raw:  # noqa: BLE001 - any resolver error becomes the field's located error, as in graphql-core
            return self.fail(raw, f, f.shape, path)

    async def await_field(self, f: FieldPlan, shape: Shape, value: Any, path: Path) -> Any:
        try:
            completed = self.complete(f, shape, await value, path)
            return await completed if _pending(completed) else completed
        except NeedsGraphQLCore:
            raise
        except Exception as raw:  # noqa: BLE001 - as above
            return self.fail(raw, f, shape, path)

    async def await_completed(self, f: FieldPlan, shape: Shape, completed: Any, path: Path) -> Any:
        try:
            return await completed
        except NeedsGraphQLCore:
            raise
        except Exception as raw:  # noqa: BLE001 - as above
            return self.fail(raw, f, shape, path)

    def fail(self, raw: Exception, f: FieldPlan, shape: Shape, path: Path) -> None:
        """A located error: raised on towards the parent from a non-null position,
        recorded (the position becomes null) from a nullable one."""
        error = located_error(raw, f.nodes, path.as_list())
        if shape.kind == _NON_NULL:
            raise error from None
        position: Path | None = path
        while position is not None:
            if position in self.nulled:
                return
            position = position.prev
        self.nulled.add(path)
        self.errors.append(error)
        return

    # --- values -------------------------------------------------------------------

    def complete(self, f: FieldPlan, shape: Shape, value: Any, path: Path) -> Any:
        if isinstance(value, Exception):
            raise value
        if shape.kind == _NON_NULL:
            assert shape.of is not None
            completed = self.complete(f, shape.of, value, path)
            if _pending(completed):
                return self.await_non_null(f, completed)
            if completed is None:
                raise TypeError(f"Cannot return null for non-nullable field {f.parent.name}.{f.name}.")
            return completed
        if value is None or value is Undefined:
            return None
        if shape.kind == _LEAF:
            assert shape.leaf is not None
            coerced = shape.leaf.coerce_output_value(value)
            if coerced is None or coerced is Undefined:
                raise TypeError(
                    f"Expected `{shape.leaf}.coerce_output_value({inspect_value(value)})` to return non-nullable value."
                )
            return coerced
        if shape.plain is not None:
            try:
                return _plain(shape, value)
            except Exception:  # noqa: BLE001, S110 - anything unusual: the general completion says what
                pass
        if shape.kind == _OBJECT:
            return self.fields(shape.fields, value, path)
        return self.complete_list(f, shape, value, path)

    async def await_non_null(self, f: FieldPlan, completed: Any) -> Any:
        value = await completed
        if value is None:
            raise TypeError(f"Cannot return null for non-nullable field {f.parent.name}.{f.name}.")
        return value

    def complete_list(self, f: FieldPlan, shape: Shape, value: Any, path: Path) -> Any:
        if not is_iterable(value):
            raise GraphQLError(f"Expected Iterable, but did not find one for field '{f.parent.name}.{f.name}'.")
        assert shape.of is not None
        item_shape: Shape = shape.of
        items: list[Any] = []
        waiting: list[int] = []
        try:
            for index, item in enumerate(value):
                item_path = path.add_key(index, None)
                if _awaitable(item):
                    items.append(self.await_field(f, item_shape, item, item_path))
                    waiting.append(index)
                    continue
                try:
                    completed = self.complete(f, item_shape, item, item_path)
                    if _pending(completed):
                        completed = self.await_completed(f, item_shape, completed, item_path)
                        waiting.append(index)
                    items.append(completed)
                except NeedsGraphQLCore:
                    raise
                except Exception as raw:  # noqa: BLE001 - as above, for a list item
                    self.fail(raw, f, item_shape, item_path)
                    items.append(None)
        except Exception:
            self.settle([items[index] for index in waiting])
            raise
        return _filled(items, waiting) if waiting else items

    # --- support ------------------------------------------------------------------

    def settle(self, awaitables: list[Any]) -> None:
        """Work already started for siblings of a failed non-null field still runs to
        its end, in the background, so that nothing is left half done or unobserved."""
        if awaitables:
            future = asyncio.gather(*awaitables, return_exceptions=True)
            _SETTLING.add(future)  # held until done: the loop keeps only weak references
            future.add_done_callback(_SETTLING.discard)

    def info(self, f: FieldPlan, path: Path) -> GraphQLResolveInfo[Any]:
        assert f.field is not None
        return GraphQLResolveInfo(
            f.name,
            f.nodes,
            f.field.type,
            f.parent,
            path,
            self.schema,
            {},  # no fragments in a plan
            None,
            self.plan.operation,
            self.variables,
            self.context,
            is_awaitable,
            None,
            _HELPERS,
        )


_NO_VARIABLES = VariableValues({}, {})


class _NotPlain(Exception):
    """The fast completion met what only the general one handles (nothing is lost:
    attribute reads are repeated there)."""


_NOT_PLAIN = _NotPlain()


def _plain(shape: Shape, value: Any) -> Any:
    """The completed value of a shape made of plain attributes, or _NotPlain. The value
    is neither None nor Undefined (the caller handled them for this position)."""
    kind = shape.kind
    if kind == _LEAF:
        if value.__class__ is shape.same:
            return value
        if _awaitable(value):
            raise _NOT_PLAIN
        assert shape.convert is not None
        converted = shape.convert(value)
        if converted is None or converted is Undefined:
            raise _NOT_PLAIN
        return converted
    if _awaitable(value):
        raise _NOT_PLAIN
    if kind == _OBJECT:
        assert shape.plain is not None
        result: dict[str, Any] = {}
        for key, get, field_shape in shape.plain:
            result[key] = _plain_position(field_shape, get(value))
        return result
    if kind == _LIST:
        if not is_iterable(value):
            raise _NOT_PLAIN
        assert shape.of is not None
        item_shape = shape.of
        return [_plain_position(item_shape, item) for item in value]
    assert shape.of is not None
    return _plain(shape.of, value)


def _plain_position(shape: Shape, value: Any) -> Any:
    if value is None or value is Undefined:
        if shape.kind == _NON_NULL:
            raise _NOT_PLAIN
        return None
    if shape.kind == _NON_NULL:
        assert shape.of is not None
        shape = shape.of
    return _plain(shape, value)


# What resolvers return most: values that cannot be awaited, known without the general test.
_PLAIN = frozenset({str, int, float, bool, type(None), dict, list, tuple, uuid.UUID, datetime, date})


def _awaitable(value: Any) -> bool:
    """A resolver's result (or a list item) that must be awaited."""
    return value.__class__ not in _PLAIN and is_awaitable(value)


def _pending(value: Any) -> bool:
    """A completed value still waiting: the plan itself only makes coroutines for that."""
    return value.__class__ is CoroutineType


async def _filled(container: Any, waiting: list[Any]) -> Any:
    """The dict or list with its waiting entries (keys or indexes) replaced by their
    values, awaited together (one alone is awaited directly, as graphql-core does)."""
    if len(waiting) == 1:
        container[waiting[0]] = await container[waiting[0]]
    else:
        for key, value in zip(waiting, await gather_with_cancel(*(container[key] for key in waiting))):
            container[key] = value
    return container


def _needs_core(*args: Any) -> Any:
    raise NeedsGraphQLCore()


_HELPERS = GraphQLResolveInfoHelpers(gather=gather_with_cancel, track=_needs_core)  # type: ignore[arg-type]  # takes *awaitables, as graphql-core calls it
_SETTLING: set[Any] = set()
