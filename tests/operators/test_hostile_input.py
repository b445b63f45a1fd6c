"""The operators' connections and inputs refuse what is not theirs as the others do:
forged cursors and odd values are BAD_USER_INPUT, never an internal error."""

from __future__ import annotations

from tests.helpers import Api
from tests.operators.support import OPERATOR_LOGIN, SET_SEATS, signed_in_operator
from tests.platform.test_hostile_input import HOSTILE_CURSORS, ODD_CURSORS


async def test_forged_cursors_are_bad_input_on_the_operators_connections(api: Api) -> None:
    await api.create_tenant("acme")
    staff = await signed_in_operator(api)
    queries = [
        "query($a: String) { tenants(first: 5, after: $a) { edges { cursor } } }",
        "query($a: String) { operatorAuditEvents(first: 5, after: $a) { edges { cursor } } }",
    ]
    for query in queries:
        for cursor in HOSTILE_CURSORS:
            result = await staff.gql(query, {"a": cursor})
            assert result.status == 200 and result.codes == ["BAD_USER_INPUT"], (query, cursor, result.body)
        for cursor in ODD_CURSORS:
            result = await staff.gql(query, {"a": cursor})
            assert result.status == 200 and result.codes in ([], ["BAD_USER_INPUT"]), (query, cursor, result.body)


async def test_odd_values_are_refused_without_an_internal_error(api: Api) -> None:
    staff = await signed_in_operator(api)
    huge = {"u": "x" * 5000, "p": "y" * 5000, "c": "1" * 5000}
    assert (await api.browser().gql(OPERATOR_LOGIN, huge)).user_errors("operatorLogin") == [
        (None, "INVALID_CREDENTIALS")
    ]
    result = await staff.gql(SET_SEATS, {"id": "x" * 5000, "seats": 2**31 - 1})
    assert result.status == 200 and not result.errors
    assert result.user_errors("setTenantSeatLimit") in (
        [("input.seatLimit", "INVALID_INPUT")],
        [("input.tenantId", "NOT_FOUND")],
    )
    assert (await staff.gql(SET_SEATS, {"id": "x", "seats": 2**40})).codes == ["BAD_USER_INPUT"]  # not an Int
    assert (await staff.gql('{ tenants(search: "a\\u0000b") { totalCount } }')).codes == ["BAD_USER_INPUT"]
