"""Email texts. Plain text only: nothing in them is rendered as HTML, so nothing to escape."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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


def email_in_use(*, to: str, tenant_name: str) -> Email:
    """To an address someone asked to move their account to while another account of the
    organisation already uses it: no link, nothing changes."""
    return Email(
        to=to,
        subject=f"Your {tenant_name} email address",
        body=(
            f"Hello,\n\nSomeone signed in to {tenant_name} asked to use this email address for their account. "
            "An account of the organisation already uses it, so nothing was changed.\n\n"
            "If this was you, sign in with the account that has this address instead. If it was not, you need do nothing.\n"
        ),
    )


def inactivity_warning(*, to: str, tenant_name: str, erase_on: datetime, login_link: str) -> Email:
    return Email(
        to=to,
        subject=f"Your {tenant_name} account will be deleted for inactivity",
        body=(
            f"Hello,\n\nYour {tenant_name} account has not been used for a long time. {tenant_name} deletes "
            f"accounts that are not used, with everything they hold, so on {erase_on:%d %B %Y} (UTC) "
            "this account will be deleted.\n\n"
            f"To keep it, sign in before then:\n{login_link}\n\n"
            "If you cannot sign in, ask your organisation's administrator.\n"
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


def signup_confirmation(*, to: str, slug: str, link: str, valid_hours: int) -> Email:
    # Only the address the person chose (checked: a slug), never the free-text name: anyone
    # can sign up with anyone's address, and this email must not carry their words.
    return Email(
        to=to,
        subject=f"Confirm the sign-up of {slug}",
        body=(
            f"Hello,\n\nThis address was used to sign up an organisation with the address {slug}. "
            "Nothing has been created yet. To create it, with you as its owner, open:\n"
            f"{link}\n\n"
            f"The link works once and expires in {valid_hours} hours. "
            "If you did not sign up, ignore this email: nothing will be created.\n"
        ),
    )


def signup_slug_taken(*, to: str, slug: str, signup_link: str) -> Email:
    """To the address of a sign-up whose organisation address is in use: no link."""
    return Email(
        to=to,
        subject="Your sign-up: choose another organisation address",
        body=(
            f"Hello,\n\nThis address was used to sign up an organisation with the address {slug}, "
            "which another organisation already uses, so nothing was created.\n\n"
            f"To sign up, choose another address:\n{signup_link}\n\n"
            "If you did not sign up, ignore this email.\n"
        ),
    )


def tenant_closed(*, to: str, tenant_name: str, slug: str, closed_at: datetime, retain_until: datetime) -> Email:
    return Email(
        to=to,
        subject=f"{tenant_name} has been closed",
        body=(
            f"Hello,\n\nThe account of {tenant_name} (organisation address: {slug}) was closed on "
            f"{closed_at:%d %B %Y} (UTC). Every user account of the organisation, with its personal data, "
            "has been deleted; no more email will be sent to its users.\n\n"
            "The contracting party's invoicing details are kept, as the law requires, until "
            f"{retain_until:%d %B %Y}, and are then deleted.\n"
        ),
    )


def receiver_disabled(*, to: str, what: str, name: str, days: int) -> Email:
    return Email(
        to=to,
        subject=f"Webhooks paused: {name}",
        body=(
            f"Hello,\n\nEvery attempt to deliver webhooks to {what} {name} has failed for {days} days, "
            "so it has been disabled; new events are not sent to it.\n\n"
            "Once it answers again, enable it and replay the events since it failed.\n"
        ),
    )


def data_requests_overdue(*, to: str, tenant_name: str, count: int, link: str) -> Email:
    return Email(
        to=to,
        subject=f"{tenant_name}: {count} data request{'s' if count != 1 else ''} past the legal deadline",
        body=(
            f"Hello,\n\n{count} data subject request{'s are' if count != 1 else ' is'} of {tenant_name} "
            "past its legal due date (one month after it was made) and not yet fulfilled, usually because a "
            "connected application has not confirmed its erasure or sent its export part.\n\n"
            f"See which, and what each waits for:\n{link}\n"
        ),
    )
