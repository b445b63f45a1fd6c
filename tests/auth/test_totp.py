"""Two-factor login with TOTP (RFC 6238) and recovery codes."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta

import pytest

from api import clock
from api.crypto import Cipher
from api.security import totp
from tests.helpers import (
    BEGIN,
    CONFIRM,
    PASSWORD,
    VIEWER,
    Api,
    Browser,
    Member,
    code,
    enroll,
    independent_totp,
    login,
    mid_step,
)

VERIFY = "mutation($c: String!) { verifyMfa(input: {code: $c}) { status viewer { user { username mfaEnabled } } errors { field code } } }"
DISABLE = (
    "mutation($p: String!, $c: String!) { disableTotp(input: {password: $p, code: $c}) { ok errors { field code } } }"
)
REGENERATE = "mutation($p: String!, $c: String) { regenerateRecoveryCodes(input: {password: $p, code: $c}) { recoveryCodes errors { field code } } }"
RESET = "mutation($id: ID!) { resetUserMfa(id: $id) { ok errors { field code } } }"
REMAINING = "{ viewer { recoveryCodesRemaining user { mfaEnabled } sessions { current mfaVerified } } }"


async def pending(api: Api) -> Browser:
    browser = api.browser()
    assert (await login(browser)).ok("login")["status"] == "MFA_REQUIRED"
    return browser


@pytest.mark.parametrize(
    ("unix_time", "expected"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_rfc6238_sha1_vectors_through_the_service_code(unix_time: int, expected: str) -> None:
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp.code_at_step(secret, unix_time // 30, digits=8) == expected
    assert independent_totp(secret, unix_time, digits=8) == expected  # the test's own implementation agrees


async def test_enrollment_shows_the_secret_uri_and_qr_code_and_activates_with_a_code(api: Api) -> None:
    owner = await api.owner("acme")
    begun = (await owner.browser.gql(BEGIN)).ok("beginTotpEnrollment")
    assert len(base64.b32decode(begun["secret"] + "=" * (-len(begun["secret"]) % 8))) == 20  # 160 bits
    assert begun["otpauthUri"].startswith("otpauth://totp/Acme%20Ltd:owner?secret=" + begun["secret"])
    assert "issuer=Acme%20Ltd" in begun["otpauthUri"]
    assert begun["qrCodeSvg"].startswith("<svg") and "</svg>" in begun["qrCodeSvg"]
    assert (await owner.browser.gql(REMAINING)).data["viewer"]["user"]["mfaEnabled"] is False  # nothing active yet
    wrong = await owner.browser.gql(CONFIRM, {"c": "000000" if code(begun["secret"]) != "000000" else "111111"})
    assert wrong.user_errors("confirmTotpEnrollment") == [("input.code", "INVALID_CODE")]
    before = owner.browser.session_cookie
    confirmed = (await owner.browser.gql(CONFIRM, {"c": code(begun["secret"])})).ok("confirmTotpEnrollment")
    codes = confirmed["recoveryCodes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert owner.browser.session_cookie != before  # privilege change: new token
    state = (await owner.browser.gql(REMAINING)).data["viewer"]
    assert state["recoveryCodesRemaining"] == 10 and state["user"]["mfaEnabled"] is True
    assert [s["mfaVerified"] for s in state["sessions"] if s["current"]] == [True]
    again = await owner.browser.gql(BEGIN)
    assert again.user_errors("beginTotpEnrollment") == [(None, "ALREADY_ENABLED")]


async def test_confirming_without_an_enrollment_is_not_enabled(api: Api) -> None:
    owner = await api.owner("acme")
    assert (await owner.browser.gql(CONFIRM, {"c": "123456"})).user_errors("confirmTotpEnrollment") == [
        (None, "NOT_ENABLED")
    ]


async def test_login_then_a_code_from_an_independent_implementation(api: Api) -> None:
    owner = await api.owner("acme")
    secret, _ = await enroll(owner.browser)
    browser = api.browser()
    first = await login(browser)
    assert first.ok("login") == {"status": "MFA_REQUIRED", "viewer": None, "errors": []}
    pending_cookie = browser.session_cookie
    result = await browser.gql(VERIFY, {"c": code(secret)})
    assert result.ok("verifyMfa")["status"] == "SUCCESS"
    assert result.data["verifyMfa"]["viewer"]["user"] == {"username": "owner", "mfaEnabled": True}
    assert browser.session_cookie != pending_cookie
    assert (await browser.gql(VIEWER)).data["viewer"]["user"]["username"] == "owner"


async def test_the_pending_session_can_do_nothing_but_verify_or_log_out(api: Api) -> None:
    owner = await api.owner("acme")
    await enroll(owner.browser)
    browser = await pending(api)
    assert (await browser.gql(VIEWER)).data == {"viewer": None}
    for operation in (
        'mutation { changePassword(input: {currentPassword: "x", newPassword: "y"}) { ok } }',
        "mutation { beginTotpEnrollment { secret } }",
        "mutation { revokeOtherSessions { revokedCount } }",
        'mutation { addUser(input: {username: "zed", email: "z@acme.example"}) { user { id } } }',
        "{ users { totalCount } }",
    ):
        assert (await browser.gql(operation)).codes == ["UNAUTHENTICATED"], operation
    assert (await browser.gql("mutation { logout }")).data == {"logout": True}
    assert (await browser.gql(VERIFY, {"c": "123456"})).codes == ["UNAUTHENTICATED"]


async def test_a_full_session_cannot_call_verify_mfa(api: Api) -> None:
    owner = await api.owner("acme")
    assert (await owner.browser.gql(VERIFY, {"c": "123456"})).codes == ["UNAUTHENTICATED"]


async def test_a_code_is_accepted_once(api: Api) -> None:
    owner = await api.owner("acme")
    secret, _ = await enroll(owner.browser)
    used = code(secret)
    (await (await pending(api)).gql(VERIFY, {"c": used})).ok("verifyMfa")
    replay = await (await pending(api)).gql(VERIFY, {"c": used})
    assert replay.user_errors("verifyMfa") == [("input.code", "INVALID_CODE")]
    assert await api.count("audit_event", "action = 'mfa.code_replayed'") == 1


async def test_one_step_of_drift_is_accepted_and_two_are_not(api: Api) -> None:
    owner = await api.owner("acme")
    secret, _ = await enroll(owner.browser)
    for steps, accepted in ((+1, True), (-1, True), (+2, False), (-2, False)):
        clock.advance(timedelta(seconds=90))  # past every earlier step
        browser = await pending(api)
        mid_step()  # the server checks the code in the step it was made in
        result = await browser.gql(VERIFY, {"c": code(secret, steps)})
        if accepted:
            assert result.ok("verifyMfa")["status"] == "SUCCESS", steps
        else:
            assert result.user_errors("verifyMfa") == [("input.code", "INVALID_CODE")], steps


async def test_the_pending_session_expires_after_five_minutes(api: Api) -> None:
    owner = await api.owner("acme")
    secret, _ = await enroll(owner.browser)
    browser = await pending(api)
    clock.advance(timedelta(minutes=5, seconds=1))
    assert (await browser.gql(VERIFY, {"c": code(secret)})).codes == ["UNAUTHENTICATED"]


async def test_a_recovery_code_works_once_even_raced_by_ten_requests(api: Api) -> None:
    owner = await api.owner("acme")
    _, codes = await enroll(owner.browser)
    browsers = [await pending(api) for _ in range(10)]
    results = await asyncio.gather(*(b.gql(VERIFY, {"c": codes[0].upper().replace("-", " ")}) for b in browsers))
    statuses = sorted(r.payload("verifyMfa")["status"] or r.user_errors("verifyMfa")[0][1] for r in results)
    assert statuses == ["INVALID_CODE"] * 9 + ["SUCCESS"]
    assert (await owner.browser.gql(REMAINING)).data["viewer"]["recoveryCodesRemaining"] == 9
    assert await api.count("audit_event", "action = 'recovery_code.used'") == 1


async def test_attempts_are_limited_per_pending_session_and_exhaustion_is_audited(api: Api) -> None:
    owner = await api.owner("acme")
    secret, _ = await enroll(owner.browser)
    browser = await pending(api)
    wrong = "000000" if code(secret) != "000000" else "111111"
    fields = " ".join(f'a{i}: verifyMfa(input: {{code: "{wrong}"}}) {{ status errors {{ code }} }}' for i in range(8))
    result = await browser.gql(f"mutation {{ {fields} }}")
    assert result.codes == ["RATE_LIMITED"]  # the sixth attempt, after five wrong ones
    assert await api.count("audit_event", "action = 'mfa.failed'") == 5
    assert await api.count("audit_event", "action = 'mfa.attempts_exhausted'") == 1
    assert (await browser.gql(VERIFY, {"c": code(secret)})).codes == ["UNAUTHENTICATED"]  # that session is gone


async def test_attempts_are_limited_per_account_across_pending_sessions(api: Api) -> None:
    owner = await api.owner("acme")
    secret, _ = await enroll(owner.browser)
    wrong = "000000" if code(secret) != "000000" else "111111"
    for _ in range(2):
        browser = await pending(api)
        for _ in range(5):
            await browser.gql(VERIFY, {"c": wrong})
    last = await pending(api)
    assert (await last.gql(VERIFY, {"c": code(secret)})).codes == ["RATE_LIMITED"]


async def test_no_totp_secret_or_recovery_code_is_stored_in_clear(api: Api) -> None:
    owner = await api.owner("acme")
    secret, codes = await enroll(owner.browser)
    row = await api.db.fetchrow("SELECT secret_ciphertext, key_id, t::text AS whole FROM user_totp t")
    assert secret not in row["whole"] and secret.lower() not in row["whole"].lower()
    assert row["secret_ciphertext"].startswith(f"v1.{row['key_id']}.")
    raw_secret = base64.b32decode(secret + "=" * (-len(secret) % 8))
    assert raw_secret.hex() not in row["whole"]
    stored = await api.db.fetchval("SELECT string_agg(r::text, '|') FROM recovery_code r")
    assert not any(c.replace("-", "") in stored or c in stored for c in codes)
    audit = await api.db.fetchval("SELECT string_agg(changes::text, '|') FROM audit_event")
    assert secret not in audit and not any(c in audit for c in codes)


def test_secrets_sealed_under_an_old_key_still_open_after_rotation() -> None:
    old = Cipher([b"old-key" * 6], purpose="totp")
    sealed = old.encrypt(b"JBSWY3DPEHPK3PXP")
    rotated = Cipher([b"new-key" * 6, b"old-key" * 6], purpose="totp")
    assert rotated.decrypt(sealed) == b"JBSWY3DPEHPK3PXP"
    assert rotated.encrypt(b"x").split(".")[1] == rotated.current_kid != old.current_kid
    with pytest.raises(ValueError):
        Cipher([b"new-key" * 6], purpose="totp").decrypt(sealed)


async def test_disabling_needs_the_password_and_a_current_code(api: Api) -> None:
    owner = await api.owner("acme")
    assert (await owner.browser.gql(DISABLE, {"p": PASSWORD, "c": "123456"})).user_errors("disableTotp") == [
        (None, "NOT_ENABLED")
    ]
    secret, _ = await enroll(owner.browser)
    assert (await owner.browser.gql(DISABLE, {"p": "wrong", "c": code(secret)})).user_errors("disableTotp") == [
        ("input.password", "INVALID_CREDENTIALS")
    ]
    wrong = "000000" if code(secret) != "000000" else "111111"
    assert (await owner.browser.gql(DISABLE, {"p": PASSWORD, "c": wrong})).user_errors("disableTotp") == [
        ("input.code", "INVALID_CODE")
    ]
    (await owner.browser.gql(DISABLE, {"p": PASSWORD, "c": code(secret)})).ok("disableTotp")
    assert await api.count("user_totp") + await api.count("recovery_code") == 0
    assert (await login(api.browser())).ok("login")["status"] == "SUCCESS"


async def test_the_last_second_factor_stays_while_the_organisation_requires_one(api: Api) -> None:
    """Nor does a session verified by a factor the account no longer has count as verified
    (the requirement applies to sessions made before, as to new ones)."""
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    secret, _ = await enroll(member.browser)
    require = "mutation { updateTenantSettings(input: {requireMfa: true}) { errors { code } } }"
    (await owner.browser.gql(require)).ok("updateTenantSettings")
    refused = await member.browser.gql(DISABLE, {"p": PASSWORD, "c": code(secret)})
    assert refused.user_errors("disableTotp") == [("input.code", "LAST_SECOND_FACTOR")]
    assert (await member.browser.gql(VIEWER)).data["viewer"]["user"]["username"] == "mia"
    # The account without a factor any more (behind the API's back): its verified
    # session is no longer a full one.
    await api.db.execute("UPDATE app_user SET mfa_enabled = false WHERE username = 'mia'")
    assert (await member.browser.gql(VIEWER)).data == {"viewer": None}


async def test_regenerated_recovery_codes_replace_the_old_ones(api: Api) -> None:
    owner = await api.owner("acme")
    assert (await owner.browser.gql(REGENERATE, {"p": PASSWORD})).user_errors("regenerateRecoveryCodes") == [
        (None, "NOT_ENABLED")
    ]
    secret, old_codes = await enroll(owner.browser)
    assert (await owner.browser.gql(REGENERATE, {"p": "wrong", "c": code(secret)})).user_errors(
        "regenerateRecoveryCodes"
    ) == [("input.password", "INVALID_CREDENTIALS")]
    assert (await owner.browser.gql(REGENERATE, {"p": PASSWORD})).user_errors("regenerateRecoveryCodes") == [
        ("input.code", "INVALID_CODE")
    ]
    new_codes = (await owner.browser.gql(REGENERATE, {"p": PASSWORD, "c": code(secret)})).ok("regenerateRecoveryCodes")[
        "recoveryCodes"
    ]
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert (await (await pending(api)).gql(VERIFY, {"c": old_codes[0]})).user_errors("verifyMfa") == [
        ("input.code", "INVALID_CODE")
    ]
    assert (await (await pending(api)).gql(VERIFY, {"c": new_codes[0]})).ok("verifyMfa")["status"] == "SUCCESS"


async def test_an_admin_resets_a_lost_authenticator_and_revokes_sessions(api: Api) -> None:
    owner = await api.owner("acme")
    admin = await api.member(owner, "ada", role="ADMIN")
    member = await api.member(owner, "mia")
    assert (await admin.browser.gql(RESET, {"id": member.id})).user_errors("resetUserMfa") == [("id", "NOT_ENABLED")]
    await enroll(member.browser)
    assert (await member.browser.gql(RESET, {"id": member.id})).codes == ["FORBIDDEN"]
    globex = await api.owner("globex")
    assert (await globex.browser.gql(RESET, {"id": member.id})).user_errors("resetUserMfa") == [("id", "NOT_FOUND")]
    (await admin.browser.gql(RESET, {"id": member.id})).ok("resetUserMfa")
    assert (await member.browser.gql(VIEWER)).data["viewer"] is None
    relogin = await login(api.browser(), identifier="mia")
    assert relogin.ok("login")["status"] == "SUCCESS"
    await enroll(owner.browser)
    assert (await admin.browser.gql(RESET, {"id": owner.id})).codes == ["FORBIDDEN"]  # only an owner resets an owner


async def test_a_tenant_that_requires_2fa_makes_users_enroll_first(api: Api) -> None:
    owner = await api.owner("acme")
    member: Member = await api.member(owner, "mia")
    require = "mutation { updateTenantSettings(input: {requireMfa: true}) { errors { code } } }"
    (await owner.browser.gql(require)).ok("updateTenantSettings")
    browser = api.browser()
    result = await login(browser, identifier="mia")
    assert result.ok("login") == {"status": "MFA_ENROLLMENT_REQUIRED", "viewer": None, "errors": []}
    assert (await browser.gql(VIEWER)).data == {"viewer": None}
    assert (await browser.gql("mutation { revokeOtherSessions { revokedCount } }")).codes == ["UNAUTHENTICATED"]
    secret, _ = await enroll(browser)
    assert (await browser.gql(VIEWER)).data["viewer"]["user"]["username"] == "mia"
    next_time = api.browser()
    assert (await login(next_time, identifier="mia")).ok("login")["status"] == "MFA_REQUIRED"
    assert (await next_time.gql(VERIFY, {"c": code(secret)})).ok("verifyMfa")["status"] == "SUCCESS"
    assert member.id


async def test_changing_second_factors_needs_a_second_factor_and_every_guess_counts(api: Api) -> None:
    """A stolen session with the password is not enough: disabling and new recovery codes
    need a code, and code guesses there count against the same budget as at login, which
    a right password does not wipe out."""
    owner = await api.owner("acme")
    secret, _ = await enroll(owner.browser)
    wrong = lambda i: f"{(int(code(secret)) + 1 + i) % 1_000_000:06d}"  # noqa: E731
    answers = []
    for i in range(11):
        attempt = DISABLE if i % 2 else REGENERATE
        result = await owner.browser.gql(attempt, {"p": PASSWORD, "c": wrong(i)})
        name = "disableTotp" if i % 2 else "regenerateRecoveryCodes"
        answers.append(result.codes[0] if result.codes else result.user_errors(name)[0][1])
    assert answers == ["INVALID_CODE"] * 10 + ["RATE_LIMITED"]
    assert (await owner.browser.gql(DISABLE, {"p": PASSWORD, "c": code(secret)})).codes == ["RATE_LIMITED"]
    assert await api.count("user_totp", "confirmed_at IS NOT NULL") == 1


async def test_administrators_cannot_reset_their_own_second_factor(api: Api) -> None:
    owner = await api.owner("acme")
    admin = await api.member(owner, "ada", role="ADMIN")
    await enroll(owner.browser)
    await enroll(admin.browser)
    for who in (owner, admin):
        assert (await who.browser.gql(RESET, {"id": who.id})).codes == ["FORBIDDEN"]
    assert await api.count("user_totp", "confirmed_at IS NOT NULL") == 2
