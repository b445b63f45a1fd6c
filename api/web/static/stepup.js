// Step-up: when a sensitive action answers REAUTH_REQUIRED, a modal dialog asks the user to
// confirm it's them (the password, with a code when the account has a second factor, or a
// passkey); api.js then repeats the action. Cancelling (or Escape) leaves it undone.

import { gql, setConfirmIdentity } from "./api.js";
import { h } from "./dom.js";
import { currentPassword, field, form } from "./forms.js";
import { t, tn } from "./i18n.js";
import { passkeyAction, passkeysSupported } from "./webauthn.js";

const REAUTHENTICATE = `mutation($input: ReauthenticateInput!) { reauthenticate(input: $input) { method validUntil errors { field message code } } }`;
const BEGIN = `mutation { beginReauthentication { flowId options errors { field message code } } }`;

let asking = null; // one dialog for requests that need it at the same time
let dialogs = 0;

function confirmIdentity({ maxAgeSeconds = 600, methods = ["PASSWORD", "PASSKEY"] } = {}) {
  asking ||= ask(maxAgeSeconds, methods).finally(() => { asking = null; });
  return asking;
}

setConfirmIdentity(confirmIdentity);

function ask(maxAgeSeconds, methods) {
  return new Promise((resolve) => {
    const id = `reauth${++dialogs}`;
    let proven = false;
    const done = () => { proven = true; dialog.close(); };
    const withCode = methods.includes("PASSWORD_AND_SECOND_FACTOR");
    const minutes = Math.max(1, Math.round(maxAgeSeconds / 60));

    // Only the ways this account has are offered: a password (with a code when it has TOTP)
    // and, when it has one, a passkey. A passkey-only account is offered the passkey alone.
    const withPassword = withCode || methods.includes("PASSWORD");
    const passwordForm = withPassword ? form([
      currentPassword(),
      withCode ? field(t("Code from your authenticator app or a recovery code"), "code", { autocomplete: "one-time-code" }) : "",
    ], t("Confirm"), async (data) => {
      const input = { password: data.password, code: withCode ? data.code || null : null };
      const result = (await gql(REAUTHENTICATE, { input })).reauthenticate;
      if (!result.errors.length) done();
      return result;
    }) : "";

    const passkey = passkeyAction(t("Use a passkey"), {
      start: async () => (await gql(BEGIN)).beginReauthentication,
      finish: async (flowId, credential) => (await gql(REAUTHENTICATE, { input: { flowId, credential } })).reauthenticate,
      done,
    });
    const offerPasskey = methods.includes("PASSKEY") && passkeysSupported();
    const alternative = offerPasskey
      ? h("div", { class: "alternative" }, withPassword ? h("p", { class: "muted" }, t("Or, instead of the password:")) : "", passkey)
      : (withPassword ? "" : h("p", { class: "muted" }, t("This browser cannot use passkeys. Confirm it from a browser that can, or sign in again.")));

    const dialog = h("dialog", { class: "reauth", "aria-labelledby": `${id}-title`, "aria-describedby": `${id}-why` },
      h("h2", { id: `${id}-title` }, t("Confirm it's you")),
      h("p", { id: `${id}-why` }, tn("This action needs a recent proof of who you are, from the last minute.",
        "This action needs a recent proof of who you are, from the last {n} minutes.", minutes)),
      passwordForm,
      alternative,
      h("div", { class: "row actions" }, h("button", { type: "button", class: "secondary", onclick: () => dialog.close() }, t("Cancel"))));
    // Escape closes it too (the dialog's cancel): the action is then not done.
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(proven);
    });
    document.body.append(dialog);
    dialog.showModal();
    dialog.querySelector("input, .alternative button")?.focus();
  });
}
