"""Property-based fuzzing of every GraphQL operation against a live server.

    .venv/bin/python -m bench.fuzz [--examples 100] [--seed 1] [--only login,users]

Starts `python -m api serve` on a throwaway embedded database with a tenant, an owner
and a member, then for every query and mutation field of the schema sends generated
operations as the owner (an administrator), as the member and anonymously. Arguments
travel as variables (and now and then as literals in the document) with values drawn
from hostile distributions: long strings, all of Unicode (NUL, lone surrogates, control
characters, bidi overrides), huge and negative integers, deep and long lists, wrong
types, nulls where values are required. Every 5xx and every INTERNAL_SERVER_ERROR is a
finding; they are printed and written to `fuzz-findings.json`. Exit 1 when there is one.

Not part of `make test` (minutes of work); tests/platform/test_fuzzing.py runs a small
schemathesis pass in CI."""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import psycopg
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    ast_from_value,
    get_named_type,
    print_ast,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.common import PASSWORD, Mailbox, create_owner, running_server

# Strings a server must take without failing inside (they reach the resolvers)...
HOSTILE_STRINGS = [
    "",
    " ",
    "\r\n",
    "a\r\nBcc: x@evil.example",
    "\x1b[31m",
    "\u202eevil",
    "\u2028",
    "\u2066x\u2069",
    "\u200b",
    "\ufeff",
    "x" * 257,
    "x" * 4096,
    "x" * 70_000,
    "😀" * 500,
    "' OR 1=1 --",
    "<script>",
    "%00",
    "../../../etc/passwd",
    "${jndi:ldap://x}",
    "{{7*7}}",
    "\\",
    '"',
    "null",
    "NaN",
    "-1",
    "1e309",
    "ǅ",
    "ß",
    "İ",
    "owner",
    "OWNER@acme.example",
    "owner" + " " * 400 + "x",
    "00000000-0000-0000-0000-000000000000",
    "acme",
    "a@b.c",
    "lumen-quarry-velvet-7-oboe",
    "newsletter",
    "123456",
]
# ...and strings it must refuse cleanly (NUL; lone surrogates, which JSON cannot carry).
INVALID_STRINGS = ["\x00", "a\x00b", "\ud800", "x\udfffy"]
ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=300)
STRINGS = st.integers(0, 99).flatmap(
    lambda n: (
        st.sampled_from(HOSTILE_STRINGS)
        if n < 40
        else ANY_TEXT
        if n < 80
        else st.text(max_size=3000)
        if n < 96
        else st.sampled_from(INVALID_STRINGS)
    )
)
INTS = st.integers(0, 99).flatmap(
    lambda n: (
        st.integers(-5, 200)
        if n < 50
        else st.integers(-(2**31), 2**31 - 1)
        if n < 90
        else st.sampled_from([0, -1, 2**31 - 1, -(2**31), 2**31, 2**63, 10**40])
    )
)
DATETIMES = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.sampled_from(
        ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1970-01-01", "not a date", "2024-02-30T00:00:00Z"]
    ),
    STRINGS,
)
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), INTS, STRINGS),
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(STRINGS, inner, max_size=5)),
    max_leaves=30,
)
# A value of the wrong shape, for any type.
WRONG = st.one_of(
    st.none(),
    st.booleans(),
    INTS,
    STRINGS,
    st.floats(allow_nan=True),
    st.just({"a": {"b": {"c": None}}}),
    st.integers(1, 60).map(lambda depth: json.loads("[" * depth + "]" * depth)),
    st.just(list(range(5000))),
)


def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any], percent: int = 90) -> st.SearchStrategy[Any]:
    """`good` `percent` times in a hundred, else `bad` (hypothesis's one_of merges equal branches)."""
    return st.integers(0, 99).flatmap(lambda n: good if n < percent else bad)


