"""Media types of GraphQL over HTTP: which response type a request's Accept header
chooses, and whether a request body is JSON."""

from __future__ import annotations

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"

# application/json is what wildcards choose: a client gets graphql-response+json, and its
# status codes, only by naming it.
_RANGES = {GRAPHQL_RESPONSE: (GRAPHQL_RESPONSE,), JSON: (JSON, "application/*", "*/*")}


def media_type(header: str | None) -> str:
    """The type/subtype of a Content-Type header, lowercased, without parameters."""
    return (header or "").split(";", 1)[0].strip().lower()


def _acceptable(accept: str, media: str) -> tuple[float, int]:
    """The q-value the header gives `media` (its most specific matching range decides,
    RFC 9110 12.5.1) and where that range is listed; q is 0 when nothing matches."""
    ranges = _RANGES[media]
    best: tuple[int, float, int] = (len(ranges), 0.0, 0)  # (rank: lower is more specific, q, position)
    for position, item in enumerate(accept.split(",")):
        name, *parameters = (part.strip() for part in item.split(";"))
        name = name.lower()
        if name not in ranges or ranges.index(name) >= best[0]:
            continue
        q = 1.0
        for parameter in parameters:
            key, _, value = (s.strip().lower() for s in parameter.partition("="))
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
            elif key == "charset" and value.strip('"') not in ("utf-8", "utf8"):
                q = 0.0  # responses are only ever UTF-8
                break
        best = (ranges.index(name), q if 0.0 <= q <= 1.0 else 0.0, position)
    return best[1], best[2]


def negotiate(accept: str | None) -> str | None:
    """The response media type for an Accept header: application/json when there is none
    (what clients before graphql-response+json expect), else the type with the highest
    q-value, ties going to the one listed first; None when neither is acceptable."""
    if accept is None or not accept.strip():
        return JSON
    graphql_q, graphql_at = _acceptable(accept, GRAPHQL_RESPONSE)
    json_q, json_at = _acceptable(accept, JSON)
    if graphql_q > 0 and (graphql_q > json_q or (graphql_q == json_q and graphql_at < json_at)):
        return GRAPHQL_RESPONSE
    return JSON if json_q > 0 else None


def content_type(media: str) -> str:
    """The Content-Type header for a response media type: application/json exactly as
    before, graphql-response+json with the encoding the specification asks to state."""
    return JSON if media == JSON else f"{media}; charset=utf-8"
