// Sessions: where the user is signed in, and signing other sessions out.

import { gql } from "./api.js";
import { card, h, thead, when } from "./dom.js";
import { page } from "./shell.js";

export async function sessionsPage() {
  const { viewer: v } = await gql(`{ viewer { sessions { id current createdAt lastSeenAt expiresAt ipAddress userAgent mfaVerified } } }`);
  const revoke = (id) => async () => {
    await gql(`mutation($id: ID!) { revokeSession(id: $id) { ok errors { message } } }`, { id });
    sessionsPage();
  };
  page("Sessions", card("Where you are signed in",
    h("table", {}, thead(["Device", "IP address", "Signed in", "Last seen", "Ends", ""]),
      h("tbody", {}, v.sessions.map((s) => h("tr", { dataset: { session: s.id } },
        h("td", {}, s.userAgent || "unknown", s.current ? h("strong", {}, " (this browser)") : ""), h("td", {}, s.ipAddress || "—"),
        h("td", {}, when(s.createdAt)), h("td", {}, when(s.lastSeenAt)), h("td", {}, when(s.expiresAt)),
        h("td", {}, s.current ? "" : h("button", { type: "button", class: "secondary", onclick: revoke(s.id), "aria-label": `Sign out ${s.userAgent || "session"}` }, "Sign out")))))),
    h("p", {}, h("button", { type: "button", class: "secondary", onclick: async () => {
      await gql(`mutation { revokeOtherSessions { revokedCount } }`);
      sessionsPage();
    } }, "Sign out everywhere else"))));
}
