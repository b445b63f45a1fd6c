"""A server in production mode tells no more about its schema than its clients need."""

from __future__ import annotations

import pytest

from tests.helpers import Api


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"env": "production", "cookie_secure": True, "app_url": "https://app.test", "run_worker_in_serve": False}


async def test_no_field_suggestions_and_no_introspection(api: Api) -> None:
    browser = api.browser()
    for document, variables in [
        ("{ viewr { user { id } } }", {}),
        ("{ viewer { usr { id } } }", {}),
        ("query($s: AccountStatus) { users(status: $s) { totalCount } }", {"s": "ACTIV"}),
        ('mutation { login(input: {tenant: "a", identifer: "b", password: "c"}) { status } }', {}),
        ("query($i: LoginInpt) { __typename }", {}),
    ]:
        result = await browser.gql(document, variables)
        assert result.codes and set(result.codes) == {"BAD_USER_INPUT"}, result.body
        assert not any("Did you mean" in e["message"] for e in result.errors), result.errors
    introspection = await browser.gql("{ __schema { types { name } } }")
    assert set(introspection.codes) == {"BAD_USER_INPUT"} and introspection.data is None
