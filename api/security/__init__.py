"""Credentials and sessions: passwords, their strength, TOTP, server-side sessions, re-authentication."""
