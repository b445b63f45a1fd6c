"""The reference console (a single-page app in ./static), served by the API in development
or when SERVE_CONSOLE=true. It talks to the public GraphQL API only."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from api import i18n

STATIC = Path(__file__).with_name("static")
PAGES = (
    "/",
    "/login",
    "/accept-invitation",
    "/reset-password",
    "/verify-email",
    "/unsubscribe",
    "/account",
    "/account/security",
    "/account/sessions",
    "/account/consents",
    "/account/data",
    "/admin/users",
    "/admin/purposes",
    "/admin/audit",
    "/admin/requests",
    "/admin/webhooks",
    "/admin/settings",
    "/admin/contract",
    "/admin/close",
    "/signup",
    "/signup/confirm",
    "/closed",
    "/operator",
    "/operator/login",
    "/operator/tenants",
    "/operator/tenant",
    "/operator/new-tenant",
    "/operator/applications",
    "/operator/legal-holds",
    "/operator/log",
)

# Only this origin's own scripts and styles; QR codes arrive as data: images.
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",  # tokens in email links stay out of Referer headers
    "cache-control": "no-store",
}


async def shell(request: Request) -> HTMLResponse:
    return HTMLResponse((STATIC / "index.html").read_text(), headers=SECURITY_HEADERS)


async def catalogue(request: Request) -> Response:
    """The console's texts in one language, {English id: text}, from the `.po` catalogues
    (api/locales/<locale>/LC_MESSAGES/console*.po); English is the ids themselves."""
    locale = request.path_params["locale"]
    if locale not in i18n.LOCALES:
        return JSONResponse({"error": "unknown locale"}, status_code=404, headers={"cache-control": "no-store"})
    return JSONResponse(
        i18n.console_messages(locale),
        headers={"cache-control": "no-cache", "content-language": locale, "x-content-type-options": "nosniff"},
    )


def routes() -> list[BaseRoute]:
    return [
        *(Route(path, shell, methods=["GET"]) for path in PAGES),
        Route("/console/i18n/{locale}.json", catalogue, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
