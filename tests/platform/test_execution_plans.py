"""Execution plans answer exactly as graphql-core does, and hand everything else to it.

graphql-core is the reference: every document here runs on both and the responses
(data, error messages, locations and paths) must be equal."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from enum import Enum
from types import SimpleNamespace
from typing import Any

import pytest
import strawberry
from graphql import ExecutionResult, OperationDefinitionNode, execute, parse
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from api.graphql.executor import Executor
from api.graphql.plans import NeedsGraphQLCore, compile_plan, execute_plan
from api.graphql.schema import schema as api_schema


@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Item:
    name: str
    rank: int | None
    colour: Colour

    @strawberry.field
    def broken(self) -> str | None:
        raise ValueError(f"{self.name} is broken")

    @strawberry.field
    def required(self) -> str:
        raise ValueError(f"{self.name} has no required value")

    @strawberry.field
    def missing(self) -> str:
        return None  # type: ignore[return-value]

    @strawberry.field
    async def detail(self, info: Info) -> str:
        return await info.context.loader.load(self.name)

    @strawberry.field
    async def later_broken(self) -> str | None:
        await asyncio.sleep(0)
        raise ValueError(f"{self.name} broke later")

    @strawberry.field
    async def later_required(self) -> str:
        await asyncio.sleep(0)
        raise ValueError(f"{self.name} has no required value, later")


@strawberry.type
class Tag:
    label: str
    weight: int | None


@strawberry.type
class Row:
    """Only plain attributes: completed by the plans' fast pass unless a value is unusual."""

    id: strawberry.ID
    name: str
    note: str | None
    rank: int
    flag: bool
    colour: Colour
    tag: Tag | None
    tags: list[Tag]
    maybe_tags: list[Tag | None] | None


class Shout(str):
    """A str subclass (as translated messages are): String returns it, graphql-core alike."""


def row(i: int, **changes: Any) -> Row:
    fields: dict[str, Any] = {
        "id": strawberry.ID(f"r{i}"),
        "name": f"row {i}",
        "note": None if i % 2 else f"note {i}",
        "rank": i,
        "flag": bool(i % 2),
        "colour": Colour.BLUE if i % 2 else Colour.RED,
        "tag": Tag(label=f"t{i}", weight=None) if i % 3 else None,
        "tags": [Tag(label=f"a{i}", weight=i), Tag(label=f"b{i}", weight=None)],
        "maybe_tags": [Tag(label="m", weight=1), None] if i % 2 else None,
    }
    return Row(**{**fields, **changes})


async def later_tag() -> Tag:
    return Tag(label="late", weight=2)


# Rows whose plain attributes break the type somewhere, one way each (made per request).
UNUSUAL_ROWS: dict[str, Callable[[], list[Row]]] = {
    "good": lambda: [row(i) for i in range(6)],
    "null_in_non_null": lambda: [row(0), row(1, name=None)],
    "null_in_nested_non_null": lambda: [row(0), row(1, tags=[Tag(label=None, weight=1)])],  # type: ignore[arg-type]
    "null_item_in_non_null_list": lambda: [row(0, tags=[None])],
    "int_refused": lambda: [row(0), row(1, rank="seven"), row(2, rank=2**40)],
    "bool_from_int": lambda: [row(0, flag=1)],
    "string_from_int_and_subclass": lambda: [row(0, name=12, note=Shout("loud"))],
    "id_from_int": lambda: [row(0, id=7)],
    "enum_refused": lambda: [row(0, colour="green")],
    "enum_from_value": lambda: [row(0, colour="red")],
    "not_a_list": lambda: [row(0, tags=5)],
    "tuple_as_list": lambda: [row(0, tags=(Tag(label="x", weight=None),))],
    "awaitable_attribute": lambda: [row(0, tag=later_tag())],
}


@strawberry.type
class RowQuery:
    @strawberry.field
    def rows(self, kind: str) -> list[Row]:
        return UNUSUAL_ROWS[kind]()

    @strawberry.field
    async def later_rows(self, kind: str) -> list[Row] | None:
        await asyncio.sleep(0)
        return UNUSUAL_ROWS[kind]()


ROW_SCHEMA = strawberry.Schema(query=RowQuery)._schema
ROW_FIELDS = "id name note rank flag colour tag { label weight } tags { label weight } maybeTags { label }"


ITEMS = [
    Item(name="a", rank=1, colour=Colour.RED),
    Item(name="b", rank=None, colour=Colour.BLUE),
    Item(name="c", rank=3, colour=Colour.RED),
]


