// The page shell: who is signed in (a tenant's user or one of the vendor's operators), the
// navigation bar, the page heading, and go().

import { gql } from "./api.js";
import { h } from "./dom.js";

// One question answers both: `viewer` is null for an operator, `operator` null for a user.
const WHO = `{ viewer { user { id username email displayName role status mfaEnabled emailVerified } tenant { name slug requireMfa } }
  operator { id username email } }`;
export let viewer = null;
export let operator = null;

export async function loadViewer() {
  ({ viewer, operator } = await gql(WHO));
  return viewer;
}

export function forgetViewer() {
  viewer = null;
  operator = null;
}

export function isAdmin() {
  return ["OWNER", "ADMIN"].includes(viewer.user.role);
}

export function isOwner() {
  return viewer.user.role === "OWNER";
}

// go() shows another page; the router registers itself here (it imports the pages, which
// import go, so it cannot be imported from this side). `state` travels with the history entry.
let route = () => {};
export function setRouter(router) {
  route = router;
}

export function go(path, state = {}) {
  history.pushState(state, "", path);
  route();
}

export function renderNav() {
  const nav = document.getElementById("nav");
  const here = location.pathname;
  const link = (href, text) => h("a", { href, "data-link": true, "aria-current": here === href ? "page" : null }, text);
  const sep = () => h("span", { class: "sep", "aria-hidden": "true" });
  if (operator) {
    nav.replaceChildren(link("/operator/tenants", "Tenants"), link("/operator/new-tenant", "New tenant"),
      link("/operator/applications", "Applications"), link("/operator/legal-holds", "Legal holds"), link("/operator/log", "Operator log"), sep(),
      h("button", { type: "button", onclick: logout }, `Log out ${operator.username}`));
    return;
  }
  if (!viewer) {
    nav.replaceChildren(here.startsWith("/operator") ? link("/operator/login", "Operator log in") : link("/login", "Log in"));
    return;
  }
  const items = [link("/account", "Profile"), link("/account/security", "Security"), link("/account/sessions", "Sessions"),
    link("/account/consents", "Consents"), link("/account/data", "My data")];
  if (isAdmin()) {
    items.push(sep(), link("/admin/users", "Users"), link("/admin/purposes", "Purposes"),
      link("/admin/audit", "Audit log"), link("/admin/requests", "Data requests"), link("/admin/webhooks", "Webhooks"),
      link("/admin/settings", "Settings"));
  }
  if (isOwner()) items.push(link("/admin/contract", "Contract"));
  items.push(sep(), h("button", { type: "button", onclick: logout }, `Log out ${viewer.user.username}`));
  nav.replaceChildren(...items);
}

async function logout() {
  const wasOperator = Boolean(operator);
  await gql("mutation { logout }");
  forgetViewer();
  go(wasOperator ? "/operator/login" : "/login");
}

// What a page started that must stop when another page is shown (a pending passkey request).
const leaving = [];
export function onLeave(stop) {
  leaving.push(stop);
}

export function page(title, ...children) {
  for (const stop of leaving.splice(0)) stop();
  document.title = `${title} · Account console`;
  const main = document.getElementById("main");
  main.replaceChildren(h("h1", {}, title), ...children);
  main.focus();
}
