// Routing: which page each path shows, who may see it, and in-app links and history.
// A tenant's user and an operator are different sessions: each sees only their own pages.

import { profilePage } from "./account.js";
import { auditPage, purposesPage, requestsPage, settingsPage, usersPage } from "./admin.js";
import { applicationsPage } from "./applications.js";
import { consentsPage } from "./consents.js";
import { dataPage } from "./data.js";
import { h } from "./dom.js";
import { onLocaleChange, t } from "./i18n.js";
import { acceptInvitationPage, loginPage, resetPasswordPage, unsubscribePage, verifyEmailPage } from "./login.js";
import { legalHoldsPage, operatorLogPage } from "./operator-log.js";
import { newTenantPage, operatorLoginPage, tenantPage, tenantsPage } from "./operators.js";
import { closedPage, closePage, contractPage } from "./organisation.js";
import { securityPage } from "./security.js";
import { sessionsPage } from "./sessions.js";
import { forgetViewer, go, isAdmin, isOwner, loadViewer, operator, page, renderNav, setRouter, viewer } from "./shell.js";
import { confirmSignUpPage, signUpPage } from "./signup.js";
import { webhooksPage } from "./webhooks.js";

const PUBLIC = { "/login": loginPage, "/accept-invitation": acceptInvitationPage, "/reset-password": resetPasswordPage,
  "/verify-email": verifyEmailPage, "/unsubscribe": unsubscribePage, "/signup": signUpPage, "/signup/confirm": confirmSignUpPage,
  "/closed": closedPage, "/operator/login": operatorLoginPage };
const PRIVATE = { "/account": profilePage, "/account/security": securityPage, "/account/sessions": sessionsPage,
  "/account/consents": consentsPage, "/account/data": dataPage };
const ADMIN = { "/admin/users": usersPage, "/admin/purposes": purposesPage, "/admin/audit": auditPage,
  "/admin/requests": requestsPage, "/admin/webhooks": webhooksPage, "/admin/settings": settingsPage };
const OWNER = { "/admin/contract": contractPage, "/admin/close": closePage };
const OPERATOR = { "/operator/tenants": tenantsPage, "/operator/tenant": tenantPage, "/operator/new-tenant": newTenantPage,
  "/operator/applications": applicationsPage, "/operator/legal-holds": legalHoldsPage, "/operator/log": operatorLogPage };

export async function route() {
  const path = location.pathname.replace(/\/$/, "") || "/";
  const forOperators = path === "/operator" || path.startsWith("/operator/");
  try {
    if (PUBLIC[path]) {
      renderNav();
      return await PUBLIC[path]();
    }
    if (!viewer && !operator) await loadViewer();
    if (forOperators) {
      if (!operator) return go(viewer ? "/account" : "/operator/login");
      renderNav();
      if (path === "/operator") return go("/operator/tenants");
      if (OPERATOR[path]) return await OPERATOR[path]();
    } else {
      if (operator) return go("/operator/tenants");
      if (!viewer) return go("/login");
      renderNav();
      if (path === "/") return go("/account");
      if (PRIVATE[path]) return await PRIVATE[path]();
      if (ADMIN[path] && isAdmin()) return await ADMIN[path]();
      if (OWNER[path] && isOwner()) return await OWNER[path]();
    }
    page(t("Not found"), h("p", {}, t("There is no such page.")));
  } catch (error) {
    if (error.code === "UNAUTHENTICATED") { forgetViewer(); return go(forOperators ? "/operator/login" : "/login"); }
    page(t("Something went wrong"), h("p", { class: "alert error", role: "alert" }, error.message));
  }
}

setRouter(route);
// Another language: the page is shown again in it (the nav and the switch with it).
onLocaleChange(() => route());

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-link]");
  if (link) {
    event.preventDefault();
    go(link.getAttribute("href"));
  }
});
window.addEventListener("popstate", route);
