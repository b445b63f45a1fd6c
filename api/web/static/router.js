// Routing: which page each path shows, who may see it, and in-app links and history.

import { profilePage } from "./account.js";
import { auditPage, purposesPage, requestsPage, settingsPage, usersPage } from "./admin.js";
import { consentsPage } from "./consents.js";
import { dataPage } from "./data.js";
import { h } from "./dom.js";
import { acceptInvitationPage, loginPage, resetPasswordPage, unsubscribePage, verifyEmailPage } from "./login.js";
import { securityPage } from "./security.js";
import { sessionsPage } from "./sessions.js";
import { forgetViewer, go, isAdmin, loadViewer, page, renderNav, setRouter, viewer } from "./shell.js";

const PUBLIC = { "/login": loginPage, "/accept-invitation": acceptInvitationPage, "/reset-password": resetPasswordPage,
  "/verify-email": verifyEmailPage, "/unsubscribe": unsubscribePage };
const PRIVATE = { "/account": profilePage, "/account/security": securityPage, "/account/sessions": sessionsPage,
  "/account/consents": consentsPage, "/account/data": dataPage };
const ADMIN = { "/admin/users": usersPage, "/admin/purposes": purposesPage, "/admin/audit": auditPage,
  "/admin/requests": requestsPage, "/admin/settings": settingsPage };

export async function route() {
  const path = location.pathname.replace(/\/$/, "") || "/";
  try {
    if (PUBLIC[path]) {
      renderNav();
      return await PUBLIC[path]();
    }
    if (!viewer) await loadViewer();
    if (!viewer) return go("/login");
    renderNav();
    if (path === "/") return go("/account");
    if (PRIVATE[path]) return await PRIVATE[path]();
    if (ADMIN[path] && isAdmin()) return await ADMIN[path]();
    page("Not found", h("p", {}, "There is no such page."));
  } catch (error) {
    if (error.code === "UNAUTHENTICATED") { forgetViewer(); return go("/login"); }
    page("Something went wrong", h("p", { class: "alert error", role: "alert" }, error.message));
  }
}

setRouter(route);

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-link]");
  if (link) {
    event.preventDefault();
    go(link.getAttribute("href"));
  }
});
window.addEventListener("popstate", route);
