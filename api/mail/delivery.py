"""Hand a message to SMTP (SMTP_URL), or write it to the log when none is configured."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from api.mail.templates import Email
from api.settings import Settings
from api.text import one_line

log = logging.getLogger("api.mail")


async def deliver(settings: Settings, email: Email) -> None:
    if not settings.smtp_url:
        if not settings.is_development:
            raise RuntimeError("SMTP_URL is not set; refusing to drop an email outside development")
        log.info("email (no SMTP_URL, development only) to=%s subject=%s\n%s", email.to, email.subject, email.body)
        return
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = email.to
    message["Subject"] = one_line(email.subject)  # a header holds one line, whatever a name held
    message.set_content(email.body)
    message["Content-Language"] = email.locale  # after set_content, which clears Content-* headers
    url = urlsplit(settings.smtp_url)
    query = parse_qs(url.query)
    implicit_tls = url.scheme == "smtps"
    await aiosmtplib.send(
        message,
        hostname=url.hostname or "localhost",
        port=url.port or (465 if implicit_tls else 25),
        username=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password else None,
        use_tls=implicit_tls,
        start_tls=True if query.get("starttls", ["false"])[0] == "true" else None,
        timeout=30,
    )
