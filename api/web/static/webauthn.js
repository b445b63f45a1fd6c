// Passkeys in the browser (WebAuthn): the API's options arrive in their JSON form (bytes as
// base64url strings) and the browser's answers go back in theirs. The conversion is done
// here rather than with PublicKeyCredential.parse*OptionsFromJSON / toJSON(), which not
// every browser has.

import { h } from "./dom.js";
import { withRetry } from "./forms.js";
import { t } from "./i18n.js";

// Whether this browser can use passkeys at all (it needs a secure context: https or localhost).
export function passkeysSupported() {
  return Boolean(window.PublicKeyCredential && navigator.credentials && window.isSecureContext);
}

// Whether the browser can offer passkeys in the username field's autofill (conditional mediation).
export async function autofillAvailable() {
  if (!passkeysSupported() || typeof PublicKeyCredential.isConditionalMediationAvailable !== "function") return false;
  try {
    return await PublicKeyCredential.isConditionalMediationAvailable();
  } catch {
    return false;
  }
}

function bytes(base64url) {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(base64url.length / 4) * 4, "=");
  const binary = atob(base64);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function base64url(buffer) {
  const view = buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let binary = "";
  for (const b of view) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const descriptor = (d) => ({ ...d, id: bytes(d.id) });

// PublicKeyCredentialCreationOptionsJSON → what navigator.credentials.create() takes.
function creationOptions(json) {
  return { ...json, challenge: bytes(json.challenge), user: { ...json.user, id: bytes(json.user.id) },
    excludeCredentials: (json.excludeCredentials || []).map(descriptor) };
}

// PublicKeyCredentialRequestOptionsJSON → what navigator.credentials.get() takes.
function requestOptions(json) {
  return { ...json, challenge: bytes(json.challenge), allowCredentials: (json.allowCredentials || []).map(descriptor) };
}

// A PublicKeyCredential in its JSON form (RegistrationResponseJSON or AuthenticationResponseJSON).
function credentialJSON(credential) {
  const r = credential.response;
  const response = r.attestationObject
    ? { clientDataJSON: base64url(r.clientDataJSON), attestationObject: base64url(r.attestationObject),
      transports: typeof r.getTransports === "function" ? r.getTransports() : [] }
    : { clientDataJSON: base64url(r.clientDataJSON), authenticatorData: base64url(r.authenticatorData),
      signature: base64url(r.signature), userHandle: r.userHandle ? base64url(r.userHandle) : null };
  return { id: credential.id, rawId: base64url(credential.rawId), type: credential.type, response,
    clientExtensionResults: credential.getClientExtensionResults(), authenticatorAttachment: credential.authenticatorAttachment || null };
}

// Makes a passkey from the API's creation options; its answer in JSON form.
export async function createPasskey(options) {
  return credentialJSON(await navigator.credentials.create({ publicKey: creationOptions(options) }));
}

// Asks for a passkey with the API's request options; its answer in JSON form. `extra`:
// { mediation: "conditional", signal } for the autofill prompt.
export async function usePasskey(options, extra = {}) {
  return credentialJSON(await navigator.credentials.get({ publicKey: requestOptions(options), ...extra }));
}

// What to tell the user when the browser refused or the user backed out.
export function passkeyProblem(error) {
  switch (error?.name) {
    case "NotAllowedError": return t("No passkey was used: the request was cancelled or timed out.");
    case "InvalidStateError": return t("This device already holds a passkey for your account.");
    case "AbortError": return t("The passkey request was stopped.");
    case "SecurityError": return t("Passkeys cannot be used on this address.");
    case "NotSupportedError": return t("This browser or device cannot make a passkey.");
    default: return error?.message || t("The passkey could not be used.");
  }
}

// A button that runs one passkey ceremony: start() gives the API's options payload
// ({ flowId, options, errors }; or nothing to stop quietly), the browser asks for a passkey,
// finish(flowId, credential) gives the API's answer ({ errors, ... }) and done(answer) follows
// when it has no errors. Problems are shown next to the button.
export function passkeyAction(label, { start, finish, done }) {
  const status = h("div", { role: "status", "aria-live": "polite" });
  const problem = (message) => status.replaceChildren(h("p", { class: "alert error" }, message));
  const button = h("button", { type: "button", class: "secondary", onclick: async () => {
    status.replaceChildren();
    button.disabled = true;
    try {
      const begun = await start();
      if (!begun) return;
      if (begun.errors.length) return problem(begun.errors.map((e) => e.message).join(" "));
      let credential;
      try {
        credential = await usePasskey(begun.options);
      } catch (error) {
        return problem(passkeyProblem(error));
      }
      const answer = await finish(begun.flowId, credential);
      if (answer.errors.length) return problem(answer.errors.map((e) => e.message).join(" "));
      await done(answer);
    } catch (error) {
      problem(withRetry(error));
    } finally {
      button.disabled = false;
    }
  } }, label);
  return h("div", { class: "passkey-action" }, button, status);
}
