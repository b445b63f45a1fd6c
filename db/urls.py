"""Turn a libpq-style DATABASE_URL into the forms each driver wants."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


def normalise(url: str) -> str:
    """`postgres://` and `postgresql+driver://` become plain `postgresql://`."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in {"postgres", "postgresql"}:
        raise ValueError(f"DATABASE_URL must be a postgresql:// URL, got scheme {parts.scheme!r}")
    return urlunsplit(("postgresql", *parts[1:]))


def for_sqlalchemy(url: str) -> str:
    """The SQLAlchemy + asyncpg form; asyncpg does not take libpq's `sslmode` by that name."""
    parts = urlsplit(normalise(url))
    query = [(("ssl" if k == "sslmode" else k), v) for k, v in parse_qsl(parts.query)]
    return urlunsplit(("postgresql+asyncpg", parts.netloc, parts.path, urlencode(query), parts.fragment))


def for_libpq(url: str) -> str:
    """The plain form for psycopg (the job queue) and asyncpg used directly."""
    return normalise(url)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(normalise(url))
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))
