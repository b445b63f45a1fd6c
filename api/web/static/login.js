// The public pages: logging in (with a password and the second-factor steps, or with a passkey)
// and the pages that email links open (accept invitation, reset password, verify email, unsubscribe).

import { gql } from "./api.js";
import { card, h, link } from "./dom.js";
import { currentPassword, field, form } from "./forms.js";
import { totpEnrollment } from "./security.js";
import { go, loadViewer, onLeave, page } from "./shell.js";
import { autofillAvailable, passkeyAction, passkeysSupported, usePasskey } from "./webauthn.js";

const token = () => new URLSearchParams(location.search).get("token") || "";

const LOGIN = `mutation($tenant: String!, $identifier: String!, $password: String!) {
  login(input: {tenant: $tenant, identifier: $identifier, password: $password}) { status errors { field message code } } }`;
const BEGIN_PASSKEY_LOGIN = `mutation($tenant: String!) { beginPasskeyLogin(input: {tenant: $tenant}) { flowId options errors { field message code } } }`;
const FINISH_PASSKEY_LOGIN = `mutation($flowId: ID!, $credential: JSON!) { finishPasskeyLogin(input: {flowId: $flowId, credential: $credential}) {
  status errors { field message code } } }`;
const BEGIN_PASSKEY_SECOND = `mutation { beginPasskeySecondFactor { flowId options errors { field message code } } }`;
const VERIFY_PASSKEY = `mutation($flowId: ID!, $credential: JSON!) { verifyPasskey(input: {flowId: $flowId, credential: $credential}) {
  status errors { field message code } } }`;

function afterLogin(status) {
  if (status === "SUCCESS") return loadViewer().then(() => go("/account"));
  if (status === "MFA_REQUIRED") return mfaStep();
  if (status === "MFA_ENROLLMENT_REQUIRED") return enrollmentStep();
}

const finishPasskeyLogin = async (flowId, credential) => (await gql(FINISH_PASSKEY_LOGIN, { flowId, credential })).finishPasskeyLogin;

// The browser's autofill prompt for passkeys (conditional mediation): while the login page is
// open and the organisation is known, a passkey can be picked from the username field's
// suggestions. Stopped when the password form is sent, a passkey is asked for with the button,
// or the page is left. Its failures are quiet (it is an offer), except a refused passkey.
function passkeyAutofill(problem) {
  let current = null;
  let generation = 0;
  let refused = 0;
  async function stop() {
    generation += 1;
    const running = current;
    current = null;
    if (running) {
      running.controller.abort();
      await running.finished;
    }
  }
  async function start(tenant) {
    await stop();
    const mine = generation;
    if (!tenant || !(await autofillAvailable()) || mine !== generation) return;
    const controller = new AbortController();
    const run = async () => {
      const begun = (await gql(BEGIN_PASSKEY_LOGIN, { tenant })).beginPasskeyLogin;
      if (begun.errors.length || controller.signal.aborted) return;
      const credential = await usePasskey(begun.options, { mediation: "conditional", signal: controller.signal });
      const answer = await finishPasskeyLogin(begun.flowId, credential);
      if (answer.errors.length) {
        problem(answer.errors.map((e) => e.message).join(" "));
        // A new challenge for another try (not awaited: this run must end first); a few only,
        // as an authenticator that answers by itself would go round and round.
        if (++refused < 3) start(tenant);
        return;
      }
      await afterLogin(answer.status);
    };
    current = { controller, finished: run().catch(() => {}) };
  }
  return { start, stop };
}

export function loginPage() {
  // ?tenant= comes from the sign-up confirmation page: the new organisation's address.
  const tenant = new URLSearchParams(location.search).get("tenant") || localStorage.getItem("tenant") || "";
  const passkeyStatus = h("div", { role: "status", "aria-live": "polite" });
  const autofill = passkeyAutofill((message) => passkeyStatus.replaceChildren(h("p", { class: "alert error" }, message)));
  const passwordForm = form([
    field("Organisation", "tenant", { autocomplete: "organization", value: tenant }),
    // "webauthn": the browser may suggest passkeys here too (see passkeyAutofill).
    field("Username or email", "identifier", { autocomplete: "username webauthn" }),
    currentPassword(),
  ], "Log in", async (data) => {
    await autofill.stop();
    localStorage.setItem("tenant", data.tenant);
    const result = (await gql(LOGIN, data)).login;
    if (!result.errors.length) await afterLogin(result.status);
    else autofill.start(data.tenant.trim());
    return result;
  });
  const organisation = passwordForm.elements.tenant;
  organisation.addEventListener("change", () => autofill.start(organisation.value.trim()));

  // Signing in with a passkey alone: the organisation, then the passkey (it knows the account).
  const withPasskey = passkeyAction("Sign in with a passkey", {
    start: async () => {
      const slug = organisation.value.trim();
      const slot = document.getElementById(`${organisation.id}-error`);
      slot.textContent = slug ? "" : "Enter your organisation's address first.";
      if (!slug) {
        organisation.setAttribute("aria-invalid", "true");
        organisation.focus();
        return null;
      }
      organisation.removeAttribute("aria-invalid");
      await autofill.stop(); // one passkey request at a time
      localStorage.setItem("tenant", slug);
      return (await gql(BEGIN_PASSKEY_LOGIN, { tenant: slug })).beginPasskeyLogin;
    },
    finish: finishPasskeyLogin,
    done: (answer) => afterLogin(answer.status),
  });
  withPasskey.addEventListener("click", () => passkeyStatus.replaceChildren());

  page("Log in", card("Your account", passwordForm,
    passkeysSupported() ? h("div", { class: "alternative" }, h("p", { class: "muted" }, "Or, without a password:"), withPasskey, passkeyStatus) : ""),
  h("p", {}, "New here? ", link("/signup", "Sign up"), " to create your organisation's account."));
  onLeave(() => autofill.stop());
  autofill.start(tenant.trim());
}

function mfaStep() {
  page("Two-step verification", card("Enter a code",
    h("p", {}, "Open your authenticator app and enter the 6-digit code, or use one of your recovery codes."),
    form([field("Code", "code", { autocomplete: "one-time-code", inputmode: "numeric" })], "Verify", async (data) => {
      const result = (await gql(`mutation($code: String!) { verifyMfa(input: {code: $code}) { status errors { field message code } } }`, data)).verifyMfa;
      if (!result.errors.length) await afterLogin(result.status);
      return result;
    })),
  passkeysSupported() ? card("Or use a passkey", h("p", {}, "If you added a passkey to your account, it can be your second step."),
    passkeyAction("Use a passkey instead", {
      start: async () => (await gql(BEGIN_PASSKEY_SECOND)).beginPasskeySecondFactor,
      finish: async (flowId, credential) => (await gql(VERIFY_PASSKEY, { flowId, credential })).verifyPasskey,
      done: (answer) => afterLogin(answer.status),
    })) : "");
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
