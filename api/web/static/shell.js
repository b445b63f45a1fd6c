// The page shell: who is signed in (a tenant's user or one of the vendor's operators), the
// navigation bar, the language switch, the page heading, and go().

import { gql } from "./api.js";
import { h } from "./dom.js";
import { LOCALES, locale, setLocale, setTimeZone, t, useAccountLocale } from "./i18n.js";

// One question answers both: `viewer` is null for an operator, `operator` null for a user.
const WHO = `{ viewer { locale timeZone user { id username email displayName role status mfaEnabled emailVerified locale timeZone }
  tenant { name slug requireMfa } }
  operator { id username email } }`;
export let viewer = null;
export let operator = null;

// Signed in, the account's language and time zone are the console's.
export async function loadViewer() {
  ({ viewer, operator } = await gql(WHO));
  if (viewer) await useAccountLocale(viewer.locale, viewer.timeZone);
  return viewer;
}

export function forgetViewer() {
  viewer = null;
  operator = null;
  setTimeZone(null);
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
  nav.setAttribute("aria-label", t("Main"));
  document.querySelector("header .brand").textContent = t("Account console");
  renderLanguageSwitch();
  const here = location.pathname;
  const link = (href, text) => h("a", { href, "data-link": true, "aria-current": here === href ? "page" : null }, text);
  const sep = () => h("span", { class: "sep", "aria-hidden": "true" });
  if (operator) {
    nav.replaceChildren(link("/operator/tenants", t("Tenants")), link("/operator/new-tenant", t("New tenant")),
      link("/operator/applications", t("Applications")), link("/operator/legal-holds", t("Legal holds")), link("/operator/log", t("Operator log")), sep(),
      h("button", { type: "button", onclick: logout }, t("Log out {username}", { username: operator.username })));
    return;
  }
  if (!viewer) {
    nav.replaceChildren(here.startsWith("/operator") ? link("/operator/login", t("Operator log in")) : link("/login", t("Log in")));
    return;
  }
  const items = [link("/account", t("Profile")), link("/account/security", t("Security")), link("/account/sessions", t("Sessions")),
    link("/account/consents", t("Consents")), link("/account/data", t("My data"))];
  if (isAdmin()) {
    items.push(sep(), link("/admin/users", t("Users")), link("/admin/purposes", t("Purposes")),
      link("/admin/audit", t("Audit log")), link("/admin/requests", t("Data requests")), link("/admin/webhooks", t("Webhooks")),
      link("/admin/settings", t("Settings")));
  }
  if (isOwner()) items.push(link("/admin/contract", t("Contract")));
  items.push(sep(), h("button", { type: "button", onclick: logout }, t("Log out {username}", { username: viewer.user.username })));
  nav.replaceChildren(...items);
}

// The language switch, on every page: each language in its own name. Signed in, the choice is
// the account's (and so its emails'); otherwise this browser remembers it.
function renderLanguageSwitch() {
  const slot = document.getElementById("language");
  const select = h("select", { id: "language-switch", onchange: () => chooseLanguage(select.value) },
    LOCALES.map(([code, name]) => h("option", { value: code, lang: code, selected: code === locale() }, name)));
  slot.replaceChildren(h("label", { for: "language-switch" }, t("Language")), select);
}

export async function chooseLanguage(code) {
  if (viewer) {
    const result = (await gql(`mutation($locale: String!) { updateProfile(input: {locale: $locale}) { errors { message } } }`, { locale: code })).updateProfile;
    if (!result.errors.length) await loadViewer();
  }
  await setLocale(code);
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
  document.title = t("{title} · Account console", { title });
  const main = document.getElementById("main");
  main.replaceChildren(h("h1", {}, title), ...children);
  main.focus();
}
