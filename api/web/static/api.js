// The GraphQL client: one POST to /graphql with the session cookie; errors become ApiError.

export class ApiError extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join(" "));
    this.code = errors[0]?.extensions?.code;
    this.retryAfter = errors[0]?.extensions?.retryAfter;
  }
}

export async function gql(query, variables = {}) {
  const response = await fetch("/graphql", {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors?.length) throw new ApiError(body.errors);
  return body.data;
}
