"""Helpers that let tests read like the behaviour they specify."""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import hashlib
import hmac
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
from aiosmtpd.controller import Controller

from api import clock
from api.auth.service import PASSWORD_RESET_TASK
from api.mail.outbox import open_sealed
from api.request_meta import RequestMeta
from api.settings import Settings
from api.usecases.onboarding import create_tenant
from api.work import background_work
from db.engine import make_engine, make_sessionmaker, transaction

PASSWORD = "lumen-quarry-velvet-7-oboe"


# --- mail -----------------------------------------------------------------------------


@dataclass
class Message:
    to: list[str]
    subject: str
    body: str
    language: str = "en"

    def link(self) -> str:
        match = re.search(r"https?://\S+", self.body)
        assert match, self.body
        return match.group(0)

    def token(self) -> str:
        return parse_qs(urlsplit(self.link()).query)["token"][0]


@dataclass
class Mailbox:
    port: int = 0
    messages: list[Message] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = parsed.get_content()
        with self.lock:
            self.messages.append(
                Message(list(envelope.rcpt_tos), str(parsed["Subject"]), body, str(parsed["Content-Language"]))
            )
        return "250 Message accepted for delivery"

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()

    def to(self, address: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if address.lower() in (t.lower() for t in m.to)]

    async def wait_for_one(self, address: str, wanted: Any, timeout: float = 15) -> Message:
        """The first email to `address` that `wanted(message)` accepts (others, such as an
        invitation still on its way from an earlier step, are passed over)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.to(address) if wanted(m)]
            if found:
                return found[0]
            await asyncio.sleep(0.05)
        raise AssertionError(f"no such email to {address} within {timeout}s; have {self.messages}")

    async def wait_for(self, address: str, count: int = 1, timeout: float = 15) -> list[Message]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"no email to {address} within {timeout}s; have {self.messages}")


def start_smtp() -> tuple[Mailbox, Controller]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox(port=port)
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    return box, controller


# --- GraphQL over HTTP ------------------------------------------------------------------


@dataclass
class Result:
    status: int
    body: dict[str, Any]
    response: httpx.Response

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.body.get("errors") or []

    @property
    def codes(self) -> list[str]:
        return [e["extensions"]["code"] for e in self.errors]

    def payload(self, name: str) -> dict[str, Any]:
        assert not self.errors, self.errors
        return self.data[name]

    def ok(self, name: str) -> dict[str, Any]:
        payload = self.payload(name)
        assert payload["errors"] == [], payload["errors"]
        return payload

    def user_errors(self, name: str) -> list[tuple[str | None, str]]:
        return [(e["field"], e["code"]) for e in self.payload(name)["errors"]]


class Browser:
    """One user agent with its own cookie jar."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30, headers={"user-agent": "pytest-browser/1.0"})

    @property
    def session_cookie(self) -> str | None:
        return self.http.cookies.get("session")

    async def gql(self, query: str, variables: dict[str, Any] | None = None, **headers: str) -> Result:
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        return Result(response.status_code, body, response)

    async def close(self) -> None:
        await self.http.aclose()


ADD_USER = """
mutation($input: AddUserInput!) { addUser(input: $input) {
  user { id username email displayName role status emailVerified mfaEnabled createdAt lastLoginAt }
  errors { field message code } } }
"""
ACCEPT = """
mutation($token: String!, $password: String!) { acceptInvitation(input: {token: $token, password: $password}) {
  status viewer { user { id username role status emailVerified } tenant { slug } }
  errors { field message code } } }
"""
VIEWER = "{ viewer { user { id username role status } tenant { id slug name seatLimit seatsUsed } } }"


@dataclass
class Member:
    browser: Browser
    id: str
    username: str
    email: str


