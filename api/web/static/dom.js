// DOM helpers. Everything shown is built with createElement and text nodes: nothing from the
// API is ever parsed as HTML.

import { formatDate, formatDateTime } from "./i18n.js";

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// A moment (date and time) and a day, in the console's language and the account's time zone.
export function when(value) {
  return formatDateTime(value);
}

export function card(title, ...children) {
  return h("section", { class: "card", "aria-label": title }, h("h2", {}, title), ...children);
}

// A table head with one column header per title.
export function thead(titles) {
  return h("thead", {}, h("tr", {}, titles.map((t) => h("th", { scope: "col" }, t))));
}

export function day(value) {
  return formatDate(value);
}

// A link within the console (the router handles it without reloading the page).
export function link(href, text, attrs = {}) {
  return h("a", { href, "data-link": true, ...attrs }, text);
}

// Name–value pairs (a <dl>); pairs with a null value are left out.
export function facts(label, pairs) {
  return h("dl", { class: "facts", "aria-label": label },
    pairs.filter(([, value]) => value !== null && value !== undefined).flatMap(([name, value]) => [h("dt", {}, name), h("dd", {}, value)]));
}
