// The administration pages: users (one by one or from a CSV file), purposes, audit log,
// data requests, organisation settings.

import { gql } from "./api.js";
import { card, h, thead, when } from "./dom.js";
import { checkbox, field, form } from "./forms.js";
import { bulkAddCard, roleLabel } from "./bulk.js";
import { formatNumber, LOCALES, t, tn } from "./i18n.js";
import { actorLabel } from "./operator-log.js";
import { dangerLink } from "./organisation.js";
import { isOwner, loadViewer, page, renderNav, viewer } from "./shell.js";

const ROLES = ["MEMBER", "ADMIN", "OWNER"];

// The labels of the codes the API answers (a code without one is shown as it is). Functions,
// so that they are read in the language of the moment.
const accountStatusLabel = (status) => ({ INVITED: t("Invited"), ACTIVE: t("Active"), DISABLED: t("Disabled") })[status] || status;
const legalBasisLabel = (basis) => ({ CONSENT: t("Consent"), CONTRACT: t("Performance of a contract"), LEGITIMATE_INTEREST: t("Legitimate interest"),
  LEGAL_OBLIGATION: t("Legal obligation") })[basis] || basis;
const LEGAL_BASES = ["CONSENT", "CONTRACT", "LEGITIMATE_INTEREST", "LEGAL_OBLIGATION"];
// The data requests' kind and status: in English the page shows the codes themselves (as the
// user's own data page does), so their message ids are the codes.
const requestKindLabel = (kind) => ({ EXPORT: t("EXPORT"), ERASURE: t("ERASURE") })[kind] || kind;
const requestStatusLabel = (status) => ({ PENDING: t("PENDING"), PROCESSING: t("PROCESSING"), COMPLETED: t("COMPLETED"), FAILED: t("FAILED"),
  REJECTED: t("REJECTED") })[status] || status;
// A connected application's part of a request.
const partStateLabel = (status) => ({ PENDING: t("pending"), CONFIRMED: t("confirmed"), DELIVERED: t("delivered"), MISSING: t("missing") })[status] || status;
// Why a part is missing: the reasons the API stores (in English), as the user's data page shows them.
const partReasonLabel = (reason) => ({ "the request for the part could not be delivered": t("the request for the part could not be delivered"),
  "no part came in time": t("no part came in time"), "no part came": t("no part came") })[reason] || reason;

// `notice`: what was just done, shown on top.
export async function usersPage(notice) {
  const { users } = await gql(`{ users(first: 100) { totalCount edges { node { id username email displayName role status mfaEnabled lastLoginAt } } } }`);
  const act = (query, variables) => async () => {
    try {
      const result = Object.values(await gql(query, variables))[0];
      if (result.errors?.length) alert(result.errors[0].message);
    } catch (error) { // such as a step-up the user cancelled: the page shows what still holds
      alert(error.message);
    }
    usersPage();
  };
  const rows = users.edges.map(({ node: u }) => h("tr", { dataset: { user: u.username } },
    h("td", {}, u.username, h("div", { class: "muted" }, u.email)), h("td", {}, accountStatusLabel(u.status)), h("td", {}, u.mfaEnabled ? t("on") : t("off")),
    h("td", {}, when(u.lastLoginAt)),
    h("td", {}, h("select", { "aria-label": t("Role of {username}", { username: u.username }), onchange: (e) => act(`mutation($id: ID!, $role: Role) { updateUser(input: {id: $id, role: $role}) { errors { message } } }`, { id: u.id, role: e.target.value })() },
      ROLES.map((r) => h("option", { value: r, selected: r === u.role }, roleLabel(r))))),
    h("td", { class: "row" },
      u.status === "DISABLED"
        ? h("button", { type: "button", class: "secondary", onclick: act(`mutation($id: ID!) { updateUser(input: {id: $id, status: ACTIVE}) { errors { message } } }`, { id: u.id }) }, t("Enable"))
        : h("button", { type: "button", class: "secondary", onclick: act(`mutation($id: ID!) { updateUser(input: {id: $id, status: DISABLED}) { errors { message } } }`, { id: u.id }) }, t("Disable")),
      u.status === "INVITED" ? h("button", { type: "button", class: "secondary", onclick: act(`mutation($id: ID!) { resendInvitation(id: $id) { errors { message } } }`, { id: u.id }) }, t("Resend invitation")) : "",
      u.mfaEnabled ? h("button", { type: "button", class: "secondary", onclick: act(`mutation($id: ID!) { resetUserMfa(id: $id) { errors { message } } }`, { id: u.id }) }, t("Reset 2FA")) : "",
      h("button", { type: "button", class: "danger", onclick: () => confirm(t("Erase {username} and all their data?", { username: u.username })) && act(`mutation($id: ID!) { removeUser(id: $id) { errors { message } } }`, { id: u.id })() }, t("Remove")))));
  page(t("Users"), notice ? h("p", { class: "alert ok", role: "status" }, notice) : "",
    card(t("Add someone"), form([field(t("Username"), "username", { autocomplete: "off" }), field(t("Email"), "email", { type: "email", autocomplete: "off" }),
      field(t("Display name"), "displayName", { required: false, autocomplete: "off" }),
      field(t("Role"), "role", { options: ROLES.map((r) => [r, roleLabel(r)]), value: "MEMBER" })],
    t("Add and invite"), async (data) => {
      const result = (await gql(`mutation($input: AddUserInput!) { addUser(input: $input) { user { id } errors { field message code } } }`, { input: { ...data, displayName: data.displayName || null } })).addUser;
      if (!result.errors.length) usersPage();
      return result;
    })),
    bulkAddCard(usersPage),
    card(t("Accounts ({count})", { count: formatNumber(users.totalCount) }),
      h("table", {}, thead([t("Account"), t("Status"), t("2FA"), t("Last login"), t("Role"), ""]), h("tbody", {}, rows))));
}

