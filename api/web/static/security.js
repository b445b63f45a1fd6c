// Security: authenticator-app (TOTP) enrollment, recovery codes, turning two-step off.

import { gql } from "./api.js";
import { card, h } from "./dom.js";
import { currentPassword, field, form } from "./forms.js";
import { loadViewer, page, renderNav } from "./shell.js";

function recoveryCodes(codes) {
  return h("div", {},
    h("p", {}, "Recovery codes: each works once if you lose your phone. Keep them somewhere safe; they are not shown again."),
    h("ul", { class: "codes", "aria-label": "Recovery codes" }, codes.map((c) => h("li", {}, c))));
}

// Also the step after logging in when the organisation requires a second factor (requiredStep).
export function totpEnrollment(requiredStep = false) {
  const area = h("div");
  const start = h("button", { type: "button", onclick: async () => {
    const result = (await gql(`mutation { beginTotpEnrollment { secret otpauthUri qrCodeSvg errors { message } } }`)).beginTotpEnrollment;
    if (result.errors.length) { area.replaceChildren(h("p", { class: "alert error" }, result.errors[0].message)); return; }
    const qr = h("img", { class: "qr", alt: "QR code for your authenticator app", src: `data:image/svg+xml;base64,${btoa(result.qrCodeSvg)}` });
    area.replaceChildren(
      h("p", {}, "Scan the code with your authenticator app, or type the secret in by hand."), qr,
      h("p", {}, "Secret: ", h("code", { "data-testid": "totp-secret" }, result.secret)),
      form([field("Code from the app", "code", { autocomplete: "one-time-code", inputmode: "numeric" })], "Turn on", async (data) => {
        const confirmed = (await gql(`mutation($code: String!) { confirmTotpEnrollment(input: {code: $code}) { recoveryCodes errors { field message code } } }`, data)).confirmTotpEnrollment;
        if (!confirmed.errors.length) {
          await loadViewer();
          renderNav();
          area.replaceChildren(h("p", { class: "alert ok", role: "status" }, "Two-step verification is on."), recoveryCodes(confirmed.recoveryCodes),
            requiredStep ? h("a", { href: "/account", "data-link": true }, "Continue to your account") : "");
        }
        return confirmed;
      }));
  } }, "Set up an authenticator app");
  area.append(start);
  return card("Authenticator app", area);
}

export async function securityPage() {
  const { viewer: v } = await gql(`{ viewer { recoveryCodesRemaining user { mfaEnabled } } }`);
  if (!v.user.mfaEnabled) { page("Security", totpEnrollment()); return; }
  page("Security",
    card("Two-step verification", h("p", {}, `On. ${v.recoveryCodesRemaining} recovery codes left.`)),
    card("New recovery codes", form([currentPassword()], "Make new codes", async (data, el) => {
      const result = (await gql(`mutation($password: String!) { regenerateRecoveryCodes(input: {password: $password}) { recoveryCodes errors { field message code } } }`, data)).regenerateRecoveryCodes;
      if (!result.errors.length) el.after(recoveryCodes(result.recoveryCodes));
      return result;
    })),
    card("Turn off", form([currentPassword(), field("Code from the app", "code", { autocomplete: "one-time-code" })],
      "Turn off two-step verification", async (data) => {
        const result = (await gql(`mutation($password: String!, $code: String!) { disableTotp(input: {password: $password, code: $code}) { ok errors { field message code } } }`, data)).disableTotp;
        if (result.ok) { await loadViewer(); securityPage(); }
        return result;
      }, { danger: true })));
}
