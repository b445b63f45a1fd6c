// Adding many accounts from a CSV file: read and checked in the browser, previewed, then
// sent in one addUsers call (all or nothing). Problems are shown by the file's line numbers.

import { gql } from "./api.js";
import { readText, parseCsv } from "./csv.js";
import { card, h, thead } from "./dom.js";

const MAX_BYTES = 1024 * 1024; // the API refuses larger request bodies (MAX_BODY_BYTES)
const MAX_ROWS = 1000; // addUsers takes at most this many accounts in one call
const ROLES = ["MEMBER", "ADMIN", "OWNER"];
const PREVIEW_ROWS = 50;
// Header names, compared without case, blanks, '_' and '-': displayName, display_name, "Display name".
const COLUMNS = { username: "username", email: "email", displayname: "displayName", role: "role" };
const FIELD_NAMES = { username: "username", email: "email", displayName: "display name", role: "role" };

const ADD_USERS = `mutation($input: AddUsersInput!) { addUsers(input: $input) {
  users { id username email role status } errors { field message code index } } }`;

// The accounts in the file, each with its file line; problems found before sending; columns ignored.
export function readUsers(text) {
  const [header, ...records] = parseCsv(text);
  if (!header) throw new Error("The file is empty: it needs a header line (username, email, and optionally displayName and role).");
  const columns = header.fields.map((name) => COLUMNS[name.trim().toLowerCase().replace(/[\s_-]/g, "")] || null);
  for (const needed of ["username", "email"]) {
    if (!columns.includes(needed)) throw new Error(`Line 1: the header has no "${needed}" column. It needs username and email; displayName and role may follow.`);
  }
  const twice = columns.find((c, i) => c && columns.indexOf(c) !== i);
  if (twice) throw new Error(`Line 1: the header has the "${twice}" column twice.`);
  if (!records.length) throw new Error("The file has a header line but no accounts.");
  if (records.length > MAX_ROWS) throw new Error(`The file has ${records.length.toLocaleString()} accounts; at most ${MAX_ROWS.toLocaleString()} can be added at once. Split it into smaller files.`);
  const problems = [];
  const rows = records.map(({ line, fields }) => {
    const value = (name) => (fields[columns.indexOf(name)] ?? "").trim();
    if (fields.length > header.fields.length) {
      problems.push({ line, field: "—", message: `${fields.length} values, but the header has ${header.fields.length} columns.` });
    }
    const role = value("role").toUpperCase() || "MEMBER";
    if (!ROLES.includes(role)) problems.push({ line, field: "role", message: "Use member, admin or owner (or leave it empty for member)." });
    return { line, user: { username: value("username"), email: value("email"), displayName: value("displayName") || null, role } };
  });
  const ignored = header.fields.filter((name, i) => !columns[i] && name.trim());
  return { rows, problems, ignored };
}

function problemsTable(problems) {
  return h("table", { "aria-label": "Problems in the file" }, thead(["Line", "Field", "Problem"]),
    h("tbody", {}, problems.map((p) => h("tr", {}, h("td", {}, `line ${p.line}`), h("td", {}, p.field), h("td", {}, p.message)))));
}

function previewTable(rows) {
  return h("table", { "aria-label": "Accounts in the file" }, thead(["Line", "Username", "Email", "Display name", "Role"]),
    h("tbody", {}, rows.slice(0, PREVIEW_ROWS).map(({ line, user: u }) => h("tr", {},
      h("td", {}, line), h("td", {}, u.username), h("td", {}, u.email), h("td", {}, u.displayName || ""), h("td", {}, u.role.toLowerCase())))));
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
      fail(h("p", { class: "alert error" }, "The accounts in this file are too much to send at once. Split it into smaller files."));
      return;
    }
    button.disabled = true;
    let result;
    try {
      result = (await gql(ADD_USERS, variables)).addUsers;
    } catch (error) {
      const wait = error.retryAfter ? ` Try again in ${error.retryAfter} seconds.` : "";
      button.disabled = false;
      area.prepend(h("p", { class: "alert error" }, error.message + wait));
      return;
    }
    if (!result.errors.length) {
      input.value = "";
      done(`Added ${result.users.length} accounts; each was sent an invitation.`);
      return;
    }
    // Errors with an index are about one row: show them at the row's file line.
    const general = result.errors.filter((e) => e.index === null || e.index === undefined || !rows[e.index]);
    const perRow = result.errors.filter((e) => !general.includes(e)).map((e) => ({
      line: rows[e.index].line, field: FIELD_NAMES[e.field?.split(".").pop()] || e.field || "—", message: e.message }));
    fail(h("p", { class: "alert error" }, `Nothing was added from ${name}: correct the file and choose it again.`),
      general.map((e) => h("p", { class: "alert error" }, e.message)),
      perRow.length ? problemsTable(perRow) : "");
  }

  input.addEventListener("change", async () => {
    const file = input.files[0];
    area.replaceChildren();
    if (!file) return;
    if (file.size > MAX_BYTES) {
      fail(h("p", { class: "alert error" }, `${file.name} is ${(file.size / 1024 / 1024).toFixed(1)} MB; files up to 1 MB can be added. Split it into smaller files.`));
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
      fail(h("p", { class: "alert error" }, `${file.name} has problems: correct them and choose the file again.`), problemsTable(problems));
      return;
    }
    const button = h("button", { type: "button", onclick: () => send(file.name, rows, button) }, `Add ${rows.length} accounts and invite them`);
    area.replaceChildren(
      h("p", {}, `${rows.length} ${rows.length === 1 ? "account" : "accounts"} in ${file.name}.`),
      ignored.length ? h("p", { class: "muted" }, `Ignored columns: ${ignored.join(", ")}.`) : "",
      previewTable(rows),
      rows.length > PREVIEW_ROWS ? h("p", { class: "muted" }, `…and ${rows.length - PREVIEW_ROWS} more.`) : "",
      h("p", {}, button));
  });

  return card("Add many from a CSV file",
    h("p", { id: "csv-help" }, "A header line with the columns username and email, and optionally displayName and role (member, admin or owner); "
      + "comma- or semicolon-separated, UTF-8, up to 1,000 accounts and 1 MB. Every account is added, or none."),
    h("div", { class: "field" }, h("label", { for: "csv-file" }, "CSV file"), input),
    area);
}