export async function purposesPage() {
  const tenant = viewer.tenant.slug;
  const { purposes } = await gql(`query($t: String!) { purposes(tenant: $t) { key title description legalBasis version } }`, { t: tenant });
  page(t("Purposes"),
    card(t("Add or change a purpose"), form([field(t("Key"), "key"), field(t("Title"), "title"), field(t("Description"), "description"),
      field(t("Legal basis"), "legalBasis", { options: LEGAL_BASES.map((b) => [b, legalBasisLabel(b)]), value: "CONSENT" }),
      checkbox(t("Material change (asks for consent again)"), "bumpVersion", false)], t("Save purpose"), async (data) => {
      const result = (await gql(`mutation($input: PurposeInput!) { upsertPurpose(input: $input) { purpose { key } errors { field message code } } }`, { input: data })).upsertPurpose;
      if (!result.errors.length) purposesPage();
      return result;
    })),
    card(t("Active purposes"), h("table", {}, thead([t("Key"), t("Title"), t("Basis"), t("Version"), ""]),
      h("tbody", {}, purposes.map((p) => h("tr", {}, h("td", {}, p.key), h("td", {}, p.title), h("td", {}, legalBasisLabel(p.legalBasis)),
        h("td", {}, formatNumber(p.version)),
        h("td", {}, h("button", { type: "button", class: "secondary", onclick: async () => { await gql(`mutation($k: String!) { archivePurpose(key: $k) { errors { message } } }`, { k: p.key }); purposesPage(); } }, t("Archive")))))))));
}

export async function auditPage(after = null, action = "") {
  const { auditEvents } = await gql(`query($after: String, $filter: AuditEventFilter) { auditEvents(first: 25, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor } edges { node { id occurredAt action actorType actorId targetType targetId ipAddress changes } } } }`,
  { after, filter: action ? { action } : null });
  page(t("Audit log"),
    form([field(t("Action"), "action", { value: action, required: false, placeholder: t("e.g. login.failed") })], t("Filter"),
      async (data) => { auditPage(null, data.action); }, { className: "inline" }),
    h("table", {}, thead([t("When"), t("Action"), t("Actor"), t("Target"), t("IP"), t("Changes")]),
      h("tbody", {}, auditEvents.edges.map(({ node: e }) => h("tr", {}, h("td", {}, when(e.occurredAt)), h("td", {}, e.action),
        h("td", {}, `${actorLabel(e.actorType)} ${e.actorId || ""}`), h("td", {}, `${e.targetType || ""} ${e.targetId || ""}`), h("td", {}, e.ipAddress || "—"),
        h("td", {}, h("code", {}, e.changes ? JSON.stringify(e.changes) : "")))))),
    auditEvents.pageInfo.hasNextPage ? h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => auditPage(auditEvents.pageInfo.endCursor, action) }, t("Older events"))) : "");
}

// The connected applications' parts of a request: for an erasure which confirmed and which
// are pending; for an export which delivered their part and which are missing, and why.
function applicationParts(r) {
  if (!r.applications.length) return h("td", { class: "muted" }, "—");
  const label = r.kind === "ERASURE"
    ? t("Applications' parts of the erasure requested {time}", { time: when(r.requestedAt) })
    : t("Applications' parts of the export requested {time}", { time: when(r.requestedAt) });
  return h("td", {}, h("ul", { class: "parts", "aria-label": label },
    r.applications.map((p) => h("li", { dataset: { application: p.application, status: p.status } },
      h("strong", {}, p.application), " ", h("span", { class: `state ${p.status.toLowerCase()}` }, partStateLabel(p.status)),
      p.reason ? h("div", { class: "muted" }, partReasonLabel(p.reason)) : "",
      p.status !== "PENDING" ? h("div", { class: "muted" }, when(p.updatedAt)) : ""))));
}

