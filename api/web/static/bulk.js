// Adding many accounts from a CSV file: read and checked in the browser, previewed, then
// sent in one addUsers call (all or nothing). Problems are shown by the file's line numbers.

import { gql } from "./api.js";
import { readText, parseCsv } from "./csv.js";
import { card, h, thead } from "./dom.js";
import { formatNumber, t, tn } from "./i18n.js";

const MAX_BYTES = 1024 * 1024; // the API refuses larger request bodies (MAX_BODY_BYTES)
const MAX_ROWS = 1000; // addUsers takes at most this many accounts in one call
const ROLES = ["MEMBER", "ADMIN", "OWNER"];
const PREVIEW_ROWS = 50;
// Header names, compared without case, blanks, '_' and '-': displayName, display_name, "Display name".
// The header names are the file's format: they are the same in every language.
const COLUMNS = { username: "username", email: "email", displayname: "displayName", role: "role" };
// An account field, as the problems table names it.
const fieldName = (name) => ({ username: t("username"), email: t("email"), displayName: t("display name"), role: t("role") })[name];

// A role's name, as people read it (also on the users page).
export function roleLabel(role) {
  return { MEMBER: t("Member"), ADMIN: t("Admin"), OWNER: t("Owner") }[role] || role;
}

const ADD_USERS = `mutation($input: AddUsersInput!) { addUsers(input: $input) {
  users { id username email role status } errors { field message code index } } }`;

// The accounts in the file, each with its file line; problems found before sending; columns ignored.
export function readUsers(text) {
  const [header, ...records] = parseCsv(text);
  if (!header) throw new Error(t("The file is empty: it needs a header line (username, email, and optionally displayName and role)."));
  const columns = header.fields.map((name) => COLUMNS[name.trim().toLowerCase().replace(/[\s_-]/g, "")] || null);
  for (const needed of ["username", "email"]) {
    if (!columns.includes(needed)) {
      throw new Error(t('Line 1: the header has no "{column}" column. It needs username and email; displayName and role may follow.', { column: needed }));
    }
  }
  const twice = columns.find((c, i) => c && columns.indexOf(c) !== i);
  if (twice) throw new Error(t('Line 1: the header has the "{column}" column twice.', { column: twice }));
  if (!records.length) throw new Error(t("The file has a header line but no accounts."));
  if (records.length > MAX_ROWS) {
    // Always more than a thousand: no singular needed.
    throw new Error(t("The file has {count} accounts; at most {max} can be added at once. Split it into smaller files.",
      { count: formatNumber(records.length), max: formatNumber(MAX_ROWS) }));
  }
  const problems = [];
  const rows = records.map(({ line, fields }) => {
    const value = (name) => (fields[columns.indexOf(name)] ?? "").trim();
    if (fields.length > header.fields.length) {
      // The header has at least two columns (username and email), the line more: both plural.
      problems.push({ line, field: "—", message: t("{values} values, but the header has {columns} columns.",
        { values: formatNumber(fields.length), columns: formatNumber(header.fields.length) }) });
    }
    const role = value("role").toUpperCase() || "MEMBER";
    if (!ROLES.includes(role)) problems.push({ line, field: fieldName("role"), message: t("Use member, admin or owner (or leave it empty for member).") });
    return { line, user: { username: value("username"), email: value("email"), displayName: value("displayName") || null, role } };
  });
  const ignored = header.fields.filter((name, i) => !columns[i] && name.trim());
  return { rows, problems, ignored };
}

function problemsTable(problems) {
  return h("table", { "aria-label": t("Problems in the file") }, thead([t("Line"), t("Field"), t("Problem")]),
    h("tbody", {}, problems.map((p) => h("tr", {}, h("td", {}, t("line {line}", { line: p.line })), h("td", {}, p.field), h("td", {}, p.message)))));
}

function previewTable(rows) {
  return h("table", { "aria-label": t("Accounts in the file") }, thead([t("Line"), t("Username"), t("Email"), t("Display name"), t("Role")]),
    h("tbody", {}, rows.slice(0, PREVIEW_ROWS).map(({ line, user: u }) => h("tr", {},
      h("td", {}, line), h("td", {}, u.username), h("td", {}, u.email), h("td", {}, u.displayName || ""), h("td", {}, roleLabel(u.role))))));
}

