// Security: passkeys (add, rename, remove), authenticator-app (TOTP) enrollment, recovery
// codes, turning the app off.

import { gql } from "./api.js";
import { card, h, thead, when } from "./dom.js";
import { currentPassword, field, form } from "./forms.js";
import { t, tn } from "./i18n.js";
import { loadViewer, page, renderNav } from "./shell.js";
import { createPasskey, passkeyProblem, passkeysSupported } from "./webauthn.js";

function recoveryCodes(codes) {
  return h("div", {},
    h("p", {}, t("Recovery codes: each works once if you lose your phone. Keep them somewhere safe; they are not shown again.")),
    h("ul", { class: "codes", "aria-label": t("Recovery codes") }, codes.map((c) => h("li", {}, c))));
}

// Also the step after logging in when the organisation requires a second factor (requiredStep).
export function totpEnrollment(requiredStep = false) {
  const area = h("div");
  const start = h("button", { type: "button", onclick: async () => {
    let result;
    try {
      result = (await gql(`mutation { beginTotpEnrollment { secret otpauthUri qrCodeSvg errors { message } } }`)).beginTotpEnrollment;
    } catch (error) { // such as a step-up the user cancelled
      area.replaceChildren(h("p", { class: "alert error", role: "alert" }, error.message), start);
      return;
    }
    if (result.errors.length) { area.replaceChildren(h("p", { class: "alert error" }, result.errors[0].message)); return; }
    const qr = h("img", { class: "qr", alt: t("QR code for your authenticator app"), src: `data:image/svg+xml;base64,${btoa(result.qrCodeSvg)}` });
    area.replaceChildren(
      h("p", {}, t("Scan the code with your authenticator app, or type the secret in by hand.")), qr,
      h("p", {}, t("Secret:"), " ", h("code", { "data-testid": "totp-secret" }, result.secret)),
      form([field(t("Code from the app"), "code", { autocomplete: "one-time-code", inputmode: "numeric" })], t("Turn on"), async (data) => {
        const confirmed = (await gql(`mutation($code: String!) { confirmTotpEnrollment(input: {code: $code}) { recoveryCodes errors { field message code } } }`, data)).confirmTotpEnrollment;
        if (!confirmed.errors.length) {
          await loadViewer();
          renderNav();
          area.replaceChildren(h("p", { class: "alert ok", role: "status" }, t("Two-step verification is on.")), recoveryCodes(confirmed.recoveryCodes),
            requiredStep ? h("a", { href: "/account", "data-link": true }, t("Continue to your account")) : "");
        }
        return confirmed;
      }));
  } }, t("Set up an authenticator app"));
  area.append(start);
  return card(t("Authenticator app"), area);
}

const PASSKEY_FIELDS = "id name createdAt lastUsedAt aaguid backedUp backupEligible transports";
const BEGIN_REGISTRATION = `mutation { beginPasskeyRegistration { flowId options errors { field message code } } }`;
const FINISH_REGISTRATION = `mutation($flowId: ID!, $credential: JSON!, $name: String) {
  finishPasskeyRegistration(input: {flowId: $flowId, credential: $credential, name: $name}) { passkey { ${PASSKEY_FIELDS} } errors { field message code } } }`;
const RENAME = `mutation($id: ID!, $name: String!) { renamePasskey(input: {id: $id, name: $name}) { passkey { ${PASSKEY_FIELDS} } errors { field message code } } }`;
const REMOVE = `mutation($id: ID!) { removePasskey(id: $id) { ok errors { field message code } } }`;

function synced(p) {
  if (p.backedUp) return t("Synced");
  return p.backupEligible ? t("Can be synced, not yet") : t("This device only");
}

