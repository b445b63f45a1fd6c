// The administration pages: users (one by one or from a CSV file), purposes, audit log,
// data requests, organisation settings.

import { gql } from "./api.js";
import { card, h, thead, when } from "./dom.js";
import { checkbox, field, form } from "./forms.js";
import { bulkAddCard } from "./bulk.js";
import { dangerLink } from "./organisation.js";
import { isOwner, page, viewer } from "./shell.js";

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
    h("td", {}, u.username, h("div", { class: "muted" }, u.email)), h("td", {}, u.status), h("td", {}, u.mfaEnabled ? "on" : "off"), h("td", {}, when(u.lastLoginAt)),
    h("td", {}, h("select", { "aria-label": `Role of ${u.username}`, onchange: (e) => act(`mutation($id: ID!, $role: Role) { updateUser(input: {id: $id, role: $role}) { errors { message } } }`, { id: u.id, role: e.target.value })() },
      ["MEMBER", "ADMIN", "OWNER"].map((r) => h("option", { value: r, selected: r === u.role }, r)))),
    h("td", { class: "row" },
      u.status === "DISABLED"
        ? h("button", { type: "button", class: "secondary", onclick: act(`mutation($id: ID!) { updateUser(input: {id: $id, status: ACTIVE}) { errors { message } } }`, { id: u.id }) }, "Enable")
        : h("button", { type: "button", class: "secondary", onclick: act(`mutation($id: ID!) { updateUser(input: {id: $id, status: DISABLED}) { errors { message } } }`, { id: u.id }) }, "Disable"),
      u.status === "INVITED" ? h("button", { type: "button", class: "secondary", onclick: act(`mutation($id: ID!) { resendInvitation(id: $id) { errors { message } } }`, { id: u.id }) }, "Resend invitation") : "",
      u.mfaEnabled ? h("button", { type: "button", class: "secondary", onclick: act(`mutation($id: ID!) { resetUserMfa(id: $id) { errors { message } } }`, { id: u.id }) }, "Reset 2FA") : "",
      h("button", { type: "button", class: "danger", onclick: () => confirm(`Erase ${u.username} and all their data?`) && act(`mutation($id: ID!) { removeUser(id: $id) { errors { message } } }`, { id: u.id })() }, "Remove"))));
  page("Users", notice ? h("p", { class: "alert ok", role: "status" }, notice) : "",
    card("Add someone", form([field("Username", "username", { autocomplete: "off" }), field("Email", "email", { type: "email", autocomplete: "off" }),
      field("Display name", "displayName", { required: false, autocomplete: "off" }), field("Role", "role", { options: [["MEMBER", "Member"], ["ADMIN", "Admin"], ["OWNER", "Owner"]], value: "MEMBER" })],
    "Add and invite", async (data) => {
      const result = (await gql(`mutation($input: AddUserInput!) { addUser(input: $input) { user { id } errors { field message code } } }`, { input: { ...data, displayName: data.displayName || null } })).addUser;
      if (!result.errors.length) usersPage();
      return result;
    })),
    bulkAddCard(usersPage),
    card(`Accounts (${users.totalCount})`, h("table", {}, thead(["Account", "Status", "2FA", "Last login", "Role", ""]), h("tbody", {}, rows))));
}

export async function purposesPage() {
  const tenant = viewer.tenant.slug;
  const { purposes } = await gql(`query($t: String!) { purposes(tenant: $t) { key title description legalBasis version } }`, { t: tenant });
  page("Purposes",
    card("Add or change a purpose", form([field("Key", "key"), field("Title", "title"), field("Description", "description"),
      field("Legal basis", "legalBasis", { options: [["CONSENT", "Consent"], ["CONTRACT", "Contract"], ["LEGITIMATE_INTEREST", "Legitimate interest"], ["LEGAL_OBLIGATION", "Legal obligation"]], value: "CONSENT" }),
      checkbox("Material change (asks for consent again)", "bumpVersion", false)], "Save purpose", async (data) => {
      const result = (await gql(`mutation($input: PurposeInput!) { upsertPurpose(input: $input) { purpose { key } errors { field message code } } }`, { input: data })).upsertPurpose;
      if (!result.errors.length) purposesPage();
      return result;
    })),
    card("Active purposes", h("table", {}, thead(["Key", "Title", "Basis", "Version", ""]),
      h("tbody", {}, purposes.map((p) => h("tr", {}, h("td", {}, p.key), h("td", {}, p.title), h("td", {}, p.legalBasis), h("td", {}, p.version),
        h("td", {}, h("button", { type: "button", class: "secondary", onclick: async () => { await gql(`mutation($k: String!) { archivePurpose(key: $k) { errors { message } } }`, { k: p.key }); purposesPage(); } }, "Archive"))))))));
}

