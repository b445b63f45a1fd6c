"""RFC 6238 TOTP (SHA-1, 30-second steps, 6 digits) on pyotp, with the clock of this
service so tests can move it; QR codes with segno."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets
from datetime import datetime

import pyotp
import segno

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1  # one step either way


def new_secret() -> str:
    """160 random bits (RFC 4226's recommended length), base32 without padding."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def step_of(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


def code_at_step(secret: str, step: int, digits: int = DIGITS) -> str:
    return pyotp.TOTP(secret, digits=digits, interval=STEP_SECONDS, digest=hashlib.sha1).at(step * STEP_SECONDS)


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step within the allowed drift whose code this is, or None."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    current = step_of(now)
    for step in (current, current - DRIFT_STEPS, current + DRIFT_STEPS):
        if hmac.compare_digest(code_at_step(secret, step), code):
            return step
    return None


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS, issuer=issuer).provisioning_uri(
        name=account, issuer_name=issuer
    )


def qr_svg(uri: str) -> str:
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=4, xmldecl=False, svgns=True, title="TOTP enrollment")
    return out.getvalue().decode()
