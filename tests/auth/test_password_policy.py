"""The password policy judges the whole password at every allowed length (8 to 256
characters) wherever a password is set, and answers PASSWORD_POLICY outside them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api import clock
from tests.helpers import ACCEPT, PASSWORD, Api, login
from tests.queries import CHANGE_PASSWORD, REQUEST_PASSWORD_RESET, RESET_PASSWORD

STRONG = "vq8#Lumen-quarry_velvet/7-oboe;harbour+kite=plum~93^lantern|ferry&cobalt@mosaic!drift%sable?tundra*quill" * 3

TOO_SHORT = "Use at least 8 characters"
TOO_LONG = "Use at most 256 characters"
GUESSABLE = "Choose a less guessable password"

# (length, what the policy says): 8 and 72+ pass the length rule; 8 characters are
# always too guessable for zxcvbn, longer ones of the passphrase are not.
BOUNDARIES = [(1, TOO_SHORT), (7, TOO_SHORT), (8, GUESSABLE), (72, None), (73, None), (256, None), (257, TOO_LONG)]


def _verdict(payload: dict) -> str | None:  # type: ignore[type-arg]
    if not payload["errors"]:
        return None
    [error] = payload["errors"]
    assert error["code"] == "PASSWORD_POLICY", error
    return next(m for m in (TOO_SHORT, TOO_LONG, GUESSABLE) if error["message"].startswith(m))


@pytest.mark.parametrize(("length", "expected"), BOUNDARIES)
async def test_accepting_an_invitation_applies_the_policy_at_every_length(
    api: Api, length: int, expected: str | None
) -> None:
    token = await api.create_tenant("acme")
    result = await api.browser().gql(ACCEPT, {"token": token, "password": STRONG[:length]})
    assert _verdict(result.payload("acceptInvitation")) == expected


async def test_changing_and_resetting_apply_the_same_policy_at_every_length(api: Api) -> None:
    owner = await api.owner("acme")
    current = PASSWORD
    for length, expected in BOUNDARIES:
        candidate = STRONG[:length] if length != 256 else STRONG[1:257]
        changed = await owner.browser.gql(CHANGE_PASSWORD, {"c": current, "n": candidate})
        assert _verdict(changed.payload("changePassword")) == expected, length
        if expected is None:
            current = candidate
    assert (await login(api.browser(), current)).ok("login")

    token = None
    for length, expected in BOUNDARIES:
        if token is None:  # a refused password leaves the link usable
            clock.advance(timedelta(minutes=61))  # past the hourly limit on reset emails
            await api.browser().gql(REQUEST_PASSWORD_RESET, {"t": "acme", "e": "owner@acme.example"})
            token = await api.queued_token("owner@acme.example")
        reset = await api.browser().gql(RESET_PASSWORD, {"t": token, "p": STRONG[2 : 2 + length]})
        assert _verdict(reset.payload("resetPassword")) == expected, length
        if expected is None:
            token = None


@pytest.mark.parametrize(
    "password",
    ["a" * 256, "password" * 32, "owner" * 51, "owneracme" * 28, "1234567890" * 25],
    ids=["one-letter", "common-word", "username", "tenant-and-username", "digits"],
)
async def test_long_passwords_built_from_guessable_parts_are_refused(api: Api, password: str) -> None:
    token = await api.create_tenant("acme")
    result = await api.browser().gql(ACCEPT, {"token": token, "password": password})
    assert _verdict(result.payload("acceptInvitation")) == GUESSABLE


async def test_a_weak_start_does_not_hide_a_strong_whole(api: Api) -> None:
    """Judging only a prefix would refuse this: the whole password is what counts."""
    token = await api.create_tenant("acme")
    result = await api.browser().gql(ACCEPT, {"token": token, "password": "y" * 100 + STRONG[:60]})
    assert _verdict(result.payload("acceptInvitation")) is None
