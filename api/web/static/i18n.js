// Translations: English is the source language; Dutch and German come from the server's
// gettext catalogues (GET /console/i18n/{locale}.json → {msgid: msgstr}, plurals
// {singular: [one, other]}). Every message in the console goes through t() or tn(), with a
// plain string literal as its id and {name} placeholders, so the ids can be extracted.
// Dates and numbers are formatted with Intl in the current locale (and the account's time
// zone once it is known).

export const LOCALES = [["en", "English"], ["nl", "Nederlands"], ["de", "Deutsch"]];
const CODES = LOCALES.map(([code]) => code);
const STORAGE_KEY = "console.locale";

let current = "en";
let catalogue = {};
let timeZone;
const listeners = [];
const loaded = new Map(); // code → its catalogue, fetched once

async function fetchCatalogue(code) {
  if (code === "en") return {};
  if (loaded.has(code)) return loaded.get(code);
  try {
    const response = await fetch(`/console/i18n/${code}.json`, { credentials: "same-origin" });
    if (!response.ok) return {};
    const messages = await response.json();
    loaded.set(code, messages);
    return messages;
  } catch {
    return {}; // without its catalogue the console stays readable, in English
  }
}

function fill(text, params) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => (Object.hasOwn(params, name) ? String(params[name]) : whole));
}

// Translate a message id; {name} placeholders are replaced with params.name afterwards.
export function t(msgid, params = {}) {
  const found = catalogue[msgid];
  return fill(typeof found === "string" && found ? found : msgid, params);
}

// A message with a singular and a plural form; n is also available as {n}.
export function tn(singular, plural, n, params = {}) {
  const index = new Intl.PluralRules(current).select(n) === "one" ? 0 : 1;
  const found = catalogue[singular];
  const text = Array.isArray(found) && found[index] ? found[index] : index === 0 ? singular : plural;
  return fill(text, { n: formatNumber(n), ...params });
}

export function locale() {
  return current;
}

// The account's time zone (an IANA name), or undefined to use the browser's.
export function setTimeZone(zone) {
  timeZone = zone || undefined;
}

// A locale code such as "de-AT" or "nl_BE" → one of the console's, or null.
export function matchLocale(code) {
  const base = String(code || "").toLowerCase().split(/[-_]/)[0];
  return CODES.includes(base) ? base : null;
}

function stored() {
  try {
    return matchLocale(localStorage.getItem(STORAGE_KEY));
  } catch {
    return null;
  }
}

function store(code) {
  try {
    localStorage.setItem(STORAGE_KEY, code);
  } catch {
    // Storage may be unavailable (private mode): the choice then lasts for this page only.
  }
}

// Loads the catalogue and makes code the current locale, without re-rendering.
export async function useLocale(code) {
  code = matchLocale(code) || "en";
  const messages = await fetchCatalogue(code);
  current = code;
  catalogue = messages;
  document.documentElement.lang = code;
  return code;
}

// Something to call after the locale changed (the router registers itself to re-render).
export function onLocaleChange(listener) {
  listeners.push(listener);
}

export async function setLocale(code) {
  code = await useLocale(code);
  store(code);
  for (const listener of listeners) await listener(code);
  return code;
}

function toDate(value) {
  return value instanceof Date ? value : new Date(value);
}

function zoned(options) {
  return timeZone ? { ...options, timeZone } : options;
}

// A day such as "2025-03-01" (no time) is that day wherever the reader is.
const DAY_ONLY = /^\d{4}-\d{2}-\d{2}$/;

export function formatDate(isoOrDate) {
  if (!isoOrDate) return "—";
  if (typeof isoOrDate === "string" && DAY_ONLY.test(isoOrDate)) {
    return new Intl.DateTimeFormat(current, { dateStyle: "long", timeZone: "UTC" }).format(new Date(isoOrDate));
  }
  try {
    return new Intl.DateTimeFormat(current, zoned({ dateStyle: "long" })).format(toDate(isoOrDate));
  } catch {
    return new Intl.DateTimeFormat(current, { dateStyle: "long" }).format(toDate(isoOrDate));
  }
}

export function formatDateTime(isoOrDate) {
  if (!isoOrDate) return "—";
  try {
    return new Intl.DateTimeFormat(current, zoned({ dateStyle: "medium", timeStyle: "short" })).format(toDate(isoOrDate));
  } catch {
    return new Intl.DateTimeFormat(current, { dateStyle: "medium", timeStyle: "short" }).format(toDate(isoOrDate));
  }
}

export function formatNumber(n) {
  return new Intl.NumberFormat(current).format(n);
}

// At start-up, before the first render: the stored choice, else the browser's languages,
// else English. Once signed in, the account's locale wins (shell.js applies it).
export async function initI18n() {
  const fromBrowser = (navigator.languages || [navigator.language]).map(matchLocale).find(Boolean);
  await useLocale(stored() || fromBrowser || "en");
}

// The account's effective locale and time zone (after loading the viewer); also remembered
// on this device so the login page speaks the same language after logging out.
export async function useAccountLocale(code, zone) {
  setTimeZone(zone);
  code = matchLocale(code);
  if (!code) return current;
  store(code);
  return code === current ? current : useLocale(code);
}
