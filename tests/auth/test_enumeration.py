"""Nothing an anonymous caller can observe tells an existing account from a missing one:
not the answer, not the attempt limits, whatever spelling, padding or case is used."""

from __future__ import annotations

import pytest

from tests.helpers import Api, login
from tests.queries import REQUEST_PASSWORD_RESET

# Ways to write one identifier that all name the same account (or the same missing one).
VARIANTS = [
    lambda x: x,
    lambda x: x.upper(),
    lambda x: "  " + x,
    lambda x: x + " " * 400,
    lambda x: x + "\t\n",
    lambda x: " " * 300 + x,
    lambda x: x + "\u00a0" * 50,
    lambda x: "\u3000" + x.title(),
]


async def _answers(api: Api, identifier: str, *, tenant: str = "acme", tenant_padding: str = "") -> list[str]:
    """What 12 wrong guesses through the variants of `identifier` get, in order."""
    seen = []
    for i in range(12):
        spelled = VARIANTS[i % len(VARIANTS)](identifier)
        result = await login(api.browser(), f"wrong-{i}", tenant=tenant + tenant_padding * (i % 3), identifier=spelled)
        seen.append(result.codes[0] if result.codes else result.user_errors("login")[0][1])
    return seen


@pytest.mark.parametrize("padding", ["", " ", "\u00a0"])
async def test_existing_and_missing_accounts_meet_the_same_limit_in_every_spelling(api: Api, padding: str) -> None:
    await api.owner("acme")
    existing = await _answers(api, "owner", tenant_padding=padding)
    missing = await _answers(api, "nobody", tenant_padding=padding)
    by_email = await _answers(api, "owner@acme.example", tenant_padding=padding)
    missing_email = await _answers(api, "nobody@acme.example", tenant_padding=padding)
    expected = ["INVALID_CREDENTIALS"] * 10 + ["RATE_LIMITED"] * 2
    assert existing == missing == expected
    # The account's own budget ran out with the username's guesses, silently: the email
    # still answers like a missing address does.
    assert by_email == missing_email == expected


async def test_a_missing_tenant_answers_as_an_existing_one(api: Api) -> None:
    await api.owner("acme")
    assert await _answers(api, "owner", tenant="nosuch") == await _answers(api, "owner", tenant="acme")


async def test_overlong_identifiers_are_counted_not_waved_through(api: Api) -> None:
    await api.owner("acme")
    answers = [await login(api.browser(), "x", identifier="owner" + " " * 2000 + str(i)) for i in range(11)]
    assert answers[-1].codes == ["RATE_LIMITED"]


async def test_reset_requests_answer_and_count_alike_for_any_address(api: Api) -> None:
    await api.owner("acme")
    answers = []
    for i in range(31):
        address = "owner@acme.example" if i % 2 else f"nobody{i}@acme.example"
        result = await api.browser().gql(
            REQUEST_PASSWORD_RESET, {"t": "acme", "e": VARIANTS[i % len(VARIANTS)](address)}
        )
        answers.append(result.codes[0] if result.codes else result.data["requestPasswordReset"]["ok"])
    assert answers == [True] * 30 + ["RATE_LIMITED"]  # the client's hourly budget, not the account's


async def test_padding_past_the_longest_address_does_not_split_the_count(api: Api) -> None:
    """The old lookup cut the identifier at 320 characters before trimming, the limiter
    after: "owner" + 400 spaces + junk found the account while every padding length was
    a new key, so only existing accounts were ever limited."""
    await api.owner("acme")
    await api.owner("beta")

    async def padded(tenant: str, name: str) -> list[str]:
        seen = []
        for i in range(12):
            result = await login(api.browser(), "wrong", tenant=tenant, identifier=name + " " * (330 + i) + "#")
            seen.append(result.codes[0] if result.codes else result.user_errors("login")[0][1])
        return seen

    assert (
        await padded("acme", "owner")
        == await padded("beta", "nobody")
        == ["INVALID_CREDENTIALS"] * 10 + ["RATE_LIMITED"] * 2
    )
