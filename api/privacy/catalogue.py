"""The purposes a new tenant starts with. Tenants edit them with upsertPurpose."""

from __future__ import annotations

from typing import TypedDict

from db.enums import LegalBasis


class DefaultPurpose(TypedDict):
    key: str
    title: str
    legal_basis: LegalBasis
    description: str
    translations: dict[str, dict[str, str]]


DEFAULT_PURPOSES: list[DefaultPurpose] = [
    {
        "key": "account",
        "title": "Account and service delivery",
        "legal_basis": LegalBasis.CONTRACT,
        "description": "Keeping your account, signing you in and providing the service you use.",
        "translations": {
            "nl": {
                "title": "Account en dienstverlening",
                "description": "Je account bijhouden, je laten inloggen en de dienst leveren die je gebruikt.",
            },
            "de": {
                "title": "Konto und Bereitstellung des Dienstes",
                "description": "Ihr Konto führen, Sie anmelden und den Dienst bereitstellen, den Sie nutzen.",
            },
        },
    },
    {
        "key": "support",
        "title": "Customer support",
        "legal_basis": LegalBasis.CONTRACT,
        "description": "Answering your questions and fixing problems you report.",
        "translations": {
            "nl": {
                "title": "Klantenservice",
                "description": "Je vragen beantwoorden en problemen oplossen die je meldt.",
            },
            "de": {
                "title": "Kundenservice",
                "description": "Ihre Fragen beantworten und Probleme beheben, die Sie melden.",
            },
        },
    },
    {
        "key": "fraud-prevention",
        "title": "Fraud prevention and security",
        "legal_basis": LegalBasis.LEGITIMATE_INTEREST,
        "description": "Detecting and stopping abuse of accounts and of the service.",
        "translations": {
            "nl": {
                "title": "Fraudepreventie en beveiliging",
                "description": "Misbruik van accounts en van de dienst opsporen en stoppen.",
            },
            "de": {
                "title": "Betrugsprävention und Sicherheit",
                "description": "Missbrauch von Konten und des Dienstes erkennen und unterbinden.",
            },
        },
    },
    {
        "key": "newsletter",
        "title": "Newsletter and offers",
        "legal_basis": LegalBasis.CONSENT,
        "description": "News about the product and occasional offers by email.",
        "translations": {
            "nl": {
                "title": "Nieuwsbrief en aanbiedingen",
                "description": "Nieuws over het product en af en toe een aanbieding per e-mail.",
            },
            "de": {
                "title": "Newsletter und Angebote",
                "description": "Neuigkeiten zum Produkt und gelegentliche Angebote per E-Mail.",
            },
        },
    },
    {
        "key": "renewal-reminders",
        "title": "Renewal reminders",
        "legal_basis": LegalBasis.CONSENT,
        "description": "Emails before your subscription or licence renews.",
        "translations": {
            "nl": {
                "title": "Herinneringen voor verlenging",
                "description": "E-mails voordat je abonnement of licentie wordt verlengd.",
            },
            "de": {
                "title": "Erinnerungen an die Verlängerung",
                "description": "E-Mails, bevor sich Ihr Abonnement oder Ihre Lizenz verlängert.",
            },
        },
    },
    {
        "key": "product-analytics",
        "title": "Product improvement analytics",
        "legal_basis": LegalBasis.CONSENT,
        "description": "Measuring how features are used, to improve them.",
        "translations": {
            "nl": {
                "title": "Analyse voor productverbetering",
                "description": "Meten hoe functies worden gebruikt, om ze te verbeteren.",
            },
            "de": {
                "title": "Analysen zur Produktverbesserung",
                "description": "Messen, wie Funktionen genutzt werden, um sie zu verbessern.",
            },
        },
    },
    {
        "key": "review-invitations",
        "title": "Review invitations",
        "legal_basis": LegalBasis.CONSENT,
        "description": "Occasional invitations to review the product.",
        "translations": {
            "nl": {
                "title": "Uitnodigingen voor reviews",
                "description": "Af en toe een uitnodiging om het product te beoordelen.",
            },
            "de": {
                "title": "Einladungen zu Bewertungen",
                "description": "Gelegentliche Einladungen, das Produkt zu bewerten.",
            },
        },
    },
]
