"""Where webhooks may go, against server-side request forgery.

A receiver URL is https, names a host, and reaches only public addresses: private,
loopback, link-local, shared (CGNAT), multicast and reserved ones are refused, also in
their IPv4-mapped IPv6 forms. The check runs when the URL is registered (the literal
host, and what its name resolves to) and again at every connection, on the addresses
the name resolves to *then*, and the connection goes to the address that was checked,
so a name that changes its answer between the check and the connection (DNS
rebinding) gets nowhere. Redirects are never followed.

WEBHOOK_ALLOW_LOOPBACK (development and tests only; production refuses it) admits
loopback addresses, and plain http to them."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any
from urllib.parse import SplitResult, urlsplit

import httpcore

from api.errors import ErrorCode, UserFailure
from api.i18n import _

MAX_URL = 2048
UNREACHABLE = _("This URL cannot receive webhooks: its host must resolve to public addresses only.")
RESOLVE_TIMEOUT_SECONDS = 3.0
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_6TO4 = ipaddress.ip_network("2002::/16")
_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries to (mapped, NAT64, 6to4), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if any(address in net for net in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _6TO4:
        return address.sixtofour
    return None


def address_allowed(address: IPAddress, *, allow_loopback: bool) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            return address_allowed(inner, allow_loopback=allow_loopback)
        if allow_loopback and address.is_loopback:
            return True
        # Only global unicast (2000::/3), which leaves out IPv4-compatible (::/96),
        # site-local (fec0::/10), unique-local and link-local addresses.
        return address in _GLOBAL_UNICAST and address.is_global and not address.is_multicast
    if allow_loopback and address.is_loopback:
        return True
    return address.is_global and not address.is_multicast


def _refused(message: str, field: str) -> UserFailure:
    return UserFailure.of(ErrorCode.INVALID_INPUT, message, field)


def _parts(url: str, field: str, allow_loopback: bool) -> SplitResult:
    if not url or len(url) > MAX_URL or any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise _refused(_("A receiver URL is an absolute https URL of at most %(max)s characters.", max=MAX_URL), field)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _refused(_("This is not a valid URL."), field) from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise _refused(_("A receiver URL is an absolute https URL."), field)
    if parts.username is not None or parts.password is not None:
        raise _refused(_("A receiver URL cannot carry a username or password."), field)
    if parts.fragment:
        raise _refused(_("A receiver URL has no fragment (#…)."), field)
    if not parts.hostname.isascii():
        raise _refused(_("Write an international host name in its ASCII (punycode) form, xn--…"), field)
    if port == 0:
        raise _refused(_("This is not a valid port."), field)
    if parts.scheme == "http" and not (allow_loopback and _is_loopback_name(parts.hostname)):
        raise _refused(_("A receiver URL must use https."), field)
    return parts


def _is_loopback_name(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def resolve(host: str, port: int) -> list[IPAddress]:
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(
        loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP), RESOLVE_TIMEOUT_SECONDS
    )
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos))


async def checked_url(url: str, *, field: str, allow_loopback: bool) -> str:
    """The URL, when it may receive webhooks; INVALID_INPUT saying why not."""
    parts = _parts(url.strip(), field, allow_loopback)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    elif host == "localhost" or host.endswith(".localhost"):
        addresses = [ipaddress.ip_address("127.0.0.1")]
    else:
        try:
            addresses = await resolve(host, port)
        except (OSError, TimeoutError, UnicodeError):
            addresses = []
    # One answer for a name that does not resolve and one that resolves inward: the
    # difference would map the vendor's internal names.
    if not addresses or not all(address_allowed(a, allow_loopback=allow_loopback) for a in addresses):
        raise _refused(UNREACHABLE, field)
    return parts.geturl()


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, checking every address a connection would go to."""

    def __init__(self, *, allow_loopback: bool) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allow_loopback = allow_loopback

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface)
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await resolve(host, port)
        except (OSError, TimeoutError, UnicodeError):
            addresses = []
        refused = [a for a in addresses if not address_allowed(a, allow_loopback=self._allow_loopback)]
        if not addresses or refused:
            raise httpcore.ConnectError("refused: the host does not resolve to public addresses only (non-public)")
        last: Exception | None = None
        for address in addresses:
            try:
                # TLS is then set up for `host` (SNI and certificate), on this checked address.
                return await self._inner.connect_tcp(
                    str(address), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last = error
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface)
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not receivers")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