export async function auditPage(after = null, action = "") {
  const { auditEvents } = await gql(`query($after: String, $filter: AuditEventFilter) { auditEvents(first: 25, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor } edges { node { id occurredAt action actorType actorId targetType targetId ipAddress changes } } } }`,
  { after, filter: action ? { action } : null });
  page("Audit log",
    form([field("Action", "action", { value: action, required: false, placeholder: "e.g. login.failed" })], "Filter", async (data) => { auditPage(null, data.action); }, { className: "inline" }),
    h("table", {}, thead(["When", "Action", "Actor", "Target", "IP", "Changes"]),
      h("tbody", {}, auditEvents.edges.map(({ node: e }) => h("tr", {}, h("td", {}, when(e.occurredAt)), h("td", {}, e.action),
        h("td", {}, `${e.actorType} ${e.actorId || ""}`), h("td", {}, `${e.targetType || ""} ${e.targetId || ""}`), h("td", {}, e.ipAddress || "—"),
        h("td", {}, h("code", {}, e.changes ? JSON.stringify(e.changes) : "")))))),
    auditEvents.pageInfo.hasNextPage ? h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => auditPage(auditEvents.pageInfo.endCursor, action) }, "Older events")) : "");
}

const PART_STATES = { PENDING: "pending", CONFIRMED: "confirmed", DELIVERED: "delivered", MISSING: "missing" };

// The connected applications' parts of a request: for an erasure which confirmed and which
// are pending; for an export which delivered their part and which are missing, and why.
function applicationParts(r) {
  if (!r.applications.length) return h("td", { class: "muted" }, "—");
  return h("td", {}, h("ul", { class: "parts", "aria-label": `Applications' parts of the ${r.kind.toLowerCase()} requested ${when(r.requestedAt)}` },
    r.applications.map((p) => h("li", { dataset: { application: p.application, status: p.status } },
      h("strong", {}, p.application), " ", h("span", { class: `state ${p.status.toLowerCase()}` }, PART_STATES[p.status] || p.status),
      p.reason ? h("div", { class: "muted" }, p.reason) : "",
      p.status !== "PENDING" ? h("div", { class: "muted" }, when(p.updatedAt)) : ""))));
}

export async function requestsPage() {
  const { dataRequests } = await gql(`{ dataRequests(first: 100) { edges { node { id kind status subjectId requestedAt dueAt completedAt overdue
    applications { application status reason updatedAt } } } } }`);
  const requests = dataRequests.edges.map(({ node }) => node);
  const overdue = requests.filter((r) => r.overdue).length;
  page("Data requests",
    overdue ? h("p", { class: "alert error", role: "alert" }, `${overdue === 1 ? "1 request is" : `${overdue} requests are`} past its legal due date and not yet fulfilled.`) : "",
    card("Requests from data subjects",
      h("table", { "aria-label": "Data requests" }, thead(["Requested", "Kind", "Status", "Subject", "Due", "Completed", "Connected applications"]),
        h("tbody", {}, requests.map((r) => h("tr", { class: r.overdue ? "overdue" : null, dataset: { request: r.id } },
          h("td", {}, when(r.requestedAt)), h("td", {}, r.kind),
          h("td", {}, r.status, r.overdue ? h("div", {}, h("strong", { class: "flag" }, "Overdue")) : ""),
          h("td", {}, r.subjectId || "erased"), h("td", {}, when(r.dueAt)), h("td", {}, when(r.completedAt)),
          applicationParts(r)))))));
}

export async function settingsPage() {
  const { viewer: v } = await gql(`{ viewer { tenant { name seatLimit seatsUsed requireMfa sessionIdleTimeoutMinutes sessionAbsoluteTimeoutHours
    inactiveAccountRetentionDays auditRetentionDays } } }`);
  const t = v.tenant;
  const owner = isOwner();
  // The settings that erase (accounts, audit events) are the OWNER's: others see them, greyed.
  const ownerOnly = owner ? {} : { disabled: true, hint: "Only an owner can change this." };
  page("Organisation settings", card(`Seats: ${t.seatsUsed} of ${t.seatLimit ?? "unlimited"} in use`,
    form([field("Name", "name", { value: t.name }), checkbox("Require two-step verification", "requireMfa", t.requireMfa),
      field("Sign out after idle minutes", "sessionIdleTimeoutMinutes", { type: "number", value: t.sessionIdleTimeoutMinutes }),
      field("Sign out after hours at most", "sessionAbsoluteTimeoutHours", { type: "number", value: t.sessionAbsoluteTimeoutHours }),
      field("Erase accounts unused for days (empty: keep)", "inactiveAccountRetentionDays", { type: "number", value: t.inactiveAccountRetentionDays ?? "", required: false, ...ownerOnly }),
      field("Keep audit log events for days", "auditRetentionDays", { type: "number", value: t.auditRetentionDays, min: 30, max: 3650,
        hint: owner ? "30 to 3650 days." : ownerOnly.hint, disabled: ownerOnly.disabled })],
    "Save settings", async (data) => {
      const input = { name: data.name, requireMfa: data.requireMfa, sessionIdleTimeoutMinutes: Number(data.sessionIdleTimeoutMinutes),
        sessionAbsoluteTimeoutHours: Number(data.sessionAbsoluteTimeoutHours) };
      if (owner) {
        input.inactiveAccountRetentionDays = data.inactiveAccountRetentionDays === "" ? null : Number(data.inactiveAccountRetentionDays);
        input.auditRetentionDays = Number(data.auditRetentionDays);
      }
      const result = (await gql(`mutation($input: UpdateTenantSettingsInput!) { updateTenantSettings(input: $input) { tenant { name } errors { field message code } } }`, { input })).updateTenantSettings;
      return { ...result, message: "Saved." };
    })),
  owner ? dangerLink() : "");
}
