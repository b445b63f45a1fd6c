"""Operators and tenants' users are separate realms in one API: an operator session
reads and changes nothing of a tenant's users (no viewer, no accounts, no consents, no
secrets, no audit of users, no acting as a user), and a user session reaches nothing of
the operators'. The operators' part of the schema leads to no user's data at all."""

from __future__ import annotations

import pytest
from graphql import GraphQLList, GraphQLNamedType, GraphQLNonNull, GraphQLObjectType, GraphQLType

from api.graphql.schema import schema
from tests.helpers import VIEWER, Api
from tests.operators.support import EVENTS, ME, REACTIVATE, SET_SEATS, SUSPEND, TENANTS, signed_in_operator, tenant_id
from tests.queries import MY_DATA_REQUESTS, REQUEST_EXPORT, SET_CONSENTS

USER_READS = {
    "users": "{ users(first: 5) { totalCount edges { node { id email } } } }",
    "user": '{ user(id: "00000000-0000-0000-0000-000000000000") { id email } }',
    "auditEvents": "{ auditEvents(first: 5) { edges { node { id action } } } }",
    "dataRequests": "{ dataRequests(first: 5) { edges { node { id subjectId } } } }",
    "consentReport": "{ consentReport { purpose { key } granted } }",
}
USER_MUTATIONS = {
    "setConsents": (SET_CONSENTS, {"i": [{"purposeKey": "newsletter", "granted": True}]}),
    "addUser": ('mutation { addUser(input: {username: "spy", email: "spy@vendor.example"}) { errors { code } } }', {}),
    "updateUser": ("mutation($id: ID!) { updateUser(input: {id: $id, role: ADMIN}) { errors { code } } }", None),
    "removeUser": ("mutation($id: ID!) { removeUser(id: $id) { errors { code } } }", None),
    "resetUserMfa": ("mutation($id: ID!) { resetUserMfa(id: $id) { errors { code } } }", None),
    "revokeUserSessions": ("mutation($id: ID!) { revokeUserSessions(id: $id) { errors { code } } }", None),
    "updateTenantSettings": ("mutation { updateTenantSettings(input: {requireMfa: true}) { errors { code } } }", {}),
    "changePassword": (
        'mutation { changePassword(input: {currentPassword: "x", newPassword: "y"}) { errors { code } } }',
        {},
    ),
    "beginTotpEnrollment": ("mutation { beginTotpEnrollment { errors { code } } }", {}),
    "revokeOtherSessions": ("mutation { revokeOtherSessions { errors { code } } }", {}),
    "requestDataExport": (REQUEST_EXPORT, {}),
    "createDataRequest": (
        "mutation($id: ID!) { createDataRequest(userId: $id, kind: EXPORT) { errors { code } } }",
        None,
    ),
    "upsertPurpose": (
        'mutation { upsertPurpose(input: {key: "spy", title: "t", description: "d", legalBasis: CONSENT}) { errors { code } } }',
        {},
    ),
}


async def test_an_operator_session_reads_nothing_of_a_tenants_users(api: Api) -> None:
    owner = await api.owner("acme")
    staff = await signed_in_operator(api)
    assert (await staff.gql(VIEWER)).data == {"viewer": None}
    assert (await staff.gql(MY_DATA_REQUESTS)).data == {"viewer": None}
    for name, query in USER_READS.items():
        result = await staff.gql(query)
        assert result.codes == ["FORBIDDEN"], (name, result.body)
    # The operator session holds nothing of the owner's, and what the owner sees is unchanged.
    assert (await owner.browser.gql(VIEWER)).data["viewer"]["user"]["id"] == owner.id


@pytest.mark.parametrize("name", sorted(USER_MUTATIONS))
async def test_an_operator_session_changes_nothing_as_a_user(api: Api, name: str) -> None:
    owner = await api.owner("acme")
    staff = await signed_in_operator(api)
    query, variables = USER_MUTATIONS[name]
    before = await api.count("audit_event")
    result = await staff.gql(query, variables if variables is not None else {"id": owner.id})
    assert result.codes == ["FORBIDDEN"], result.body
    assert await api.count("audit_event") == before


async def test_a_user_session_is_forbidden_everything_of_the_operators(api: Api) -> None:
    owner = await api.owner("acme")
    acme = await tenant_id(api, "acme")
    assert (await owner.browser.gql(ME)).data == {"operator": None}
    for query in (TENANTS, EVENTS):
        assert (await owner.browser.gql(query)).codes == ["FORBIDDEN"]
    for query, variables in (
        (SET_SEATS, {"id": acme, "seats": 1000}),
        (SUSPEND, {"id": acme}),
        (REACTIVATE, {"id": acme}),
    ):
        assert (await owner.browser.gql(query, variables)).codes == ["FORBIDDEN"]
    assert await api.db.fetchval("SELECT (seat_limit, state)::text FROM tenant") == "(,ACTIVE)"


async def test_nobody_is_unauthenticated_for_the_operators_fields(api: Api) -> None:
    await api.owner("acme")
    acme = await tenant_id(api, "acme")
    nobody = api.browser()
    for query in (TENANTS, EVENTS):
        assert (await nobody.gql(query)).codes == ["UNAUTHENTICATED"]
    assert (await nobody.gql(SUSPEND, {"id": acme})).codes == ["UNAUTHENTICATED"]
    assert (await nobody.gql(ME)).data == {"operator": None}


def _named(of: GraphQLType) -> GraphQLNamedType:
    while isinstance(of, GraphQLNonNull | GraphQLList):
        of = of.of_type
    assert isinstance(of, GraphQLNamedType)
    return of


def test_the_operators_fields_lead_to_no_users_data() -> None:
    """Walk every type reachable from the operators' root fields: none is a user's, a
    consent, a session, a secret or a tenant's audit event."""
    graphql = schema._schema
    roots = [
        graphql.query_type.fields[name].type  # type: ignore[union-attr]
        for name in ("operator", "tenants", "operatorAuditEvents")
    ] + [
        graphql.mutation_type.fields[name].type  # type: ignore[union-attr]
        for name in ("operatorLogin", "setTenantSeatLimit", "suspendTenant", "reactivateTenant")
    ]
    seen: set[str] = set()
    stack = [_named(t) for t in roots]
    while stack:
        named = stack.pop()
        if named.name in seen:
            continue
        seen.add(named.name)
        if isinstance(named, GraphQLObjectType):
            stack += [_named(f.type) for f in named.fields.values()]
    forbidden = {"User", "Viewer", "Consent", "ConsentEvent", "Session", "AuditEvent", "DataRequest", "Tenant"}
    assert not seen & forbidden, seen & forbidden
    assert "TenantSummary" in seen and "OperatorAuditEvent" in seen
