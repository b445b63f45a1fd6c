#!/usr/bin/env python3
"""Verify a copy of an organisation's audit chain received as `audit.event` webhooks.

    python verify_audit_stream.py events.jsonl

The input holds one received webhook body per line (the JSON the endpoint was sent, after
checking its Standard Webhooks signature), in any order and with repeats (deliveries are
at least once). Exit 0 and "ok" when every event's hash matches its content and links to
the one before it; exit 1 naming the first event that does not, or the first gap. Needs
only Python 3.9+, nothing else.

Each event's `rowHash` is SHA-256 over these fields, each written as `<length>:<text>`
(`-` for null), in this order: prevHash (hex), tenantId, chainSeq, id, occurredAtMicros,
action, actorType, actorId, targetType, targetId, requestId, changesText. `prevHash` is the
`rowHash` of the event before it in the chain (empty for the first one)."""

from __future__ import annotations

import hashlib
import json
import sys


def field(value: object) -> str:
    if value is None:
        return "-"
    text = str(value)
    return f"{len(text)}:{text}"


def row_hash(event: dict) -> str:
    content = "".join(
        field(event[k])
        for k in (
            "prevHash",
            "tenantId",
            "chainSeq",
            "id",
            "occurredAtMicros",
            "action",
            "actorType",
            "actorId",
            "targetType",
            "targetId",
            "requestId",
            "changesText",
        )
    )
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def verify(lines: list[str]) -> tuple[bool, str]:
    chain: dict[int, dict] = {}
    tenants = set()
    for line in lines:
        if not line.strip():
            continue
        body = json.loads(line)
        if body.get("type") != "audit.event":
            continue
        event = body["data"]
        seq = int(event["chainSeq"])
        tenants.add(event["tenantId"])
        if seq in chain and chain[seq] != event:
            # Repeats are expected (at-least-once delivery); two different events at one
            # position are a fork.
            return False, f"two different events claim chain position {seq}"
        chain[seq] = event
    if not chain:
        return False, "no audit.event in the input"
    if len(tenants) > 1:
        return False, f"events of {len(tenants)} organisations are mixed in the input"
    if 1 in chain and chain[1]["prevHash"] != "":
        return False, "the first event of the chain links to something before it"
    previous = None
    for seq in sorted(chain):
        event = chain[seq]
        if row_hash(event) != event["rowHash"]:
            return False, f"event {event['id']} (chain position {seq}): its content does not match its hash"
        if previous is not None:
            if seq != previous["chainSeq"] + 1:
                return False, f"chain positions {previous['chainSeq'] + 1} to {seq - 1} are missing"
            if event["prevHash"] != previous["rowHash"]:
                return False, f"event {event['id']} (chain position {seq}) does not link to the event before it"
        previous = event
    first, last = min(chain), max(chain)
    return True, f"ok: chain positions {first} to {last}, {len(chain)} events"


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as handle:
        ok, message = verify(handle.readlines())
    print(message)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