class Api:
    """The running service as tests see it, plus direct database access for set-up and checks."""

    def __init__(self, base_url: str, settings: Settings, db: asyncpg.Connection, mailbox: Mailbox) -> None:
        self.base_url = base_url
        self.settings = settings
        self.db = db
        self.mailbox = mailbox
        self._browsers: list[Browser] = []
        self._engine = make_engine(settings, settings.database_url)
        self._sessionmaker = make_sessionmaker(self._engine)

    async def __aenter__(self) -> Api:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for browser in self._browsers:
            await browser.close()
        await self._engine.dispose()

    def browser(self) -> Browser:
        browser = Browser(self.base_url)
        self._browsers.append(browser)
        return browser

    async def create_tenant(self, slug: str, *, seats: int | None = None, owner: str = "owner") -> str:
        """Like `python -m api create-tenant`; returns the invitation token."""
        async with self.unit() as work:
            created = await create_tenant(
                work,
                slug=slug,
                name=f"{slug.title()} Ltd",
                owner_username=owner,
                owner_email=f"{owner}@{slug}.example",
                seats=seats,
            )
        return parse_qs(urlsplit(created.invitation_link).query)["token"][0]

    async def owner(self, slug: str = "acme", *, seats: int | None = None) -> Member:
        """A tenant whose OWNER has accepted the invitation and holds a session."""
        token = await self.create_tenant(slug, seats=seats)
        browser = self.browser()
        result = await browser.gql(ACCEPT, {"token": token, "password": PASSWORD})
        user = result.ok("acceptInvitation")["viewer"]["user"]
        return Member(browser, user["id"], user["username"], f"owner@{slug}.example")

    async def jobs_done(self, task: str = PASSWORD_RESET_TASK, timeout: float = 15) -> None:
        """Every `task` job queued so far has run (the worker runs them inside the test's
        server); fails when one failed. Reset requests queue their email from such a job."""
        deadline = time.monotonic() + timeout
        while True:
            states = dict(
                await self.db.fetch(
                    "SELECT status::text, count(*) FROM procrastinate_jobs WHERE task_name = $1 GROUP BY status", task
                )
            )
            assert not states.get("failed"), f"{task} jobs failed: {states}"
            if not states.get("todo") and not states.get("doing"):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{task} jobs not done within {timeout}s: {states}")
            await asyncio.sleep(0.02)

    async def queued_to(self, address: str) -> list[Any]:
        """The emails queued to `address`, newest first, whether sent yet or not (read from
        the job queue, decrypted with the outbox key, as the worker would), once the reset
        requests made so far have queued theirs. What was never queued can never be sent:
        tests prove an absence here, not by waiting for mail."""
        await self.jobs_done(PASSWORD_RESET_TASK)
        rows = await self.db.fetch(
            "SELECT args->>'sealed' AS sealed FROM procrastinate_jobs WHERE task_name = 'send_email' ORDER BY id DESC"
        )
        messages = [open_sealed(self.settings, row["sealed"]) for row in rows]
        return [m for m in messages if m.to.lower() == address.lower()]

    async def queued_token(self, address: str) -> str:
        """The token in the newest email queued to `address`."""
        for message in await self.queued_to(address):
            return parse_qs(urlsplit(re.search(r"https?://\S+", message.body).group(0)).query)["token"][0]  # type: ignore[union-attr]
        raise AssertionError(f"no email queued to {address}")

    async def member(self, admin: Member, username: str, *, role: str = "MEMBER", slug: str = "acme") -> Member:
        """An account added by `admin` that accepted its invitation."""
        address = f"{username}@{slug}.example"
        added = await admin.browser.gql(ADD_USER, {"input": {"username": username, "email": address, "role": role}})
        user = added.ok("addUser")["user"]
        browser = self.browser()
        accepted = await browser.gql(ACCEPT, {"token": await self.queued_token(address), "password": PASSWORD})
        accepted.ok("acceptInvitation")
        return Member(browser, user["id"], username, address)

    def transaction(self):  # type: ignore[no-untyped-def]
        """A transaction on the test database, as a background job would run one."""
        return transaction(self._sessionmaker)

    def unit(self, meta: RequestMeta | None = None):  # type: ignore[no-untyped-def]
        """A unit of work for calling services directly, as a job or the CLI does."""
        return background_work(self._sessionmaker, self.settings, meta or RequestMeta(request_id="test-setup"))

    async def count(self, table: str, where: str = "TRUE", *args: Any) -> int:
        return int(await self.db.fetchval(f"SELECT count(*) FROM {table} WHERE {where}", *args))


