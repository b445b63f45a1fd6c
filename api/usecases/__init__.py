"""Use cases that span domains: onboarding a tenant, revising a purpose, fulfilling a data request."""
