"""Reading who a request claims to be: the session token from `Authorization: Bearer`
or the session cookie. One parser for every route and for the cookie rule, so what the
rule checks is what the route uses; what could be read two ways is refused."""

from __future__ import annotations

from dataclasses import dataclass
from http.cookies import _unquote
from typing import Literal

from starlette.datastructures import Headers

MAX_TOKEN_LENGTH = 128


class AmbiguousCredentials(Exception):
    """Two Authorization headers, or the session cookie given more than once."""


@dataclass(frozen=True)
class Presented:
    token: str | None
    source: Literal["bearer", "cookie"] | None


NOTHING = Presented(None, None)


def cookie_values(headers: Headers, name: str) -> list[str]:
    """Every value of the cookie `name`, over all Cookie headers (HTTP/2 may split them;
    they are joined as RFC 9113 says)."""
    values = []
    for header in headers.getlist("cookie"):
        for part in header.split(";"):
            key, sep, value = part.strip().partition("=")
            if sep and key.strip() == name:
                values.append(_unquote(value.strip()))
    return values


def presented(headers: Headers, cookie_name: str) -> Presented:
    authorizations = headers.getlist("authorization")
    if len(authorizations) > 1:
        raise AmbiguousCredentials()
    if authorizations:
        scheme, _, token = authorizations[0].partition(" ")
        if scheme.lower() == "bearer":
            return Presented(token.strip() or None, "bearer")
    cookies = cookie_values(headers, cookie_name)
    if len(cookies) > 1:
        raise AmbiguousCredentials()
    return Presented(cookies[0], "cookie") if cookies and cookies[0] else NOTHING
