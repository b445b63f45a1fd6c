// The page shell: who is signed in, the navigation bar, the page heading, and go().

import { gql } from "./api.js";
import { h } from "./dom.js";

const VIEWER = `{ viewer { user { id username email displayName role status mfaEnabled emailVerified } tenant { name slug requireMfa } } }`;
export let viewer = null;

export async function loadViewer() {
  viewer = (await gql(VIEWER)).viewer;
  return viewer;
}

export function forgetViewer() {
  viewer = null;
}

export function isAdmin() {
  return ["OWNER", "ADMIN"].includes(viewer.user.role);
}

// go() shows another page; the router registers itself here (it imports the pages, which
// import go, so it cannot be imported from this side).
let route = () => {};
export function setRouter(router) {
  route = router;
}

export function go(path) {
  history.pushState({}, "", path);
  route();
}

export function renderNav() {
  const nav = document.getElementById("nav");
  const here = location.pathname;
  const link = (href, text) => h("a", { href, "data-link": true, "aria-current": here === href ? "page" : null }, text);
  if (!viewer) {
    nav.replaceChildren(link("/login", "Log in"));
    return;
  }
  const items = [link("/account", "Profile"), link("/account/security", "Security"), link("/account/sessions", "Sessions"),
    link("/account/consents", "Consents"), link("/account/data", "My data")];
  if (isAdmin()) {
    items.push(h("span", { class: "sep", "aria-hidden": "true" }), link("/admin/users", "Users"), link("/admin/purposes", "Purposes"),
      link("/admin/audit", "Audit log"), link("/admin/requests", "Data requests"), link("/admin/settings", "Settings"));
  }
  items.push(h("span", { class: "sep", "aria-hidden": "true" }),
    h("button", { type: "button", onclick: logout }, `Log out ${viewer.user.username}`));
  nav.replaceChildren(...items);
}

async function logout() {
  await gql("mutation { logout }");
  viewer = null;
  go("/login");
}

export function page(title, ...children) {
  document.title = `${title} · Account console`;
  const main = document.getElementById("main");
  main.replaceChildren(h("h1", {}, title), ...children);
  main.focus();
}
