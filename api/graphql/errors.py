"""How errors leave the API: domain exceptions become `extensions.code`; anything
unexpected is logged with the request id and masked as INTERNAL_SERVER_ERROR."""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql import GraphQLError

from api import i18n
from api.errors import BadInput, Forbidden, NotFound, RateLimited, ReauthRequired, Unauthenticated
from api.i18n import _

log = logging.getLogger("api.graphql")
INTERNAL_MESSAGE = _("Internal server error.")

_EXPECTED: dict[type[Exception], tuple[str, str | None]] = {
    Unauthenticated: ("UNAUTHENTICATED", _("Authentication required.")),
    Forbidden: ("FORBIDDEN", _("You are not allowed to do this.")),
    NotFound: ("NOT_FOUND", _("Not found.")),
    RateLimited: ("RATE_LIMITED", None),
    BadInput: ("BAD_USER_INPUT", None),
    ReauthRequired: ("REAUTH_REQUIRED", None),
}


BAD_VALUE_MESSAGE = _("A value is malformed or out of range.")


def _is_bad_value(original: BaseException) -> bool:
    """PostgreSQL refused a value the request gave (SQLSTATE class 22, data exception:
    out of range, invalid text, ...): the request's fault, not the server's."""
    sqlstate = getattr(getattr(original, "orig", original), "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith("22")


def is_expected(error: GraphQLError) -> bool:
    original = error.original_error
    return (
        original is None or isinstance(original, GraphQLError) or type(original) in _EXPECTED or _is_bad_value(original)
    )


def internal_error(request_id: str) -> dict[str, Any]:
    """What a client sees of anything unexpected: no detail, the id to quote to support."""
    return {"message": INTERNAL_MESSAGE, "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}}


_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def format_error(
    error: GraphQLError, request_id: str, *, suggestions: bool = True, locale: str = i18n.DEFAULT_LOCALE
) -> dict[str, Any]:
    """The error as the contract shows it. Without `suggestions` (production, where
    introspection is off too) "Did you mean ...?" hints are dropped: they would list the
    schema's names to anyone who guesses near them."""
    original = error.original_error
    out: dict[str, Any] = {}
    if original is None or isinstance(original, GraphQLError):
        # Syntax, validation, variable coercion, depth/alias/token limits.
        out["message"] = error.message if suggestions else _SUGGESTION.sub("", error.message)
        extensions: dict[str, Any] = {"code": "BAD_USER_INPUT"}
    elif _is_bad_value(original):
        out["message"] = i18n.translate(BAD_VALUE_MESSAGE, locale)
        extensions = {"code": "BAD_USER_INPUT"}
    elif type(original) in _EXPECTED:
        code, message = _EXPECTED[type(original)]
        said = original.args[0] if original.args and isinstance(original.args[0], str) else str(original)
        out["message"] = i18n.translate(message or said, locale)
        extensions = {"code": code}
        if isinstance(original, RateLimited):
            extensions["retryAfter"] = original.retry_after
        if isinstance(original, ReauthRequired):
            extensions["maxAgeSeconds"] = original.max_age_seconds
            extensions["methods"] = original.methods
    else:
        masked = internal_error(request_id)
        out["message"], extensions = i18n.translate(masked["message"], locale), masked["extensions"]
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        out["path"] = error.path
    out["extensions"] = extensions
    return out


def log_unexpected(errors: list[GraphQLError]) -> None:
    for error in errors:
        if not is_expected(error):
            log.error("unhandled error in resolver at %s", error.path, exc_info=error.original_error)
