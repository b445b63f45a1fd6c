"""Email texts, in the recipient's language with dates in their time zone. Plain text only:
nothing in them is rendered as HTML, so nothing to escape.

Each text is a message of the server's catalogue (api/locales/<locale>/LC_MESSAGES/
messages.po) whose English is the id; `Recipient.say` renders it in the recipient's locale."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from api import i18n
from api.i18n import Msg, _, ngettext


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str
    locale: str = i18n.DEFAULT_LOCALE


@dataclass(frozen=True)
class Recipient:
    """An address and how to speak to its reader."""

    address: str
    locale: str = i18n.DEFAULT_LOCALE
    time_zone: str = i18n.DEFAULT_TIME_ZONE

    def say(self, message: Msg) -> str:
        return message.in_locale(self.locale)

    def day(self, moment: datetime) -> str:
        return i18n.format_date(moment, self.locale, self.time_zone)

    def moment(self, moment: datetime) -> str:
        return i18n.format_datetime(moment, self.locale, self.time_zone)

    def email(self, subject: Msg, body: Msg) -> Email:
        return Email(to=self.address, subject=self.say(subject), body=self.say(body), locale=self.locale)


class _Account(Protocol):
    email: str
    locale: str | None
    time_zone: str | None


class _Organisation(Protocol):
    default_locale: str
    time_zone: str


def reader(address: str, locale: str | None, time_zone: str | None, tenant: _Organisation | None) -> Recipient:
    """An account's reader: its own language and time zone, else its organisation's."""
    return Recipient(
        address,
        i18n.choose(locale, tenant.default_locale if tenant else None),
        time_zone or (tenant.time_zone if tenant else None) or i18n.DEFAULT_TIME_ZONE,
    )


def recipient(user: _Account, tenant: _Organisation | None, address: str | None = None) -> Recipient:
    """The reader of an account (at its address, or at `address` it asked to move to)."""
    return reader(address or user.email, user.locale, user.time_zone, tenant)


def invitation(*, to: Recipient, tenant_name: str, username: str, link: str, expires_at: datetime) -> Email:
    return to.email(
        _("You have been invited to %(tenant)s", tenant=tenant_name),
        _(
            "Hello,\n\n"
            "An administrator of %(tenant)s created an account for you with the username %(username)s.\n\n"
            "Set your password here to start using it:\n%(link)s\n\n"
            "The link works once, until %(expires)s. If you did not expect this invitation, "
            "you can ignore this email.\n",
            tenant=tenant_name,
            username=username,
            link=link,
            expires=to.moment(expires_at),
        ),
    )


def password_reset(*, to: Recipient, tenant_name: str, link: str, expires_at: datetime) -> Email:
    return to.email(
        _("Reset your %(tenant)s password", tenant=tenant_name),
        _(
            "Hello,\n\nSomeone asked to reset the password of your %(tenant)s account. "
            "To choose a new one, open:\n%(link)s\n\n"
            "The link works once, until %(expires)s. Resetting signs you out everywhere.\n"
            "If you did not ask for this, ignore this email: your password stays as it is.\n",
            tenant=tenant_name,
            link=link,
            expires=to.moment(expires_at),
        ),
    )


def email_verification(*, to: Recipient, tenant_name: str, link: str, expires_at: datetime) -> Email:
    return to.email(
        _("Confirm your new %(tenant)s email address", tenant=tenant_name),
        _(
            "Hello,\n\nTo make this the email address of your %(tenant)s account, open:\n%(link)s\n\n"
            "The link works once, until %(expires)s. Until then nothing changes.\n",
            tenant=tenant_name,
            link=link,
            expires=to.moment(expires_at),
        ),
    )


def email_in_use(*, to: Recipient, tenant_name: str) -> Email:
    """To an address someone asked to move their account to while another account of the
    organisation already uses it: no link, nothing changes."""
    return to.email(
        _("Your %(tenant)s email address", tenant=tenant_name),
        _(
            "Hello,\n\nSomeone signed in to %(tenant)s asked to use this email address for their account. "
            "An account of the organisation already uses it, so nothing was changed.\n\n"
            "If this was you, sign in with the account that has this address instead. "
            "If it was not, you need not do anything.\n",
            tenant=tenant_name,
        ),
    )


def inactivity_warning(*, to: Recipient, tenant_name: str, erase_on: datetime, login_link: str) -> Email:
    return to.email(
        _("Your %(tenant)s account will be deleted for inactivity", tenant=tenant_name),
        _(
            "Hello,\n\nYour %(tenant)s account has not been used for a long time. %(tenant)s deletes "
            "accounts that are not used, with everything they hold, so on %(date)s "
            "this account will be deleted.\n\n"
            "To keep it, sign in before then:\n%(link)s\n\n"
            "If you cannot sign in, ask your organisation's administrator.\n",
            tenant=tenant_name,
            date=to.moment(erase_on),
            link=login_link,
        ),
    )


def email_change_notice(*, to: Recipient, tenant_name: str, new_address_hint: str) -> Email:
    return to.email(
        _("Your %(tenant)s email address is being changed", tenant=tenant_name),
        _(
            "Hello,\n\nSomeone signed in to your %(tenant)s account asked to change its email address "
            "to %(hint)s. The change takes effect once the new address is confirmed.\n\n"
            "If this was not you, change your password and tell your administrator.\n",
            tenant=tenant_name,
            hint=new_address_hint,
        ),
    )


def consent_renewal(
    *,
    to: Recipient,
    tenant_name: str,
    purpose_title: str,
    changed_at: datetime,
    manage_link: str,
    unsubscribe_link: str,
) -> Email:
    """Asks to renew a consent after a material change; carries the one-click withdrawal."""
    return to.email(
        _("%(tenant)s: please review \u201c%(purpose)s\u201d", tenant=tenant_name, purpose=purpose_title),
        _(
            "Hello,\n\nOn %(date)s %(tenant)s changed how it uses your data for \u201c%(purpose)s\u201d. "
            "The consent you gave earlier covers the old terms only. To read the new ones and decide, open:\n"
            "%(manage)s\n\n"
            "Until you decide again, nothing is sent to you for this purpose under the new terms.\n\n"
            "To withdraw this consent now, without signing in:\n%(unsubscribe)s\n",
            date=to.day(changed_at),
            tenant=tenant_name,
            purpose=purpose_title,
            manage=manage_link,
            unsubscribe=unsubscribe_link,
        ),
    )


def signup_confirmation(*, to: Recipient, slug: str, link: str, expires_at: datetime) -> Email:
    # Only the address the person chose (checked: a slug), never the free-text name: anyone
    # can sign up with anyone's address, and this email must not carry their words.
    return to.email(
        _("Confirm the sign-up of %(slug)s", slug=slug),
        _(
            "Hello,\n\nThis address was used to sign up an organisation with the address %(slug)s. "
            "Nothing has been created yet. To create it, with you as its owner, open:\n%(link)s\n\n"
            "The link works once, until %(expires)s. "
            "If you did not sign up, ignore this email: nothing will be created.\n",
            slug=slug,
            link=link,
            expires=to.moment(expires_at),
        ),
    )


def signup_slug_taken(*, to: Recipient, slug: str, signup_link: str) -> Email:
    """To the address of a sign-up whose organisation address is in use: no link."""
    return to.email(
        _("Your sign-up: choose another organisation address"),
        _(
            "Hello,\n\nThis address was used to sign up an organisation with the address %(slug)s, "
            "which another organisation already uses, so nothing was created.\n\n"
            "To sign up, choose another address:\n%(link)s\n\n"
            "If you did not sign up, ignore this email.\n",
            slug=slug,
            link=signup_link,
        ),
    )


def tenant_closed(*, to: Recipient, tenant_name: str, slug: str, closed_at: datetime, retain_until: datetime) -> Email:
    return to.email(
        _("%(tenant)s has been closed", tenant=tenant_name),
        _(
            "Hello,\n\nThe account of %(tenant)s (organisation address: %(slug)s) was closed on %(closed)s. "
            "Every user account of the organisation, with its personal data, has been deleted; "
            "no more email will be sent to its users.\n\n"
            "The contracting party's invoicing details are kept, as the law requires, until %(until)s, "
            "and are then deleted.\n",
            tenant=tenant_name,
            slug=slug,
            closed=to.day(closed_at),
            until=to.day(retain_until),
        ),
    )


def receiver_disabled(*, to: Recipient, application: bool, name: str, days: int) -> Email:
    body = (
        ngettext(
            "Hello,\n\nEvery attempt to deliver webhooks to the application %(name)s has failed for %(n)s day, "
            "so it has been disabled; new events are not sent to it.\n\n"
            "Once it answers again, enable it and replay the events since it failed.\n",
            "Hello,\n\nEvery attempt to deliver webhooks to the application %(name)s has failed for %(n)s days, "
            "so it has been disabled; new events are not sent to it.\n\n"
            "Once it answers again, enable it and replay the events since it failed.\n",
            days,
            name=name,
        )
        if application
        else ngettext(
            "Hello,\n\nEvery attempt to deliver webhooks to your organisation's endpoint %(name)s has failed "
            "for %(n)s day, so it has been disabled; new events are not sent to it.\n\n"
            "Once it answers again, enable it and replay the events since it failed.\n",
            "Hello,\n\nEvery attempt to deliver webhooks to your organisation's endpoint %(name)s has failed "
            "for %(n)s days, so it has been disabled; new events are not sent to it.\n\n"
            "Once it answers again, enable it and replay the events since it failed.\n",
            days,
            name=name,
        )
    )
    return to.email(_("Webhooks paused: %(name)s", name=name), body)


def data_requests_overdue(*, to: Recipient, tenant_name: str, count: int, link: str) -> Email:
    return to.email(
        ngettext(
            "%(tenant)s: %(n)s data request past the legal deadline",
            "%(tenant)s: %(n)s data requests past the legal deadline",
            count,
            tenant=tenant_name,
        ),
        ngettext(
            "Hello,\n\n%(n)s data subject request of %(tenant)s is past its legal due date (one month after it "
            "was made) and not yet fulfilled, usually because a connected application has not confirmed its "
            "erasure or sent its export part.\n\nSee which, and what each waits for:\n%(link)s\n",
            "Hello,\n\n%(n)s data subject requests of %(tenant)s are past their legal due date (one month after "
            "they were made) and not yet fulfilled, usually because a connected application has not confirmed "
            "its erasure or sent its export part.\n\nSee which, and what each waits for:\n%(link)s\n",
            count,
            tenant=tenant_name,
            link=link,
        ),
    )