def value_for(type_: GraphQLInputType, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of this input type, hostile but mostly well-shaped (so validation is passed
    often enough to reach the resolvers), with wrong shapes now and then."""
    if isinstance(type_, GraphQLNonNull):
        inner = value_for(type_.of_type, depth)
        return mostly(inner, st.none(), 95) if depth == 0 else inner
    if isinstance(type_, GraphQLList):
        item = value_for(type_.of_type, depth + 1)
        return mostly(st.lists(item, max_size=4), st.one_of(st.lists(item, min_size=40, max_size=80), item, WRONG), 85)
    named = get_named_type(type_)
    if isinstance(named, GraphQLEnumType):
        return mostly(st.sampled_from(sorted(named.values)), STRINGS)
    if isinstance(named, GraphQLInputObjectType):
        if depth > 3:
            return st.just({})
        required = {
            n: value_for(f.type, depth + 1) for n, f in named.fields.items() if isinstance(f.type, GraphQLNonNull)
        }
        optional = {
            n: value_for(f.type, depth + 1) for n, f in named.fields.items() if not isinstance(f.type, GraphQLNonNull)
        }
        shaped = st.fixed_dictionaries(required, optional=optional)
        return mostly(shaped, st.one_of(shaped.map(lambda d: {**d, "unknownField": 1}), WRONG))
    assert isinstance(named, GraphQLScalarType)
    scalar = {
        "String": STRINGS,
        "ID": st.one_of(st.uuids().map(str), STRINGS),
        "Int": INTS,
        "Float": st.floats(allow_nan=True),
        "Boolean": st.booleans(),
        "DateTime": DATETIMES,
        "JSON": JSON_VALUES,
    }.get(named.name, STRINGS)
    return mostly(scalar, WRONG, 95)


def selection(type_: GraphQLNamedType, depth: int = 0) -> str:
    """Every field without required arguments, two levels deep."""
    if not isinstance(type_, GraphQLObjectType):
        return ""
    parts = []
    for name, field in type_.fields.items():
        if any(isinstance(a.type, GraphQLNonNull) for a in field.args.values()):
            continue
        inner = get_named_type(field.type)
        if isinstance(inner, GraphQLObjectType):
            if depth < 2:
                nested = selection(inner, depth + 1)
                if nested:
                    parts.append(f"{name} {{ {nested} }}")
        else:
            parts.append(name)
    return " ".join(parts)


def document(kind: str, name: str, field: GraphQLField, inline: dict[str, str] | None = None) -> str:
    """The operation with every argument as a variable, or for those in `inline`, as the
    literal given (printed by graphql-core, so the parser's escapes are exercised)."""
    inline = inline or {}
    variables = ", ".join(f"${a}: {arg.type}" for a, arg in field.args.items() if a not in inline)
    arguments = ", ".join(f"{a}: {inline[a]}" if a in inline else f"{a}: ${a}" for a in field.args)
    selected = selection(get_named_type(field.type))
    return (
        f"{kind}{'(' + variables + ')' if variables else ''} {{ {name}{'(' + arguments + ')' if arguments else ''}"
        f"{' { ' + selected + ' }' if selected else ''} }}"
    )


def _literal(value: Any, type_: GraphQLInputType) -> str | None:
    try:
        node = ast_from_value(value, type_)
    except Exception:  # a value the type cannot print (a wrong shape): it stays a variable
        return None
    return print_ast(node) if node is not None else None


def _first_message(response: httpx.Response) -> str:
    import re

    try:
        message = str((response.json().get("errors") or [{}])[0].get("message", ""))
    except ValueError:
        message = response.text
    return re.sub(r"'[^']*'|\"[^\"]*\"|\d+", "_", message)[:90]


def outcome(response: httpx.Response) -> str:
    """The first error code, "data" when there was none, or the HTTP status."""
    try:
        errors = response.json().get("errors") or []
    except ValueError:
        return f"HTTP {response.status_code}"
    if response.status_code >= 400 and not errors:
        return f"HTTP {response.status_code}"
    if errors and isinstance(errors[0], dict):
        return str(errors[0].get("extensions", {}).get("code"))
    return "data"


def is_finding(response: httpx.Response) -> str | None:
    if response.status_code >= 500:
        return f"HTTP {response.status_code}"
    if "traceback" in response.text.lower():
        return "a traceback in the response"
    try:
        body = response.json()
    except ValueError:
        return f"a non-JSON answer with HTTP {response.status_code}"
    codes = [e.get("extensions", {}).get("code") for e in (body.get("errors") or []) if isinstance(e, dict)]
    return "INTERNAL_SERVER_ERROR" if "INTERNAL_SERVER_ERROR" in codes else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=100, help="examples per operation and identity")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", default="", help="comma-separated root fields")
    args = parser.parse_args()

    from api.graphql.schema import schema

    graphql_schema = schema._schema
    assert graphql_schema.query_type is not None and graphql_schema.mutation_type is not None
    operations = [("query", n, f) for n, f in graphql_schema.query_type.fields.items()]
    operations += [("mutation", n, f) for n, f in graphql_schema.mutation_type.fields.items()]
    if args.only:
        wanted = set(args.only.split(","))
        operations = [o for o in operations if o[1] in wanted]

    env = {
        "LOGIN_FAILURES_PER_ACCOUNT": "1000000",
        "LOGIN_FAILURES_PER_IP": "1000000",
        "PASSWORD_RESETS_PER_HOUR": "1000000",
    }
    findings: list[dict[str, Any]] = []
    sent: Counter[str] = Counter()
    reached: Counter[str] = Counter()  # past parsing, validation and variable coercion
    outcomes: Counter[str] = Counter()
    refusals: Counter[str] = Counter()  # why requests were refused before a resolver ran
    started = time.monotonic()
    mailbox = Mailbox()
    env["SMTP_URL"] = f"smtp://127.0.0.1:{mailbox.port}"
    with running_server(env) as (base, server_env):
        owner_token = create_owner(base, server_env, slug="acme")
        client = httpx.Client(base_url=base, timeout=60)
        member_token = _member(client, owner_token, mailbox)
        identities = {"admin": owner_token, "member": member_token, "anonymous": None}

        from db.embedded import start_embedded

        database = psycopg.connect(start_embedded(Path(server_env["DATA_DIR"]) / "pg"), autocommit=True)

        def fresh(identity: str) -> dict[str, str]:
            # Earlier examples may have required 2FA, shortened sessions or used up limits:
            # put the tenant back, so each operation is fuzzed with working identities.
            database.execute(
                "UPDATE tenant SET require_mfa = false, session_idle_timeout_minutes = 30, "
                "session_absolute_timeout_hours = 12, inactive_account_retention_days = NULL"
            )
            database.execute("DELETE FROM rate_limit_counter")
            token = identities[identity]
            if token is None:
                return {}
            alive = client.post(
                "/graphql", json={"query": "{ viewer { user { id } } }"}, headers={"authorization": f"Bearer {token}"}
            )
            if (
                alive.json().get("data", {}).get("viewer") is None
            ):  # logged out, revoked or limited by an earlier example
                who = "owner" if identity == "admin" else "mia"
                relogin = client.post("/graphql", json={"query": LOGIN, "variables": {"i": who, "p": PASSWORD}})
                identities[identity] = relogin.cookies.get("session") or token
            return {"authorization": f"Bearer {identities[identity]}"}

        for kind, name, field in operations:
            doc = document(kind, name, field)
            variables = st.fixed_dictionaries(
                {a: value_for(arg.type) for a, arg in field.args.items() if isinstance(arg.type, GraphQLNonNull)},
                optional={
                    a: value_for(arg.type) for a, arg in field.args.items() if not isinstance(arg.type, GraphQLNonNull)
                },
            )
            for identity in identities:
                headers = fresh(identity)

                @settings(
                    max_examples=args.examples,
                    deadline=None,
                    database=None,
                    derandomize=False,
                    suppress_health_check=list(HealthCheck),
                )
                @given(values=variables, literal=st.booleans())
                def probe(values: dict[str, Any], literal: bool) -> None:
                    body: dict[str, Any] = {"query": doc, "variables": values}
                    if literal:  # arguments inline, where they can be written as literals
                        inline = {
                            a: printed
                            for a, v in values.items()
                            if (printed := _literal(v, field.args[a].type)) is not None
                        }
                        body = {
                            "query": document(kind, name, field, inline),
                            "variables": {a: v for a, v in values.items() if a not in inline},
                        }
                    try:
                        response = client.post(
                            "/graphql",
                            content=json.dumps(body),
                            headers={"content-type": "application/json", **headers},
                        )
                    except httpx.HTTPError as error:
                        findings.append(
                            {"operation": name, "identity": identity, "problem": f"transport: {error!r}", "body": body}
                        )
                        return
                    sent[name] += 1
                    outcomes[outcome(response)] += 1
                    if outcome(response) in ("BAD_USER_INPUT", "HTTP 400"):
                        refusals[_first_message(response)] += 1
                    reached[name] += outcome(response) not in ("BAD_USER_INPUT", "HTTP 400")
                    problem = is_finding(response)
                    if problem:
                        findings.append(
                            {
                                "operation": name,
                                "identity": identity,
                                "problem": problem,
                                "request_id": response.headers.get("x-request-id"),
                                "body": body,
                            }
                        )

                random.seed(args.seed)
                probe()
            print(
                f"{kind:8} {name:28} {sent[name]:5} sent, {reached[name]:5} reached the resolver, "
                f"{sum(1 for f in findings if f['operation'] == name)} findings",
                flush=True,
            )
    elapsed = time.monotonic() - started
    print(
        f"\n{len(operations)} operations, {sum(sent.values())} requests ({sum(reached.values())} reached a resolver) "
        f"in {elapsed:.0f} s, {len(findings)} findings"
    )
    print("outcomes:", ", ".join(f"{k} {v}" for k, v in outcomes.most_common()))
    print("most common refusals:", "; ".join(f"{v}x {k}" for k, v in refusals.most_common(8)))
    if findings:
        Path("fuzz-findings.json").write_text(
            json.dumps(findings, indent=2, default=str, ensure_ascii=True)[:20_000_000]
        )
        for finding in findings[:20]:
            print(
                f"- {finding['operation']} as {finding['identity']}: {finding['problem']} (request {finding.get('request_id')})"
            )
    return 1 if findings else 0


LOGIN = 'mutation($i: String!, $p: String!) { login(input: {tenant: "acme", identifier: $i, password: $p}) { status } }'


def _member(client: httpx.Client, owner_token: str, mailbox: Mailbox) -> str:
    add = 'mutation { addUser(input: {username: "mia", email: "mia@acme.example"}) { user { id } } }'
    client.post("/graphql", json={"query": add}, headers={"authorization": f"Bearer {owner_token}"})
    token = mailbox.token_for("mia@acme.example")
    accept = "mutation($t: String!, $p: String!) { acceptInvitation(input: {token: $t, password: $p}) { status } }"
    accepted = client.post("/graphql", json={"query": accept, "variables": {"t": token, "p": PASSWORD}})
    return accepted.cookies["session"]


if __name__ == "__main__":
    sys.exit(main())
