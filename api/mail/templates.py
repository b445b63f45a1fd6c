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


def password_reset(*, to: str, tenant_name: str, link: str) -> Email:
    return Email(
        to=to,
        subject=f"Reset your {tenant_name} password",
        body=(
            f"Hello,\n\nSomeone asked to reset the password of your {tenant_name} account. "
            f"To choose a new one, open:\n{link}\n\n"
            "The link works once and expires in one hour. Resetting signs you out everywhere.\n"
            "If you did not ask for this, ignore this email: your password stays as it is.\n"
        ),
    )


def email_verification(*, to: str, tenant_name: str, link: str) -> Email:
    return Email(
        to=to,
        subject=f"Confirm your new {tenant_name} email address",
        body=(
            f"Hello,\n\nTo make this the email address of your {tenant_name} account, open:\n{link}\n\n"
            "The link works once and expires in 24 hours. Until then nothing changes.\n"
        ),
    )


def email_change_notice(*, to: str, tenant_name: str, new_address_hint: str) -> Email:
    return Email(
        to=to,
        subject=f"Your {tenant_name} email address is being changed",
        body=(
            f"Hello,\n\nSomeone signed in to your {tenant_name} account asked to change its email address "
            f"to {new_address_hint}. The change takes effect once the new address is confirmed.\n\n"
            "If this was not you, change your password and tell your administrator.\n"
        ),
    )


def consent_renewal(*, to: str, tenant_name: str, purpose_title: str, manage_link: str, unsubscribe_link: str) -> Email:
    """Asks to renew a consent after a material change; carries the one-click withdrawal."""
    return Email(
        to=to,
        subject=f"{tenant_name}: please review \u201c{purpose_title}\u201d",
        body=(
            f"Hello,\n\n{tenant_name} changed how it uses your data for \u201c{purpose_title}\u201d. "
            "The consent you gave earlier covers the old terms only. To read the new ones and decide, open:\n"
            f"{manage_link}\n\n"
            "Until you decide again, nothing is sent to you for this purpose under the new terms.\n\n"
            f"To withdraw this consent now, without signing in:\n{unsubscribe_link}\n"
        ),
    )