async def search_everywhere(api: Api, needles: list[str]) -> list[str]:
    """Where each value is found: every text-like column of every table, searched case-insensitively."""
    columns = await api.db.fetch(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'inet', 'bytea')"
    )
    found = []
    for c in columns:
        expr = (
            f"encode(\"{c['column_name']}\", 'escape')" if c["data_type"] == "bytea" else f'"{c["column_name"]}"::text'
        )
        for needle in needles:
            hits = await api.db.fetchval(
                f'SELECT count(*) FROM "{c["table_name"]}" WHERE {expr} ILIKE $1', f"%{needle}%"
            )
            if hits:
                found.append(f"{c['table_name']}.{c['column_name']} has {needle!r}")
    return found


LOGIN = """
mutation($tenant: String!, $identifier: String!, $password: String!) {
  login(input: {tenant: $tenant, identifier: $identifier, password: $password}) {
    status viewer { user { id username lastLoginAt } } errors { field message code } } }
"""
SESSIONS = "{ viewer { sessions { id current createdAt lastSeenAt expiresAt ipAddress userAgent mfaVerified } } }"


async def login(
    browser: Browser, password: str = PASSWORD, *, tenant: str = "acme", identifier: str = "owner"
) -> Result:
    return await browser.gql(LOGIN, {"tenant": tenant, "identifier": identifier, "password": password})


async def reauthenticate(browser: Browser, password: str = PASSWORD) -> None:
    """A fresh proof of identity for the browser's session (password only: an account
    without a second factor), before a sensitive action."""
    query = "mutation($p: String!) { reauthenticate(input: {password: $p}) { method errors { code } } }"
    (await browser.gql(query, {"p": password})).ok("reauthenticate")


async def seen_just_now(browser: Browser) -> None:
    """The browser's session has its once-a-minute lastSeenAt update now (the clock moved a
    minute on, one request), so the next request cannot be the one that makes it: for tests
    that count a request's SQL statements."""
    clock.advance(timedelta(minutes=1))
    await browser.gql("{ __typename }")


# --- TOTP ---------------------------------------------------------------------------

BEGIN = "mutation { beginTotpEnrollment { secret otpauthUri qrCodeSvg errors { field code } } }"
CONFIRM = "mutation($c: String!) { confirmTotpEnrollment(input: {code: $c}) { recoveryCodes errors { field code } } }"


def independent_totp(secret: str, unix_time: float, digits: int = 6) -> str:
    """RFC 6238 in a few lines of HMAC, independent of pyotp and of the service's code."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(unix_time // 30)), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return str((struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits).zfill(digits)


def code(secret: str, steps: int = 0) -> str:
    return independent_totp(secret, clock.now().timestamp() + 30 * steps)


def mid_step() -> None:
    """Move the clock on to the middle of a 30-second step: a code made now is still of the
    step it was made for when the server checks it (unless that takes 15 s), so a test of
    which steps are accepted does not depend on when it happens to run."""
    clock.advance(timedelta(seconds=(15 - clock.now().timestamp() % 30) % 30))


async def enroll(browser: Browser) -> tuple[str, list[str]]:
    begun = (await browser.gql(BEGIN)).ok("beginTotpEnrollment")
    confirmed = (await browser.gql(CONFIRM, {"c": code(begun["secret"])})).ok("confirmTotpEnrollment")
    clock.advance(timedelta(seconds=30))  # the next code belongs to a later step
    return begun["secret"], confirmed["recoveryCodes"]
