// Buying the product: the sign-up form, then the page the emailed confirmation link opens.

import { gql } from "./api.js";
import { contractFields, contractInput } from "./contract.js";
import { card, h, link } from "./dom.js";
import { field, fieldset, form } from "./forms.js";
import { page } from "./shell.js";

const SIGN_UP = `mutation($input: SignUpInput!) { signUp(input: $input) { ok errors { field message code index } } }`;
const CONFIRM = `mutation($token: String!) { confirmSignUp(input: {token: $token}) { tenantSlug username errors { field message code } } }`;

export function signUpPage() {
  page("Sign up",
    h("p", {}, "Create your organisation's account. You become its owner and can add your colleagues; nothing is created until you confirm the link we email you."),
    card("Your organisation and account",
      form([
        fieldset("Organisation",
          field("Organisation name", "organisationName", { autocomplete: "organization" }),
          field("Organisation address", "slug", { autocomplete: "off", autocapitalize: "none", spellcheck: "false",
            hint: "3 to 63 lowercase letters, digits and '-'. You type it when you log in." })),
        fieldset("Your account",
          field("Username", "username", { autocomplete: "username", autocapitalize: "none" }),
          field("Email", "email", { type: "email", autocomplete: "email" }),
          field("Password", "password", { type: "password", autocomplete: "new-password",
            hint: "At least 8 characters; a passphrase of 15 or more is best." })),
        contractFields("Contracting party (for invoices)"),
      ], "Sign up", async (data) => {
        const input = { organisationName: data.organisationName, slug: data.slug.trim(), username: data.username,
          email: data.email, password: data.password, contract: contractInput(data) };
        const result = (await gql(SIGN_UP, { input })).signUp;
        if (result.ok && !result.errors.length) checkYourEmail(data.email);
        return result;
      })),
    h("p", {}, "Already have an account? ", link("/login", "Log in")));
}

function checkYourEmail(address) {
  page("Check your email",
    h("p", { class: "alert ok", role: "status" }, `We sent a link to ${address}.`),
    h("p", {}, "Open it to create your organisation; then log in with the username and password you chose. "
      + "If nothing arrives within a few minutes, look in your spam folder or sign up again."));
}

export async function confirmSignUpPage() {
  page("Confirming your sign-up");
  const token = new URLSearchParams(location.search).get("token") || "";
  const result = (await gql(CONFIRM, { token })).confirmSignUp;
  if (result.errors.length) {
    page("This link does not work",
      h("p", { class: "alert error", role: "alert" }, result.errors.map((e) => e.message).join(" ")),
      h("p", {}, link("/signup", "Sign up again")));
    return;
  }
  page("Your organisation is ready",
    h("p", { class: "alert ok", role: "status" }, `The organisation "${result.tenantSlug}" exists, with you (${result.username}) as its owner.`),
    h("p", {}, `Log in with the organisation address ${result.tenantSlug}, your username and the password you chose.`),
    h("p", {}, link(`/login?tenant=${encodeURIComponent(result.tenantSlug)}`, "Log in", { class: "button" })));
}