// A passkey's row, and below it a row that opens for renaming or removing it.
function passkeyRows(p) {
  const editor = h("td", { colspan: 5 });
  const editorRow = h("tr", { class: "editor", hidden: true }, editor);
  let opener = null;
  const close = () => { editorRow.hidden = true; editor.replaceChildren(); opener?.focus(); };
  const keep = (label) => h("button", { type: "button", class: "secondary", onclick: close }, label);
  // Focus goes to the name field, or to keeping the passkey (not to removing it).
  const open = (event, ...content) => {
    opener = event.currentTarget;
    editor.replaceChildren(...content);
    editorRow.hidden = false;
    editor.querySelector("input, button.secondary")?.focus();
  };
  const rename = (event) => {
    const renaming = form([field(t("New name for {name}", { name: p.name }), "name", { value: p.name, autocomplete: "off", maxlength: 64 })], t("Save name"), async (data) => {
      const result = (await gql(RENAME, { id: p.id, name: data.name })).renamePasskey;
      if (!result.errors.length) await securityPage(t("The passkey is now called “{name}”.", { name: result.passkey.name }));
      return result;
    }, { className: "inline" });
    renaming.append(keep(t("Cancel")));
    open(event, renaming);
  };
  const remove = (event) => {
    const removing = form([], t("Yes, remove it"), async () => {
      const result = (await gql(REMOVE, { id: p.id })).removePasskey;
      if (result.ok) {
        await loadViewer();
        renderNav();
        await securityPage(t("The passkey “{name}” is removed.", { name: p.name }));
      }
      return result;
    }, { className: "inline", danger: true });
    removing.append(keep(t("Keep it")));
    open(event, h("p", {}, t("Remove “{name}”? You will not be able to sign in with it any more. Remove it from the device or password manager too.", { name: p.name })), removing);
  };
  return [
    h("tr", {},
      h("td", {}, p.name), h("td", {}, when(p.createdAt)), h("td", {}, p.lastUsedAt ? when(p.lastUsedAt) : t("Never")), h("td", {}, synced(p)),
      h("td", {}, h("div", { class: "row" },
        h("button", { type: "button", class: "secondary", "aria-label": t("Rename {name}", { name: p.name }), onclick: rename }, t("Rename")),
        h("button", { type: "button", class: "secondary", "aria-label": t("Remove {name}", { name: p.name }), onclick: remove }, t("Remove"))))),
    editorRow,
  ];
}

function addPasskey() {
  return form([field(t("Name of the new passkey"), "name", { required: false, autocomplete: "off", maxlength: 64,
    hint: t("So that you can tell your passkeys apart, such as “Work laptop” or “Phone”.") })], t("Add a passkey"), async (data) => {
    const begun = (await gql(BEGIN_REGISTRATION)).beginPasskeyRegistration;
    if (begun.errors.length) return begun;
    let credential;
    try {
      credential = await createPasskey(begun.options);
    } catch (error) {
      return { errors: [{ message: passkeyProblem(error) }] };
    }
    const result = (await gql(FINISH_REGISTRATION, { flowId: begun.flowId, credential, name: data.name.trim() || null })).finishPasskeyRegistration;
    if (!result.errors.length) {
      await loadViewer();
      renderNav();
      await securityPage(t("The passkey “{name}” is added. You can sign in with it now.", { name: result.passkey.name }));
    }
    return result;
  });
}

function passkeysCard(passkeys) {
  return card(t("Passkeys"),
    h("p", {}, t("A passkey signs you in with your fingerprint, face or screen lock instead of a password, and is a second step too. It stays on your device or in your password manager, and works only on this site.")),
    passkeys.length
      ? h("table", { "aria-label": t("Your passkeys") }, thead([t("Name"), t("Added"), t("Last used"), t("Synced"), ""]), h("tbody", {}, passkeys.flatMap(passkeyRows)))
      : h("p", { class: "muted" }, t("You have no passkeys yet.")),
    passkeysSupported() ? addPasskey() : h("p", { class: "alert warning" }, t("This browser cannot make passkeys on this address.")));
}

// `notice`: what was just done, shown on top.
export async function securityPage(notice) {
  const { viewer: v } = await gql(`{ viewer { recoveryCodesRemaining user { mfaEnabled } passkeys { ${PASSKEY_FIELDS} } } }`);
  const done = notice ? h("p", { class: "alert ok", role: "status" }, notice) : "";
  // Passkeys are a second factor too (mfaEnabled); an authenticator app comes with recovery codes.
  const totpOn = v.user.mfaEnabled && (!v.passkeys.length || v.recoveryCodesRemaining > 0);
  if (!totpOn) { page(t("Security"), done, passkeysCard(v.passkeys), totpEnrollment()); return; }
  page(t("Security"), done, passkeysCard(v.passkeys),
    card(t("Two-step verification"), h("p", {}, tn("On, with an authenticator app. {n} recovery code left.",
      "On, with an authenticator app. {n} recovery codes left.", v.recoveryCodesRemaining))),
    card(t("New recovery codes"), form([currentPassword(), field(t("Code from the app or a recovery code"), "code", { autocomplete: "one-time-code" })],
      t("Make new codes"), async (data, el) => {
        const result = (await gql(`mutation($password: String!, $code: String) { regenerateRecoveryCodes(input: {password: $password, code: $code}) {
          recoveryCodes errors { field message code } } }`, data)).regenerateRecoveryCodes;
        if (!result.errors.length) el.after(recoveryCodes(result.recoveryCodes));
        return result;
      })),
    card(t("Turn off"), form([currentPassword(), field(t("Code from the app"), "code", { autocomplete: "one-time-code" })],
      t("Turn off the authenticator app"), async (data) => {
        const result = (await gql(`mutation($password: String!, $code: String!) { disableTotp(input: {password: $password, code: $code}) { ok errors { field message code } } }`, data)).disableTotp;
        if (result.ok) { await loadViewer(); renderNav(); await securityPage(t("The authenticator app is turned off.")); }
        return result;
      }, { danger: true })));
}
