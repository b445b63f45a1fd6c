// The operator console (the vendor's staff): logging in with password and code, the tenants
// (search, state, paging), one tenant (seat licence, suspend / reactivate, close in a danger
// zone), and creating a tenant. Operators never see a tenant's users or their data.

import { gql } from "./api.js";
import { contractFields, contractGiven, contractInput } from "./contract.js";
import { card, day, facts, h, link, thead, when } from "./dom.js";
import { field, fieldset, form } from "./forms.js";
import { go, loadViewer, page } from "./shell.js";

const PAGE_SIZE = 20;
const SUMMARY = "id slug name state seatLimit seatsUsed createdAt lastActivityAt stateChangedAt closedAt retainUntil";
const STATES = [["", "Any state"], ["ACTIVE", "Active"], ["SUSPENDED", "Suspended"], ["CLOSED", "Closed"]];
const ERRORS = "errors { field message code }";

const seats = (t) => `${t.seatsUsed} of ${t.seatLimit ?? "unlimited"}`;
const stateName = (state) => state.charAt(0) + state.slice(1).toLowerCase();
const tenantHref = (slug) => `/operator/tenant?slug=${encodeURIComponent(slug)}`;

export function operatorLoginPage() {
  page("Operator log in", card("The vendor's staff",
    h("p", {}, "Your password and the current code from your authenticator app."),
    form([
      field("Username", "username", { autocomplete: "username", autocapitalize: "none" }),
      field("Password", "password", { type: "password", autocomplete: "current-password" }),
      field("Code", "code", { autocomplete: "one-time-code", inputmode: "numeric" }),
    ], "Log in", async (data) => {
      const result = (await gql(`mutation($input: OperatorLoginInput!) { operatorLogin(input: $input) { operator { id username } ${ERRORS} } }`,
        { input: data })).operatorLogin;
      if (!result.errors.length) {
        await loadViewer();
        go("/operator/tenants");
      }
      return result;
    })));
}

// The list's search, state filter and page live in the address, so Back and reloads keep them.
export async function tenantsPage() {
  const params = new URLSearchParams(location.search);
  const search = params.get("search") || "";
  const state = params.get("state") || "";
  const after = params.get("after") || null;
  const { tenants } = await gql(`query($first: Int, $after: String, $search: String, $state: TenantState) {
    tenants(first: $first, after: $after, search: $search, state: $state) { totalCount pageInfo { hasNextPage endCursor }
      edges { node { ${SUMMARY} } } } }`, { first: PAGE_SIZE, after, search: search || null, state: state || null });
  const listing = (changes) => {
    const next = new URLSearchParams({ search, state, ...changes });
    for (const [key, value] of [...next]) if (!value) next.delete(key);
    const query = next.toString();
    return `/operator/tenants${query ? `?${query}` : ""}`;
  };
  page("Tenants",
    form([field("Search", "search", { value: search, required: false, type: "search", placeholder: "name or address" }),
      field("State", "state", { options: STATES, value: state })], "Filter", async (data) => { go(listing({ ...data, after: "" })); },
    { className: "inline" }),
    h("p", { class: "muted" }, `${tenants.totalCount} ${tenants.totalCount === 1 ? "tenant" : "tenants"}`),
    h("table", { "aria-label": "Tenants" }, thead(["Tenant", "State", "Seats used", "Created", "Last activity"]),
      h("tbody", {}, tenants.edges.map(({ node: t }) => h("tr", { dataset: { tenant: t.slug } },
        h("td", {}, link(tenantHref(t.slug), t.name), h("div", { class: "muted" }, t.slug)),
        h("td", {}, h("span", { class: `state ${t.state.toLowerCase()}` }, stateName(t.state))),
        h("td", {}, seats(t)), h("td", {}, day(t.createdAt)), h("td", {}, when(t.lastActivityAt)))))),
    h("p", { class: "row" },
      after ? link(listing({ after: "" }), "First page", { class: "button secondary" }) : "",
      tenants.pageInfo.hasNextPage ? link(listing({ after: tenants.pageInfo.endCursor }), "Next page", { class: "button secondary" }) : ""));
}

// `tenants` has no lookup by slug: search for it, and take the exact match.
async function tenantBySlug(slug) {
  if (!slug) return null;
  let after = null;
  for (;;) {
    const { tenants } = await gql(`query($search: String, $after: String) { tenants(first: 50, search: $search, after: $after) {
      pageInfo { hasNextPage endCursor } edges { node { ${SUMMARY} } } } }`, { search: slug, after });
    const found = tenants.edges.find(({ node }) => node.slug === slug);
    if (found) return found.node;
    if (!tenants.pageInfo.hasNextPage) return null;
    after = tenants.pageInfo.endCursor;
  }
}