@strawberry.type
class Query:
    @strawberry.field
    def items(self, first: int = 2) -> list[Item]:
        return ITEMS[:first]

    @strawberry.field
    def maybe_items(self) -> list[Item | None] | None:
        return [ITEMS[0], None, ITEMS[1]]

    @strawberry.field
    def strict_items(self) -> list[Item] | None:
        return [ITEMS[0], None]  # type: ignore[list-item]

    @strawberry.field
    def not_a_list(self) -> list[int] | None:
        return 5  # type: ignore[return-value]

    @strawberry.field
    def greeting(self, info: Info) -> str:
        return f"hello {info.context.name} at {'.'.join(map(str, info.path.as_list()))}"

    @strawberry.field
    def pending(self) -> int:  # declared synchronous, returns an awaitable
        async def later() -> int:
            return 7

        return later()  # type: ignore[return-value]

    @strawberry.field
    async def later(self) -> int:
        return 8

    @strawberry.field
    async def later_items(self, first: int = 3) -> list[Item]:
        await asyncio.sleep(0)
        return ITEMS[:first]

    @strawberry.field
    def awaitable_items(self) -> list[Item | None]:
        async def item(i: int) -> Item:
            await asyncio.sleep(0)
            return ITEMS[i]

        return [item(0), None, item(2)]  # type: ignore[list-item]

    @strawberry.field
    def tracking(self, info: Info) -> int:
        info._raw_info.async_helpers.track([])  # only graphql-core tracks async work
        return 1


SCHEMA = strawberry.Schema(query=Query)._schema


def operation(query: str) -> tuple[Any, OperationDefinitionNode]:
    document = parse(query)
    op = document.definitions[0]
    assert isinstance(op, OperationDefinitionNode)
    return document, op


def formatted(result: ExecutionResult) -> tuple[Any, list[dict[str, Any]]]:
    return result.data, [error.formatted for error in result.errors or []]


class Context:
    """What resolvers get: a name, and a DataLoader that records its batches."""

    def __init__(self) -> None:
        self.name = "ada"
        self.batches: list[list[str]] = []
        self.loader = DataLoader(load_fn=self.load)

    async def load(self, keys: list[str]) -> list[str]:
        self.batches.append(keys)
        return [f"detail of {key}" for key in keys]


async def settled(outcome: ExecutionResult | Awaitable[ExecutionResult]) -> ExecutionResult:
    return outcome if isinstance(outcome, ExecutionResult) else await outcome


@pytest.mark.parametrize(
    "query",
    [
        "{ items { name rank colour } }",
        "{ first: items(first: 1) { name } all: items(first: 3) { label: name rank } }",
        "{ __typename items { __typename name } }",
        "{ items(first: 3) { name broken } }",  # a nullable field fails: null there, one error per item
        "{ items { name required } }",  # a non-null field fails: the null climbs to the root
        "{ maybeItems { name required } }",  # ... or to the nearest nullable position, the list item
        "{ maybeItems { name missing } items { name } }",  # a resolver returns null for a non-null field
        "{ strictItems { name } items { name } }",  # a null item in a list of non-null items
        "{ notAList items { rank } }",
        "{ greeting }",  # resolvers get info: the context and the path
        # Resolvers that wait: run concurrently, DataLoaders batch across siblings.
        "{ later pending }",
        "{ laterItems { name detail } items { detail } }",
        "{ awaitableItems { name detail } }",
        "{ laterItems { name laterBroken } }",
        "{ maybeItems { name laterRequired } later }",
        "{ laterItems { name laterRequired } }",
        "{ laterItems(first: 1) { laterRequired } items { name } }",
    ],
)
async def test_a_plan_answers_as_graphql_core_does(query: str) -> None:
    await answers_alike(query)


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("query($n: Int!) { items(first: $n) { name } }", {"n": 3}),
        ("query($n: Int = 1) { items(first: $n) { name } laterItems(first: $n) { detail } }", {}),
        ("query($n: Int) { items(first: 1) { name } later: laterItems(first: $n) { name } }", {"n": None}),
        ("query($n: Int!) { items(first: $n) { name } }", {}),  # a required variable is missing
        ("query($n: Int!) { items(first: $n) { name } }", {"n": "three"}),  # of the wrong type
    ],
)
async def test_a_plan_takes_variables_as_graphql_core_does(query: str, variables: dict[str, Any]) -> None:
    await answers_alike(query, variables)


@pytest.mark.parametrize("kind", list(UNUSUAL_ROWS))
@pytest.mark.parametrize("field", ["rows", "laterRows"])
async def test_rows_of_plain_attributes_answer_as_graphql_core_does(field: str, kind: str) -> None:
    """A page of rows takes the plans' fast pass; every way a value can break its type
    there (nulls, refused scalars, something to await) answers as graphql-core does."""
    await answers_alike(f'{{ {field}(kind: "{kind}") {{ {ROW_FIELDS} }} }}', schema=ROW_SCHEMA)


