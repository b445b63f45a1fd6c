"""The purposes a new tenant starts with. Tenants edit them with upsertPurpose."""

from __future__ import annotations

from typing import TypedDict

from db.enums import LegalBasis


class DefaultPurpose(TypedDict):
    key: str
    title: str
    legal_basis: LegalBasis
    description: str


DEFAULT_PURPOSES: list[DefaultPurpose] = [
    {
        "key": "account",
        "title": "Account and service delivery",
        "legal_basis": LegalBasis.CONTRACT,
        "description": "Keeping your account, signing you in and providing the service you use.",
    },
    {
        "key": "support",
        "title": "Customer support",
        "legal_basis": LegalBasis.CONTRACT,
        "description": "Answering your questions and fixing problems you report.",
    },
    {
        "key": "fraud-prevention",
        "title": "Fraud prevention and security",
        "legal_basis": LegalBasis.LEGITIMATE_INTEREST,
        "description": "Detecting and stopping abuse of accounts and of the service.",
    },
    {
        "key": "newsletter",
        "title": "Newsletter and offers",
        "legal_basis": LegalBasis.CONSENT,
        "description": "News about the product and occasional offers by email.",
    },
    {
        "key": "renewal-reminders",
        "title": "Renewal reminders",
        "legal_basis": LegalBasis.CONSENT,
        "description": "Emails before your subscription or licence renews.",
    },
    {
        "key": "product-analytics",
        "title": "Product improvement analytics",
        "legal_basis": LegalBasis.CONSENT,
        "description": "Measuring how features are used, to improve them.",
    },
    {
        "key": "review-invitations",
        "title": "Review invitations",
        "legal_basis": LegalBasis.CONSENT,
        "description": "Occasional invitations to review the product.",
    },
]
