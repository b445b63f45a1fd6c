// The public pages: logging in (with the second-factor steps) and the pages that email links
// open (accept invitation, reset password, verify email, unsubscribe).

import { gql } from "./api.js";
import { card, h, link } from "./dom.js";
import { currentPassword, field, form } from "./forms.js";
import { totpEnrollment } from "./security.js";
import { go, loadViewer, page } from "./shell.js";

const token = () => new URLSearchParams(location.search).get("token") || "";

const LOGIN = `mutation($tenant: String!, $identifier: String!, $password: String!) {
  login(input: {tenant: $tenant, identifier: $identifier, password: $password}) { status errors { field message code } } }`;

function afterLogin(status) {
  if (status === "SUCCESS") return loadViewer().then(() => go("/account"));
  if (status === "MFA_REQUIRED") return mfaStep();
  if (status === "MFA_ENROLLMENT_REQUIRED") return enrollmentStep();
}

export function loginPage() {
  // ?tenant= comes from the sign-up confirmation page: the new organisation's address.
  const tenant = new URLSearchParams(location.search).get("tenant") || localStorage.getItem("tenant") || "";
  page("Log in", card("Your account",
    form([
      field("Organisation", "tenant", { autocomplete: "organization", value: tenant }),
      field("Username or email", "identifier", { autocomplete: "username" }),
      currentPassword(),
    ], "Log in", async (data) => {
      localStorage.setItem("tenant", data.tenant);
      const result = (await gql(LOGIN, data)).login;
      if (!result.errors.length) await afterLogin(result.status);
      return result;
    })),
  h("p", {}, "New here? ", link("/signup", "Sign up"), " to create your organisation's account."));
}

function mfaStep() {
  page("Two-step verification", card("Enter a code",
    h("p", {}, "Open your authenticator app and enter the 6-digit code, or use one of your recovery codes."),
    form([field("Code", "code", { autocomplete: "one-time-code", inputmode: "numeric" })], "Verify", async (data) => {
      const result = (await gql(`mutation($code: String!) { verifyMfa(input: {code: $code}) { status errors { field message code } } }`, data)).verifyMfa;
      if (!result.errors.length) await afterLogin(result.status);
      return result;
    })));
}

function enrollmentStep() {
  page("Set up two-step verification", h("p", {}, "Your organisation requires a second factor before you continue."), totpEnrollment(true));
}

export function acceptInvitationPage() {
  page("Welcome", card("Choose your password",
    h("p", {}, "Use at least 8 characters; a passphrase of 15 or more is best."),
    form([field("Password", "password", { type: "password", autocomplete: "new-password" })], "Set password and continue", async (data) => {
      const result = (await gql(`mutation($token: String!, $password: String!) { acceptInvitation(input: {token: $token, password: $password}) {
        status errors { field message code } } }`, { token: token(), password: data.password })).acceptInvitation;
      if (!result.errors.length) await afterLogin(result.status);
      return result;
    })));
}

export function resetPasswordPage() {
  if (!token()) {
    page("Forgot your password?", card("Get a reset link",
      form([field("Organisation", "tenant", { value: localStorage.getItem("tenant") || "" }), field("Email", "email", { type: "email", autocomplete: "email" })],
        "Send link", async (data) => {
          const result = (await gql(`mutation($tenant: String!, $email: String!) { requestPasswordReset(input: {tenant: $tenant, email: $email}) { ok errors { field message code } } }`, data)).requestPasswordReset;
          return { ...result, message: "If an account has this address, a link is on its way." };
        })));
    return;
  }
  page("Choose a new password", card("New password",
    form([field("New password", "newPassword", { type: "password", autocomplete: "new-password" })], "Save password", async (data) => {
      const result = (await gql(`mutation($token: String!, $newPassword: String!) { resetPassword(input: {token: $token, newPassword: $newPassword}) { ok errors { field message code } } }`,
        { token: token(), newPassword: data.newPassword })).resetPassword;
      return { ...result, message: "Your password is changed and every session was signed out. You can log in now." };
    })));
}

export async function verifyEmailPage() {
  page("Confirm your email address");
  const result = (await gql(`mutation($token: String!) { verifyEmail(token: $token) { ok errors { message } } }`, { token: token() })).verifyEmail;
  document.getElementById("main").append(result.ok
    ? h("p", { class: "alert ok", role: "status" }, "Your email address is confirmed.")
    : h("p", { class: "alert error", role: "alert" }, result.errors[0].message));
}

export function unsubscribePage() {
  page("Unsubscribe", card("Withdraw this consent",
    h("p", {}, "You will not receive these emails any more. You can change this at any time in your account."),
    form([], "Withdraw consent", async () => {
      const result = (await gql(`mutation($token: String!) { withdrawConsentByToken(token: $token) { ok errors { field message code } } }`, { token: token() })).withdrawConsentByToken;
      return { ...result, message: "Done: your consent is withdrawn." };
    })));
}