export async function tenantPage() {
  const slug = new URLSearchParams(location.search).get("slug") || "";
  const t = await tenantBySlug(slug);
  if (!t) {
    page("No such tenant", h("p", {}, `There is no tenant with the address ${slug}.`), h("p", {}, link("/operator/tenants", "All tenants")));
    return;
  }
  const { operatorAuditEvents: events } = await gql(`query($t: ID) { operatorAuditEvents(first: 20, tenantId: $t) {
    edges { node { id occurredAt action actorType operatorId changes } } } }`, { t: t.id });
  const again = () => tenantPage();
  const act = (mutation, input, name) => async (data) => {
    const result = (await gql(`mutation($input: ${mutation}!) { ${name}(input: $input) { tenant { id } ${ERRORS} } }`, { input: input(data) }))[name];
    if (!result.errors.length) await again();
    return result;
  };
  const created = history.state?.created; // from the new-tenant form, shown once
  if (created) history.replaceState({}, "");
  page(t.name,
    created ? h("p", { class: "alert ok", role: "status" }, `Created. The owner was invited by email (${created}).`) : "",
    facts("Tenant", [
      ["Address", t.slug], ["State", stateName(t.state)], ["Seats used", seats(t)], ["Created", when(t.createdAt)],
      ["Last activity", when(t.lastActivityAt)], ["State changed", t.stateChangedAt && when(t.stateChangedAt)],
      ["Closed", t.closedAt && when(t.closedAt)], ["Contract record kept until", t.retainUntil && day(t.retainUntil)],
    ]),
    ...(t.state === "CLOSED"
      ? [h("p", {}, "Every account is erased; the contract record is under legal hold. ", link("/operator/legal-holds", "Legal holds"))]
      : [
        card("Seat licence",
          form([field("Seats licensed", "seatLimit", { type: "number", min: 1, value: t.seatLimit ?? "", required: false,
            hint: `Empty: unlimited. Not lower than the ${t.seatsUsed} seats in use.` })], "Change licence",
          act("SetTenantSeatLimitInput", (d) => ({ tenantId: t.id, seatLimit: d.seatLimit === "" ? null : Number(d.seatLimit) }), "setTenantSeatLimit"))),
        t.state === "SUSPENDED"
          ? card("Suspended", h("p", {}, "Nobody of this tenant can log in. Reactivating lets them log in again; their data was kept."),
            form([], "Reactivate tenant", act("ReactivateTenantInput", () => ({ tenantId: t.id }), "reactivateTenant")))
          : card("Suspend", h("p", {}, "Nobody of this tenant can log in and every session ends at once; the data is kept. You can reactivate it later."),
            form([field("Reason", "reason", { required: false, maxlength: 500, hint: "For the operators' log; the tenant sees only that a reason was given." })], "Suspend tenant",
              act("SuspendTenantInput", (d) => ({ tenantId: t.id, reason: d.reason || null }), "suspendTenant"), { danger: true })),
        closeZone(t, again),
      ]),
    card("Operator actions on this tenant", h("table", { "aria-label": "Operator actions" }, thead(["When", "Action", "Changes"]),
      h("tbody", {}, events.edges.map(({ node: e }) => h("tr", {}, h("td", {}, when(e.occurredAt)), h("td", {}, e.action),
        h("td", {}, h("code", {}, e.changes ? JSON.stringify(e.changes) : ""))))))));
}

function closeZone(t, again) {
  const matches = (el) => el.elements.confirmSlug.value.trim().toLowerCase() === t.slug.toLowerCase();
  return h("section", { class: "card danger-zone", "aria-label": "Danger zone" }, h("h2", {}, "Close this tenant"),
    h("ul", {},
      h("li", {}, `Every account of ${t.name} (${t.seatsUsed} in use) is erased at once, with everything about it.`),
      h("li", {}, "The contract record is kept under legal hold for the statutory period, then deleted."),
      h("li", {}, "This cannot be undone.")),
    form([field("Organisation address", "confirmSlug", { autocomplete: "off", autocapitalize: "none", spellcheck: "false",
      hint: `Type ${t.slug} to confirm that you mean it.` }),
      field("Your password", "password", { type: "password", autocomplete: "current-password" }),
      field("Code from your authenticator app", "code", { inputmode: "numeric", autocomplete: "one-time-code" })],
    "Close tenant permanently", async (data) => {
      const result = (await gql(`mutation($input: CloseTenantInput!) { closeTenant(input: $input) { state retainUntil ${ERRORS} } }`,
        { input: { tenantId: t.id, confirmSlug: data.confirmSlug, password: data.password, code: data.code } })).closeTenant;
      if (!result.errors.length) await again();
      return result;
    }, { danger: true, canSubmit: matches }));
}

export function newTenantPage() {
  page("New tenant", card("Create a tenant",
    h("p", {}, "Its owner is invited by email to choose a password."),
    form([
      fieldset("Organisation",
        field("Organisation name", "name", { autocomplete: "off" }),
        field("Organisation address", "slug", { autocomplete: "off", autocapitalize: "none", spellcheck: "false",
          hint: "3 to 63 lowercase letters, digits and '-'; typed at login." }),
        field("Seats licensed", "seatLimit", { type: "number", min: 1, required: false, hint: "Empty: unlimited." })),
      fieldset("Owner",
        field("Owner's username", "ownerUsername", { autocomplete: "off", autocapitalize: "none" }),
        field("Owner's email", "ownerEmail", { type: "email", autocomplete: "off" })),
      contractFields("Contracting party (optional)", {}, { required: false }),
    ], "Create tenant", async (data) => {
      const input = { slug: data.slug.trim(), name: data.name, ownerUsername: data.ownerUsername, ownerEmail: data.ownerEmail,
        seatLimit: data.seatLimit === "" ? null : Number(data.seatLimit), contract: contractGiven(data) ? contractInput(data) : null };
      const result = (await gql(`mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenantId slug ${ERRORS} } }`, { input })).createTenant;
      if (!result.errors.length) go(tenantHref(result.slug), { created: data.ownerEmail });
      return result;
    })));
}
