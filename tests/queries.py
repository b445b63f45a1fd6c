"""GraphQL operations that more than one test module sends, in one place."""

from __future__ import annotations

REQUEST_EXPORT = "mutation { requestDataExport { dataRequest { id kind status dueAt requestedAt downloadUrl } errors { field code } } }"
MY_DATA_REQUESTS = "{ viewer { dataRequests { id kind status subjectId downloadUrl downloadExpiresAt completedAt } } }"
SET_CONSENTS = (
    "mutation($i: [ConsentDecisionInput!]!) { setConsents(input: $i) {"
    " consents { purpose { key } granted version needsRenewal } errors { field code } } }"
)
CHANGE_PASSWORD = (
    "mutation($c: String!, $n: String!) { changePassword(input: {currentPassword: $c, newPassword: $n}) {"
    " ok errors { field code message } } }"
)
REQUEST_PASSWORD_RESET = (
    "mutation($t: String!, $e: String!) { requestPasswordReset(input: {tenant: $t, email: $e}) { ok errors { code } } }"
)
RESET_PASSWORD = "mutation($t: String!, $p: String!) { resetPassword(input: {token: $t, newPassword: $p}) { ok errors { field code message } } }"
