"""A software authenticator for the tests: P-256 keys, CBOR attestation objects with the
`none` format, and assertions, as a browser and a platform authenticator would produce
them (WebAuthn Level 2), written here so the service is checked against an independent
implementation, not against the library it uses."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


@dataclass
class Authenticator:
    """Holds discoverable credentials; signs as the origin it is told (the browser's job)."""

    origin: str
    aaguid: bytes = field(default_factory=lambda: bytes.fromhex("ea9b8d664d011d213ce4b6b48cb575d4"))
    credentials: list[Credential] = field(default_factory=list)
    user_verified: bool = True
    counter_step: int = 1

    def _auth_data(self, rp_id: str, flags: int, sign_count: int, attested: bytes = b"") -> bytes:
        return hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", sign_count) + attested

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False}
        ).encode()

    def create(self, options: dict[str, Any], *, origin: str | None = None) -> dict[str, Any]:
        """navigator.credentials.create() with these (JSON) creation options."""
        rp_id = options["rp"]["id"]
        key = ec.generate_private_key(ec.SECP256R1())
        numbers = key.public_key().public_numbers()
        cose = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})
        credential_id = os.urandom(32)
        flags = UP | AT | (UV if self.user_verified else 0)
        attested = self.aaguid + struct.pack(">H", len(credential_id)) + credential_id + cose
        auth_data = self._auth_data(rp_id, flags, 0, attested)
        self.credentials.append(Credential(credential_id, key, rp_id, unb64url(options["user"]["id"])))
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return {
            "id": b64url(credential_id),
            "rawId": b64url(credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})),
                "transports": ["internal", "hybrid"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        credential: Credential | None = None,
        sign_count: int | None = None,
    ) -> dict[str, Any]:
        """navigator.credentials.get() with these (JSON) request options: the allowed
        credential, or (discoverable) the first one for the relying party."""
        rp_id = options["rpId"]
        allowed = {c["id"] for c in options.get("allowCredentials") or []}
        chosen = credential or next(
            c for c in self.credentials if c.rp_id == rp_id and (not allowed or b64url(c.id) in allowed)
        )
        chosen.sign_count = chosen.sign_count + self.counter_step if sign_count is None else sign_count
        flags = UP | (UV if self.user_verified else 0)
        auth_data = self._auth_data(rp_id, flags, chosen.sign_count)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = chosen.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64url(chosen.id),
            "rawId": b64url(chosen.id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(chosen.user_handle),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
