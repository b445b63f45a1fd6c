"""Hostile documents and values: refused early and clearly, with bounded work, and never
an internal error or a raw 500."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
from graphql import parse

from api.graphql import limits
from api.graphql.executor import BYTES_PER_TOKEN, CACHE_BYTES, Executor
from api.graphql.schema import schema
from tests.helpers import VIEWER, Api


def fragment_chain(n: int) -> str:
    """Each fragment spreads the next one twice: 2^n fields if expanded naively."""
    fragments = [f"fragment F{i} on Viewer {{ user {{ id }} ...F{i + 1} ...F{i + 1} }}" for i in range(n)]
    return "{ viewer { ...F0 } } " + " ".join(fragments) + f" fragment F{n} on Viewer {{ user {{ id }} }}"


async def test_a_fragment_chain_is_refused_at_once_and_the_server_keeps_answering(api: Api) -> None:
    browser = api.browser()
    chained, health = await asyncio.gather(browser.gql(fragment_chain(40)), browser.http.get("/healthz"))
    assert chained.codes and set(chained.codes) == {"BAD_USER_INPUT"} and chained.data is None
    assert health.status_code == 200


def test_measuring_a_document_visits_each_fragment_once() -> None:
    """The work grows with the document, not with what it would expand to."""
    calls = 0
    original = limits._Measure.selection_set

    def counting(self, node):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        return original(self, node)

    limits._Measure.selection_set = counting  # type: ignore[method-assign]
    try:
        for n in (10, 20, 40):
            calls = 0
            errors = limits.check(parse(fragment_chain(n)))
            assert errors, n
            assert calls <= 4 * (n + 2), (n, calls)  # selection sets as written, each once
    finally:
        limits._Measure.selection_set = original  # type: ignore[method-assign]


@pytest.mark.parametrize(
    "document",
    [
        "{"
        + " viewer { user { id } }" * 100
        + "}",  # one key many times: graphql-core's overlap check is quadratic in it
        "{ viewer { user {" + " id" * 400 + "} } }",
        "{ viewer { ...A ...B ...C } } "
        + " ".join(f"fragment {f} on Viewer {{ " + "user { id } " * 4 + "}" for f in "ABC"),
        "{"
        + " ".join(f"...F{i}" for i in range(60))
        + "} "
        + " ".join(f"fragment F{i} on Query {{ __typename }}" for i in range(60)),
        "{ viewer { " + " ".join(f"a{i}: user {{ id }}" for i in range(31)) + " } }",
        "{ viewer { user { id } } } " + " ".join(f"query Q{i} {{ __typename }}" for i in range(60)),
    ],
    ids=["same-key", "same-scalar", "merged-fragments", "many-spreads", "aliases", "many-operations"],
)
async def test_documents_past_the_limits_are_refused_before_validation(api: Api, document: str) -> None:
    result = await api.browser().gql(document)
    assert result.status == 200 and result.data is None and set(result.codes) == {"BAD_USER_INPUT"}


async def test_the_introspection_query_of_graphiql_stays_within_the_limits(api: Api) -> None:
    from graphql import get_introspection_query

    query = get_introspection_query(descriptions=True, specified_by_url=True, directive_is_repeatable=True)
    result = await api.browser().gql(query)
    assert not result.errors and result.data["__schema"]["queryType"]["name"] == "Query"


def test_the_document_cache_is_bounded_by_bytes() -> None:
    executor = Executor(schema._schema, introspection=False)
    for i in range(200):  # each near the token limit: about 2 MB parsed
        executor.prepare("{ viewer { user { " + f"a{i}: id " + "id " * 2900 + "} } }")
    assert 0 < executor.cached_bytes <= CACHE_BYTES
    assert len(executor._prepared) <= CACHE_BYTES // (2900 * BYTES_PER_TOKEN) + 1


def test_the_size_estimate_is_not_below_what_a_parsed_document_holds() -> None:
    import gc
    import tracemalloc

    query = "{ viewer { user { " + "id " * 2900 + "} } }"
    gc.collect()
    tracemalloc.start()
    prepared = Executor(schema._schema, introspection=False).prepare(query)
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert prepared.size >= held * 0.9, (prepared.size, held)


NUL = "a\x00b"


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        ('mutation { login(input: {tenant: "acme", identifier: "a\\u0000b", password: "x"}) { status } }', {}),
        (
            'mutation($i: String!) { login(input: {tenant: "acme", identifier: $i, password: "x"}) { status } }',
            {"i": NUL},
        ),
        ("query($t: String!) { purposes(tenant: $t) { key } }", {"t": NUL}),
        ("mutation($t: String!) { withdrawConsentByToken(token: $t) { ok } }", {"t": NUL}),
        (
            "mutation($t: String!, $p: String!) { resetPassword(input: {token: $t, newPassword: $p}) { ok } }",
            {"t": "x", "p": "long-enough-" + NUL},
        ),
        ("query($x: String!) { purposes(tenant: $x) { key } }", {"x": "acme", "extra": {"deep": [[{"k\x00": 1}]]}}),
    ],
)
async def test_a_nul_anywhere_in_a_string_is_bad_input(api: Api, document: str, variables: dict) -> None:  # type: ignore[type-arg]
    await api.owner("acme")
    result = await api.browser().gql(document, variables)
    assert result.status == 200 and result.codes == ["BAD_USER_INPUT"], result.body
    assert "NUL" in result.errors[0]["message"]


def nested(depth: int) -> object:
    value: object = []
    for i in range(depth - 1):
        value = [value] if i % 2 else {"k": value}
    return value


PASSKEY_LOGIN = """mutation($c: JSON!) { finishPasskeyLogin(input: {
  flowId: "00000000-0000-0000-0000-000000000000", credential: $c }) { status } }"""


@pytest.mark.parametrize("depth", [65, 500, 900])
async def test_variables_nested_past_the_limit_are_bad_input_before_anything_reads_them(api: Api, depth: int) -> None:
    """Deeply nested JSON (an anonymous passkey answer, an export part) never reaches code
    that walks it recursively: a clear refusal instead of an internal error."""
    await api.owner("acme")
    result = await api.browser().gql(PASSKEY_LOGIN, {"c": nested(depth)})
    assert result.status == 200 and result.codes == ["BAD_USER_INPUT"], result.body
    assert "nested more than 64 levels" in result.errors[0]["message"]
    # Nesting in a variable the operation does not declare counts too.
    extra = await api.browser().gql("{ __typename }", {"unused": nested(depth)})
    assert extra.codes == ["BAD_USER_INPUT"], extra.body


async def test_variables_nested_within_the_limit_reach_the_operation(api: Api) -> None:
    await api.owner("acme")
    result = await api.browser().gql(PASSKEY_LOGIN, {"c": nested(64)})
    assert "BAD_USER_INPUT" not in result.codes and "INTERNAL_SERVER_ERROR" not in result.codes, result.body


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


# Refused by every connection: wrong shape, kind or range for any of them.
HOSTILE_CURSORS = [
    _cursor([2**70]),
    _cursor([-1]),
    _cursor([1.5]),
    _cursor([True]),
    _cursor([[[[1]]]]),
    _cursor(["x" * 2000, "00000000-0000-0000-0000-000000000000"]),
    _cursor(["a\x00", "00000000-0000-0000-0000-000000000000"]),
    _cursor([{"a": 1}, "00000000-0000-0000-0000-000000000000"]),
    _cursor(["owner", "not-a-uuid"]),
    _cursor([None, None]),
    "[" * 400 + "]" * 400,
    base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode(),
    "%%%%",
    "A" * 10_000,
    _cursor({"a": 1}),
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    _cursor(["9" * 5000]),
    _cursor([]),
]
# Well-formed for some connections, out of range or kind for others.
ODD_CURSORS = [
    _cursor(["1"]),
    _cursor(["0001-01-01T00:00:00+14:00", "00000000-0000-0000-0000-000000000000"]),
    _cursor(["9999-12-31T23:59:59", "00000000-0000-0000-0000-000000000000"]),
    _cursor([2**63 - 1]),
]


async def test_forged_cursors_are_bad_input_on_every_connection(api: Api) -> None:
    owner = await api.owner("acme")
    queries = [
        "query($a: String) { users(first: 5, after: $a) { edges { cursor } } }",
        "query($a: String) { auditEvents(first: 5, after: $a) { edges { cursor } } }",
        "query($a: String) { dataRequests(first: 5, after: $a) { edges { cursor } } }",
        "query($a: String) { viewer { activity(first: 5, after: $a) { edges { cursor } } } }",
    ]
    for query in queries:
        for cursor in HOSTILE_CURSORS:
            result = await owner.browser.gql(query, {"a": cursor})
            assert result.status == 200 and result.codes == ["BAD_USER_INPUT"], (query, cursor, result.body)
        for cursor in ODD_CURSORS:
            result = await owner.browser.gql(query, {"a": cursor})
            assert result.status == 200 and result.codes in ([], ["BAD_USER_INPUT"]), (query, cursor, result.body)


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1500-01-01T00:00:00Z"])
async def test_times_out_of_range_are_bad_input(api: Api, moment: str) -> None:
    owner = await api.owner("acme")
    result = await owner.browser.gql(
        "query($s: DateTime) { auditEvents(first: 5, filter: {since: $s, until: $s}) { edges { cursor } } }",
        {"s": moment},
    )
    assert result.status == 200 and result.codes and set(result.codes) == {"BAD_USER_INPUT"}, result.body


async def test_sibling_fields_cut_short_by_an_error_never_turn_into_a_raw_500(api: Api) -> None:
    """A non-null field that fails cancels its siblings while they hold the request's
    database session; the response is still the GraphQL error, every time."""
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    siblings = "viewer { sessions { id } consents { granted } consentHistory { granted } dataRequests { id } recoveryCodesRemaining }"
    cases = [
        (
            owner,
            "{ "
            + siblings.replace(
                "recoveryCodesRemaining", "recoveryCodesRemaining activity(first: 1000) { edges { cursor } }"
            )
            + " }",
            "BAD_USER_INPUT",
        ),
        (member, "{ " + siblings + " users { totalCount } }", "FORBIDDEN"),  # fails before it reads
        (member, "{ consentReport { granted } " + siblings + " auditEvents { edges { cursor } } }", "FORBIDDEN"),
    ]
    for who, query, code in cases:
        for _ in range(4):
            results = await asyncio.gather(*(who.browser.gql(query) for _ in range(20)))
            for result in results:
                assert result.status == 200 and result.response.headers["content-type"].startswith("application/json")
                assert code in result.codes and "INTERNAL_SERVER_ERROR" not in result.codes, result.body
        assert (await who.browser.gql(VIEWER)).data["viewer"]  # the pool is still fine
