// Sessions: where the user is signed in, and signing other sessions out.

import { gql } from "./api.js";
import { card, h, thead, when } from "./dom.js";
import { t } from "./i18n.js";
import { page } from "./shell.js";

export async function sessionsPage() {
  const { viewer: v } = await gql(`{ viewer { sessions { id current createdAt lastSeenAt expiresAt ipAddress userAgent mfaVerified } } }`);
  const revoke = (id) => async () => {
    await gql(`mutation($id: ID!) { revokeSession(id: $id) { ok errors { message } } }`, { id });
    sessionsPage();
  };
  page(t("Sessions"), card(t("Where you are signed in"),
    h("table", { "aria-label": t("Your sessions") }, thead([t("Device"), t("IP address"), t("Signed in"), t("Last seen"), t("Ends"), ""]),
      h("tbody", {}, v.sessions.map((s) => h("tr", { dataset: { session: s.id } },
        h("td", {}, s.userAgent || t("unknown"), s.current ? h("strong", {}, " ", t("(this browser)")) : ""), h("td", {}, s.ipAddress || "—"),
        h("td", {}, when(s.createdAt)), h("td", {}, when(s.lastSeenAt)), h("td", {}, when(s.expiresAt)),
        h("td", {}, s.current ? "" : h("button", { type: "button", class: "secondary", onclick: revoke(s.id),
          "aria-label": s.userAgent ? t("Sign out {device}", { device: s.userAgent }) : t("Sign out this session") }, t("Sign out")))))))),
    h("p", {}, h("button", { type: "button", class: "secondary", onclick: async () => {
      await gql(`mutation { revokeOtherSessions { revokedCount } }`);
      sessionsPage();
    } }, t("Sign out everywhere else"))));
}
