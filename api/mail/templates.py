"""Email texts. Plain text only: nothing in them is rendered as HTML, so nothing to escape."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str


def invitation(*, to: str, tenant_name: str, username: str, link: str, valid_days: int) -> Email:
    return Email(
        to=to,
        subject=f"You have been invited to {tenant_name}",
        body=(
            f"Hello,\n\n"
            f"An administrator of {tenant_name} created an account for you with the username "
            f"{username}.\n\n"
            f"Set your password here to start using it:\n{link}\n\n"
            f"The link works once and expires in {valid_days} days. If you did not expect this "
            f"invitation, you can ignore this email.\n"
        ),
    )
