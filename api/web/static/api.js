// The GraphQL client: one POST to /graphql with the session cookie; errors become ApiError.
// A sensitive action may answer REAUTH_REQUIRED (the session's proof of who is there is too
// old or too weak): gql() then asks the user to confirm it's them (stepup.js registers the
// dialog) and repeats the request, so pages get its answer as if nothing had happened.
// Every request names the console's language (Accept-Language), so the server's messages come
// back in it, also before signing in.

import { locale, t } from "./i18n.js";

export class ApiError extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join(" "));
    this.code = errors[0]?.extensions?.code;
    this.retryAfter = errors[0]?.extensions?.retryAfter;
  }
}

// Resolves true once the session has a fresh proof, false when the user cancelled.
let confirmIdentity = null;
export function setConfirmIdentity(ask) {
  confirmIdentity = ask;
}

async function post(query, variables) {
  const response = await fetch("/graphql", {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", "accept-language": locale() },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}

export async function gql(query, variables = {}) {
  const body = await post(query, variables);
  const reauth = body.errors?.find((e) => e.extensions?.code === "REAUTH_REQUIRED");
  if (reauth && confirmIdentity) {
    if (await confirmIdentity(reauth.extensions)) return gql(query, variables);
    throw new ApiError([{ message: t("Not done: you did not confirm it's you."), extensions: { code: "REAUTH_CANCELLED" } }]);
  }
  if (body.errors?.length) throw new ApiError(body.errors);
  return body.data;
}
