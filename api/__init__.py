"""Account-and-consent GraphQL API."""