def test_rows_of_plain_attributes_take_the_fast_pass() -> None:
    document, op = operation(f'{{ rows(kind: "good") {{ {ROW_FIELDS} }} }}')
    plan = compile_plan(ROW_SCHEMA, document, op)
    assert plan is not None and plan.fields[0].shape.plain is not None


async def answers_alike(query: str, variables: dict[str, Any] | None = None, schema: Any = SCHEMA) -> None:
    document, op = operation(query)
    plan = compile_plan(schema, document, op)
    assert plan is not None
    reference_context, context = Context(), Context()
    reference = await settled(execute(schema, document, context_value=reference_context, variable_values=variables))
    assert formatted(await settled(execute_plan(schema, plan, context, variables))) == formatted(reference)
    assert context.batches == reference_context.batches  # as many loads in each batch


@pytest.mark.parametrize(
    "query",
    [
        "{ items { ...ItemName } } fragment ItemName on Item { name }",
        "{ items { ... on Item { name } } }",
        "{ items { name @include(if: true) } }",
        "{ items { name } items { rank } }",  # the same key twice: graphql-core merges
        "{ __schema { queryType { name } } }",
    ],
)
def test_graphql_core_keeps_what_a_plan_does_not_cover(query: str) -> None:
    document, op = operation(query)
    assert compile_plan(SCHEMA, document, op) is None


async def test_a_resolver_that_needs_graphql_core_gets_it() -> None:
    document, op = operation("{ tracking }")
    plan = compile_plan(SCHEMA, document, op)
    assert plan is not None
    with pytest.raises(NeedsGraphQLCore):
        await settled(execute_plan(SCHEMA, plan, Context()))

    executor = Executor(SCHEMA, introspection=False)
    context = SimpleNamespace(request=SimpleNamespace(scope={}))
    for _ in range(2):  # the first run discovers it, the second goes straight to graphql-core
        result = await executor.run("{ tracking }", None, None, context, allow_mutations=False)
        assert (result.data, result.errors) == ({"tracking": 1}, None)
    assert executor.prepare("{ tracking }").plans == {None: None}


@pytest.mark.parametrize(
    "query",
    [
        "{ viewer { user { id username } } }",
        "{ users(first: 50) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id username email displayName role status mfaEnabled lastLoginAt } } } }",
        "query($after: String, $search: String) { users(first: 50, after: $after, search: $search) { edges { node { id username } } } }",
        "query($t: String!) { purposes(tenant: $t) { key title description legalBasis version } }",
    ],
)
def test_the_web_apps_hot_queries_run_on_plans(query: str) -> None:
    """If a schema change pushed these to graphql-core they would silently lose most of
    their speed; this keeps that visible."""
    document, op = operation(query)
    assert compile_plan(api_schema._schema, document, op) is not None


async def test_a_plan_that_cannot_be_compiled_or_run_falls_back_to_graphql_core(monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    """An upgrade of strawberry or graphql-core that moves an internal the plans use must
    not turn queries into errors: they run on graphql-core, and the log says so once."""
    import api.graphql.executor as executor_module

    context = SimpleNamespace(request=SimpleNamespace(scope={}))
    expected = execute(SCHEMA, parse("{ items { name rank } }"))

    def broken_compile(*args: Any) -> Any:
        raise AttributeError("'Schema' object has no attribute 'schema_converter'")

    monkeypatch.setattr(executor_module, "compile_plan", broken_compile)
    executor = Executor(SCHEMA, introspection=False)
    for query in ("{ items { name rank } }", "{ items { name } }"):
        result = await executor.run(query, None, None, context, allow_mutations=False)
        assert result.errors is None and result.data
    assert (
        await executor.run("{ items { name rank } }", None, None, context, allow_mutations=False)
    ).data == expected.data
    assert [r.message for r in caplog.records].count(
        "execution plans failed to compile; running on graphql-core instead"
    ) == 1

    monkeypatch.undo()

    def broken_run(*args: Any) -> Any:
        raise TypeError("GraphQLResolveInfo.__init__() takes 15 positional arguments but 14 were given")

    monkeypatch.setattr(executor_module, "execute_plan", broken_run)
    executor = Executor(SCHEMA, introspection=False)
    for _ in range(2):
        result = await executor.run("{ items { name rank } }", None, None, context, allow_mutations=False)
        assert (result.data, result.errors) == (expected.data, None)
    assert executor.prepare("{ items { name rank } }").plans == {None: None}


async def test_plans_can_be_turned_off() -> None:
    executor = Executor(SCHEMA, introspection=False, plans=False)
    context = SimpleNamespace(request=SimpleNamespace(scope={}))
    result = await executor.run("{ items { name } }", None, None, context, allow_mutations=False)
    assert result.data == {"items": [{"name": "a"}, {"name": "b"}]}
    assert executor.prepare("{ items { name } }").plans == {None: None}
