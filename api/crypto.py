"""Secrets at rest: random tokens kept only as hashes, and an authenticated cipher with
key ids (AES-256-GCM) for what must be read back (queued emails, TOTP secrets)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

TOKEN_BYTES = 32  # 256 bits
# Tokens of other realms start with these (operator sessions, application keys): a user's
# token never does, so every token is looked up where it belongs.
RESERVED_PREFIXES = ("op_", "ak_")


def new_token() -> tuple[str, bytes]:
    """A URL-safe random token and the SHA-256 hash that is all the database keeps.
    A fast hash suffices: the token has 256 bits of entropy, nothing to brute-force."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    while token.startswith(RESERVED_PREFIXES):  # about 1 in 130,000: draw again
        token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class Cipher:
    """AES-GCM under keys derived from SECRET_KEY per purpose. Each ciphertext names
    its key id, so a new key can be added in front while old ones still decrypt."""

    def __init__(self, secret_keys: list[bytes], purpose: str) -> None:
        if not secret_keys:
            raise ValueError("at least one secret key is needed")
        self._keys: dict[str, AESGCM] = {}
        self._purpose = purpose.encode()
        for secret in secret_keys:
            key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"account-api:" + self._purpose).derive(
                secret
            )
            kid = hashlib.sha256(key).hexdigest()[:8]
            self._keys[kid] = AESGCM(key)
        self.current_kid = next(iter(self._keys))

    def encrypt(self, plaintext: bytes) -> str:
        nonce = os.urandom(12)
        sealed = self._keys[self.current_kid].encrypt(nonce, plaintext, self._purpose)
        return f"v1.{self.current_kid}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str) -> bytes:
        version, kid, body = token.split(".", 2)
        if version != "v1" or kid not in self._keys:
            raise ValueError("unknown ciphertext version or key id")
        raw = base64.urlsafe_b64decode(body)
        return self._keys[kid].decrypt(raw[:12], raw[12:], self._purpose)


def constant_time_equal(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)