// `done(notice)` shows the users page again once the accounts are added.
export function bulkAddCard(done) {
  const input = h("input", { type: "file", id: "csv-file", name: "file", accept: ".csv,text/csv", "aria-describedby": "csv-help" });
  const area = h("div", { role: "status", "aria-live": "polite" });
  // The input is emptied, so that choosing the corrected file again is a change.
  const fail = (...children) => {
    input.value = "";
    area.replaceChildren(...children);
  };

  async function send(name, rows, button) {
    const variables = { input: { users: rows.map((r) => r.user) } };
    if (new Blob([JSON.stringify(variables)]).size > MAX_BYTES) {
      fail(h("p", { class: "alert error" }, t("The accounts in this file are too much to send at once. Split it into smaller files.")));
      return;
    }
    button.disabled = true;
    let result;
    try {
      result = (await gql(ADD_USERS, variables)).addUsers;
    } catch (error) {
      button.disabled = false;
      area.prepend(h("p", { class: "alert error" }, error.retryAfter
        ? tn("{message} Try again in {n} second.", "{message} Try again in {n} seconds.", error.retryAfter, { message: error.message })
        : error.message));
      return;
    }
    if (!result.errors.length) {
      input.value = "";
      done(tn("Added {n} account; it was sent an invitation.", "Added {n} accounts; each was sent an invitation.", result.users.length));
      return;
    }
    // Errors with an index are about one row: show them at the row's file line.
    const general = result.errors.filter((e) => e.index === null || e.index === undefined || !rows[e.index]);
    const perRow = result.errors.filter((e) => !general.includes(e)).map((e) => ({
      line: rows[e.index].line, field: fieldName(e.field?.split(".").pop()) || e.field || "—", message: e.message }));
    fail(h("p", { class: "alert error" }, t("Nothing was added from {file}: correct the file and choose it again.", { file: name })),
      general.map((e) => h("p", { class: "alert error" }, e.message)),
      perRow.length ? problemsTable(perRow) : "");
  }

  input.addEventListener("change", async () => {
    const file = input.files[0];
    area.replaceChildren();
    if (!file) return;
    if (file.size > MAX_BYTES) {
      fail(h("p", { class: "alert error" }, t("{file} is {size} MB; files up to 1 MB can be added. Split it into smaller files.",
        { file: file.name, size: formatNumber(Math.round(file.size / 1024 / 1024 * 10) / 10) })));
      return;
    }
    let read;
    try {
      read = readUsers(await readText(file));
    } catch (error) {
      fail(h("p", { class: "alert error" }, error.message));
      return;
    }
    const { rows, problems, ignored } = read;
    if (problems.length) {
      fail(h("p", { class: "alert error" }, t("{file} has problems: correct them and choose the file again.", { file: file.name })), problemsTable(problems));
      return;
    }
    const button = h("button", { type: "button", onclick: () => send(file.name, rows, button) },
      tn("Add {n} account and invite it", "Add {n} accounts and invite them", rows.length));
    area.replaceChildren(
      h("p", {}, tn("{n} account in {file}.", "{n} accounts in {file}.", rows.length, { file: file.name })),
      ignored.length ? h("p", { class: "muted" }, t("Ignored columns: {columns}.", { columns: ignored.join(", ") })) : "",
      previewTable(rows),
      rows.length > PREVIEW_ROWS
        ? h("p", { class: "muted" }, tn("…and {n} more account.", "…and {n} more accounts.", rows.length - PREVIEW_ROWS)) : "",
      h("p", {}, button));
  });

  return card(t("Add many from a CSV file"),
    h("p", { id: "csv-help" }, t("A header line with the columns username and email, and optionally displayName and role (member, admin or owner); comma- or semicolon-separated, UTF-8, up to {max} accounts and 1 MB. Every account is added, or none.",
      { max: formatNumber(MAX_ROWS) })),
    h("div", { class: "field" }, h("label", { for: "csv-file" }, t("CSV file")), input),
    area);
}
