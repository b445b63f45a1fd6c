// Buying the product: the sign-up form, then the page the emailed confirmation link opens.

import { gql } from "./api.js";
import { contractFields, contractInput } from "./contract.js";
import { card, h, link } from "./dom.js";
import { field, fieldset, form } from "./forms.js";
import { t } from "./i18n.js";
import { page } from "./shell.js";

const SIGN_UP = `mutation($input: SignUpInput!) { signUp(input: $input) { ok errors { field message code index } } }`;
const CONFIRM = `mutation($token: String!) { confirmSignUp(input: {token: $token}) { tenantSlug username errors { field message code } } }`;

export function signUpPage() {
  page(t("Sign up"),
    h("p", {}, t("Create your organisation's account. You become its owner and can add your colleagues; nothing is created until you confirm the link we email you.")),
    card(t("Your organisation and account"),
      form([
        fieldset(t("Organisation"),
          field(t("Organisation name"), "organisationName", { autocomplete: "organization" }),
          field(t("Organisation address"), "slug", { autocomplete: "off", autocapitalize: "none", spellcheck: "false",
            hint: t("3 to 63 lowercase letters, digits and '-'. You type it when you log in.") })),
        fieldset(t("Your account"),
          field(t("Username"), "username", { autocomplete: "username", autocapitalize: "none" }),
          field(t("Email"), "email", { type: "email", autocomplete: "email" }),
          field(t("Password"), "password", { type: "password", autocomplete: "new-password",
            hint: t("At least 8 characters; a passphrase of 15 or more is best.") })),
        contractFields(t("Contracting party (for invoices)")),
      ], t("Sign up"), async (data) => {
        const input = { organisationName: data.organisationName, slug: data.slug.trim(), username: data.username,
          email: data.email, password: data.password, contract: contractInput(data) };
        const result = (await gql(SIGN_UP, { input })).signUp;
        if (result.ok && !result.errors.length) checkYourEmail(data.email);
        return result;
      })),
    h("p", {}, t("Already have an account?"), " ", link("/login", t("Log in"))));
}

function checkYourEmail(address) {
  page(t("Check your email"),
    h("p", { class: "alert ok", role: "status" }, t("We sent a link to {address}.", { address })),
    h("p", {}, t("Open it to create your organisation; then log in with the username and password you chose. If nothing arrives within a few minutes, look in your spam folder or sign up again.")));
}

export async function confirmSignUpPage() {
  page(t("Confirming your sign-up"));
  const token = new URLSearchParams(location.search).get("token") || "";
  const result = (await gql(CONFIRM, { token })).confirmSignUp;
  if (result.errors.length) {
    page(t("This link does not work"),
      h("p", { class: "alert error", role: "alert" }, result.errors.map((e) => e.message).join(" ")),
      h("p", {}, link("/signup", t("Sign up again"))));
    return;
  }
  page(t("Your organisation is ready"),
    h("p", { class: "alert ok", role: "status" }, t('The organisation "{slug}" exists, with you ({username}) as its owner.',
      { slug: result.tenantSlug, username: result.username })),
    h("p", {}, t("Log in with the organisation address {slug}, your username and the password you chose.", { slug: result.tenantSlug })),
    h("p", {}, link(`/login?tenant=${encodeURIComponent(result.tenantSlug)}`, t("Log in"), { class: "button" })));
}