export async function requestsPage() {
  const { dataRequests } = await gql(`{ dataRequests(first: 100) { edges { node { id kind status subjectId requestedAt dueAt completedAt overdue
    applications { application status reason updatedAt } } } } }`);
  const requests = dataRequests.edges.map(({ node }) => node);
  const overdue = requests.filter((r) => r.overdue).length;
  page(t("Data requests"),
    overdue ? h("p", { class: "alert error", role: "alert" }, tn("{n} request is past its legal due date and not yet fulfilled.",
      "{n} requests are past their legal due date and not yet fulfilled.", overdue)) : "",
    card(t("Requests from data subjects"),
      h("table", { "aria-label": t("Data requests") }, thead([t("Requested"), t("Kind"), t("Status"), t("Subject"), t("Due"), t("Completed"),
        t("Connected applications")]),
        h("tbody", {}, requests.map((r) => h("tr", { class: r.overdue ? "overdue" : null, dataset: { request: r.id } },
          h("td", {}, when(r.requestedAt)), h("td", {}, requestKindLabel(r.kind)),
          h("td", {}, requestStatusLabel(r.status), r.overdue ? h("div", {}, h("strong", { class: "flag" }, t("Overdue"))) : ""),
          h("td", {}, r.subjectId || t("erased")), h("td", {}, when(r.dueAt)), h("td", {}, when(r.completedAt)),
          applicationParts(r)))))));
}

// Every time zone the browser knows (IANA names), and the organisation's own even if it does not.
function timeZones(own) {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return own && !zones.includes(own) ? [own, ...zones] : zones;
}

// `notice`: what was just done, shown on top (after a change of language, the page is drawn again).
export async function settingsPage(notice) {
  const { viewer: v } = await gql(`{ viewer { tenant { name seatLimit seatsUsed requireMfa sessionIdleTimeoutMinutes sessionAbsoluteTimeoutHours
    inactiveAccountRetentionDays auditRetentionDays defaultLocale timeZone } } }`);
  const tenant = v.tenant;
  const owner = isOwner();
  // The settings that erase (accounts, audit events) are the OWNER's: others see them, greyed.
  const ownerOnly = owner ? {} : { disabled: true, hint: t("Only an owner can change this.") };
  const seats = tenant.seatLimit === null || tenant.seatLimit === undefined
    ? t("Seats: {used} in use, no limit", { used: formatNumber(tenant.seatsUsed) })
    : t("Seats: {used} of {limit} in use", { used: formatNumber(tenant.seatsUsed), limit: formatNumber(tenant.seatLimit) });
  page(t("Organisation settings"), notice ? h("p", { class: "alert ok", role: "status" }, notice) : "", card(seats,
    form([field(t("Name"), "name", { value: tenant.name }), checkbox(t("Require two-step verification"), "requireMfa", tenant.requireMfa),
      field(t("Sign out after idle minutes"), "sessionIdleTimeoutMinutes", { type: "number", value: tenant.sessionIdleTimeoutMinutes }),
      field(t("Sign out after hours at most"), "sessionAbsoluteTimeoutHours", { type: "number", value: tenant.sessionAbsoluteTimeoutHours }),
      field(t("Erase accounts unused for days (empty: keep)"), "inactiveAccountRetentionDays", { type: "number",
        value: tenant.inactiveAccountRetentionDays ?? "", required: false, ...ownerOnly }),
      field(t("Keep audit log events for days"), "auditRetentionDays", { type: "number", value: tenant.auditRetentionDays, min: 30, max: 3650,
        hint: owner ? t("{min} to {max} days.", { min: formatNumber(30), max: formatNumber(3650) }) : ownerOnly.hint, disabled: ownerOnly.disabled }),
      field(t("Default language"), "defaultLocale", { value: tenant.defaultLocale, options: LOCALES,
        hint: t("For accounts that chose none: the console and the emails they receive.") }),
      field(t("Time zone"), "timeZone", { value: tenant.timeZone, options: timeZones(tenant.timeZone).map((z) => [z, z]),
        hint: t("For accounts that chose none: dates and times in the console and in emails.") })],
    t("Save settings"), async (data) => {
      const input = { name: data.name, requireMfa: data.requireMfa, sessionIdleTimeoutMinutes: Number(data.sessionIdleTimeoutMinutes),
        sessionAbsoluteTimeoutHours: Number(data.sessionAbsoluteTimeoutHours), defaultLocale: data.defaultLocale, timeZone: data.timeZone };
      if (owner) {
        input.inactiveAccountRetentionDays = data.inactiveAccountRetentionDays === "" ? null : Number(data.inactiveAccountRetentionDays);
        input.auditRetentionDays = Number(data.auditRetentionDays);
      }
      const result = (await gql(`mutation($input: UpdateTenantSettingsInput!) { updateTenantSettings(input: $input) { tenant { name } errors { field message code } } }`, { input })).updateTenantSettings;
      if (result.errors.length || (data.defaultLocale === tenant.defaultLocale && data.timeZone === tenant.timeZone)) {
        return { ...result, message: t("Saved.") };
      }
      await loadViewer(); // the console's language and time zone may follow the organisation's
      renderNav();
      await settingsPage(t("Saved."));
      return null;
    })),
  owner ? dangerLink() : "");
}
