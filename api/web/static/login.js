// The public pages: logging in (with a password and the second-factor steps, or with a passkey)
// and the pages that email links open (accept invitation, reset password, verify email, unsubscribe).

import { gql } from "./api.js";
import { card, h, link } from "./dom.js";
import { currentPassword, field, form } from "./forms.js";
import { t } from "./i18n.js";
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
    field(t("Organisation"), "tenant", { autocomplete: "organization", value: tenant }),
    // "webauthn": the browser may suggest passkeys here too (see passkeyAutofill).
    field(t("Username or email"), "identifier", { autocomplete: "username webauthn" }),
    currentPassword(),
  ], t("Log in"), async (data) => {
    await autofill.stop();
    localStorage.setItem("tenant", data.tenant);
    const result = (await gql(LOGIN, data)).login;
    if (!result.errors.length) await afterLogin(result.status);
    else autofill.start(data.tenant.trim());
    return result;
  });
  const organisation = passwordForm.elements.tenant;
  organisation.addEventListener("change", () => autofill.start(organisation.value.trim()));

  // The reset-request page, with the organisation typed here filled in.
  const forgot = link("/reset-password", t("Forgot your password?"));
  const forgotFor = () => {
    const slug = organisation.value.trim();
    forgot.setAttribute("href", slug ? `/reset-password?${new URLSearchParams({ tenant: slug })}` : "/reset-password");
  };
  organisation.addEventListener("input", forgotFor);
  forgotFor();
  passwordForm.querySelector("button[type=submit]").before(h("p", { class: "forgot" }, forgot));

  // Signing in with a passkey alone: the organisation, then the passkey (it knows the account).
  const withPasskey = passkeyAction(t("Sign in with a passkey"), {
    start: async () => {
      const slug = organisation.value.trim();
      const slot = document.getElementById(`${organisation.id}-error`);
      slot.textContent = slug ? "" : t("Enter your organisation's address first.");
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

  page(t("Log in"), card(t("Your account"), passwordForm,
    passkeysSupported() ? h("div", { class: "alternative" }, h("p", { class: "muted" }, t("Or, without a password:")), withPasskey, passkeyStatus) : ""),
  h("p", {}, t("New here?"), " ", link("/signup", t("Sign up to create your organisation's account."))));
  onLeave(() => autofill.stop());
  autofill.start(tenant.trim());
}

function mfaStep() {
  page(t("Two-step verification"), card(t("Enter a code"),
    h("p", {}, t("Open your authenticator app and enter the 6-digit code, or use one of your recovery codes.")),
    form([field(t("Code"), "code", { autocomplete: "one-time-code", inputmode: "numeric" })], t("Verify"), async (data) => {
      const result = (await gql(`mutation($code: String!) { verifyMfa(input: {code: $code}) { status errors { field message code } } }`, data)).verifyMfa;
      if (!result.errors.length) await afterLogin(result.status);
      return result;
    })),
  passkeysSupported() ? card(t("Or use a passkey"), h("p", {}, t("If you added a passkey to your account, it can be your second step.")),
    passkeyAction(t("Use a passkey instead"), {
      start: async () => (await gql(BEGIN_PASSKEY_SECOND)).beginPasskeySecondFactor,
      finish: async (flowId, credential) => (await gql(VERIFY_PASSKEY, { flowId, credential })).verifyPasskey,
      done: (answer) => afterLogin(answer.status),
    })) : "");
}

function enrollmentStep() {
  page(t("Set up two-step verification"), h("p", {}, t("Your organisation requires a second factor before you continue.")), totpEnrollment(true));
}

export function acceptInvitationPage() {
  page(t("Welcome"), card(t("Choose your password"),
    h("p", {}, t("Use at least 8 characters; a passphrase of 15 or more is best.")),
    form([field(t("Password"), "password", { type: "password", autocomplete: "new-password" })], t("Set password and continue"), async (data) => {
      const result = (await gql(`mutation($token: String!, $password: String!) { acceptInvitation(input: {token: $token, password: $password}) {
        status errors { field message code } } }`, { token: token(), password: data.password })).acceptInvitation;
      if (!result.errors.length) await afterLogin(result.status);
      return result;
    })));
}

export function resetPasswordPage() {
  if (!token()) {
    // ?tenant= comes from the login page's link: the organisation typed there.
    const tenant = new URLSearchParams(location.search).get("tenant") || localStorage.getItem("tenant") || "";
    page(t("Forgot your password?"), card(t("Get a reset link"),
      h("p", {}, t("Enter your organisation's address and your account's email address. We will send you a link to choose a new password.")),
      form([field(t("Organisation"), "tenant", { autocomplete: "organization", value: tenant }), field(t("Email"), "email", { type: "email", autocomplete: "email" })],
        t("Send link"), async (data) => {
          const result = (await gql(`mutation($tenant: String!, $email: String!) { requestPasswordReset(input: {tenant: $tenant, email: $email}) { ok errors { field message code } } }`, data)).requestPasswordReset;
          return { ...result, message: t("If an account has this address, a link is on its way.") };
        })),
    h("p", {}, link("/login", t("Back to log in"))));
    return;
  }
  page(t("Choose a new password"), card(t("New password"),
    form([field(t("New password"), "newPassword", { type: "password", autocomplete: "new-password" })], t("Save password"), async (data) => {
      const result = (await gql(`mutation($token: String!, $newPassword: String!) { resetPassword(input: {token: $token, newPassword: $newPassword}) { ok errors { field message code } } }`,
        { token: token(), newPassword: data.newPassword })).resetPassword;
      return { ...result, message: t("Your password is changed and every session was signed out. You can log in now.") };
    })));
}

export async function verifyEmailPage() {
  page(t("Confirm your email address"));
  const result = (await gql(`mutation($token: String!) { verifyEmail(token: $token) { ok errors { message } } }`, { token: token() })).verifyEmail;
  document.getElementById("main").append(result.ok
    ? h("p", { class: "alert ok", role: "status" }, t("Your email address is confirmed."))
    : h("p", { class: "alert error", role: "alert" }, result.errors[0].message));
}

export function unsubscribePage() {
  page(t("Unsubscribe"), card(t("Withdraw this consent"),
    h("p", {}, t("You will not receive these emails any more. You can change this at any time in your account.")),
    form([], t("Withdraw consent"), async () => {
      const result = (await gql(`mutation($token: String!) { withdrawConsentByToken(token: $token) { ok errors { field message code } } }`, { token: token() })).withdrawConsentByToken;
      return { ...result, message: t("Done: your consent is withdrawn.") };
    })));
}
