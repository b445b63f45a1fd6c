// The operator console (the vendor's staff): logging in with password and code, the tenants
// (search, state, paging), one tenant (seat licence, suspend / reactivate, close in a danger
// zone), and creating a tenant. Operators never see a tenant's users or their data.

import { gql } from "./api.js";
import { contractFields, contractGiven, contractInput } from "./contract.js";
import { card, day, facts, h, link, thead, when } from "./dom.js";
import { field, fieldset, form } from "./forms.js";
import { formatNumber, t, tn } from "./i18n.js";
import { go, loadViewer, page } from "./shell.js";

const PAGE_SIZE = 20;
const SUMMARY = "id slug name state seatLimit seatsUsed createdAt lastActivityAt stateChangedAt closedAt retainUntil";
const ERRORS = "errors { field message code }";

// A tenant's state, as people read it; the filter's choices.
const stateName = (state) => ({ ACTIVE: t("Active"), SUSPENDED: t("Suspended"), CLOSED: t("Closed") })[state] || state;
const states = () => [["", t("Any state")], ...["ACTIVE", "SUSPENDED", "CLOSED"].map((s) => [s, stateName(s)])];
const seats = (tenant) => (tenant.seatLimit === null || tenant.seatLimit === undefined
  ? t("{used} of unlimited", { used: formatNumber(tenant.seatsUsed) })
  : t("{used} of {limit}", { used: formatNumber(tenant.seatsUsed), limit: formatNumber(tenant.seatLimit) }));
const tenantHref = (slug) => `/operator/tenant?slug=${encodeURIComponent(slug)}`;

export function operatorLoginPage() {
  page(t("Operator log in"), card(t("The vendor's staff"),
    h("p", {}, t("Your password and the current code from your authenticator app.")),
    form([
      field(t("Username"), "username", { autocomplete: "username", autocapitalize: "none" }),
      field(t("Password"), "password", { type: "password", autocomplete: "current-password" }),
      field(t("Code"), "code", { autocomplete: "one-time-code", inputmode: "numeric" }),
    ], t("Log in"), async (data) => {
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
  page(t("Tenants"),
    form([field(t("Search"), "search", { value: search, required: false, type: "search", placeholder: t("name or address") }),
      field(t("State"), "state", { options: states(), value: state })], t("Filter"), async (data) => { go(listing({ ...data, after: "" })); },
    { className: "inline" }),
    h("p", { class: "muted" }, tn("{n} tenant", "{n} tenants", tenants.totalCount)),
    h("table", { "aria-label": t("Tenants") }, thead([t("Tenant"), t("State"), t("Seats used"), t("Created"), t("Last activity")]),
      h("tbody", {}, tenants.edges.map(({ node: tenant }) => h("tr", { dataset: { tenant: tenant.slug } },
        h("td", {}, link(tenantHref(tenant.slug), tenant.name), h("div", { class: "muted" }, tenant.slug)),
        h("td", {}, h("span", { class: `state ${tenant.state.toLowerCase()}` }, stateName(tenant.state))),
        h("td", {}, seats(tenant)), h("td", {}, day(tenant.createdAt)), h("td", {}, when(tenant.lastActivityAt)))))),
    h("p", { class: "row" },
      after ? link(listing({ after: "" }), t("First page"), { class: "button secondary" }) : "",
      tenants.pageInfo.hasNextPage ? link(listing({ after: tenants.pageInfo.endCursor }), t("Next page"), { class: "button secondary" }) : ""));
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
  const tenant = await tenantBySlug(slug);
  if (!tenant) {
    page(t("No such tenant"), h("p", {}, t("There is no tenant with the address {slug}.", { slug })),
      h("p", {}, link("/operator/tenants", t("All tenants"))));
    return;
  }
  const { operatorAuditEvents: events } = await gql(`query($t: ID) { operatorAuditEvents(first: 20, tenantId: $t) {
    edges { node { id occurredAt action actorType operatorId changes } } } }`, { t: tenant.id });
  const again = () => tenantPage();
  const act = (mutation, input, name) => async (data) => {
    const result = (await gql(`mutation($input: ${mutation}!) { ${name}(input: $input) { tenant { id } ${ERRORS} } }`, { input: input(data) }))[name];
    if (!result.errors.length) await again();
    return result;
  };
  const created = history.state?.created; // from the new-tenant form, shown once
  if (created) history.replaceState({}, "");
  page(tenant.name,
    created ? h("p", { class: "alert ok", role: "status" }, t("Created. The owner was invited by email ({email}).", { email: created })) : "",
    facts(t("Tenant"), [
      [t("Address"), tenant.slug], [t("State"), stateName(tenant.state)], [t("Seats used"), seats(tenant)], [t("Created"), when(tenant.createdAt)],
      [t("Last activity"), when(tenant.lastActivityAt)], [t("State changed"), tenant.stateChangedAt && when(tenant.stateChangedAt)],
      [t("Closed"), tenant.closedAt && when(tenant.closedAt)], [t("Contract record kept until"), tenant.retainUntil && day(tenant.retainUntil)],
    ]),
    ...(tenant.state === "CLOSED"
      ? [h("p", {}, t("Every account is erased; the contract record is under legal hold."), " ", link("/operator/legal-holds", t("Legal holds")))]
      : [
        card(t("Seat licence"),
          form([field(t("Seats licensed"), "seatLimit", { type: "number", min: 1, value: tenant.seatLimit ?? "", required: false,
            hint: tn("Empty: unlimited. Not lower than the {n} seat in use.", "Empty: unlimited. Not lower than the {n} seats in use.", tenant.seatsUsed) })],
          t("Change licence"),
          act("SetTenantSeatLimitInput", (d) => ({ tenantId: tenant.id, seatLimit: d.seatLimit === "" ? null : Number(d.seatLimit) }), "setTenantSeatLimit"))),
        tenant.state === "SUSPENDED"
          ? card(t("Suspended"), h("p", {}, t("Nobody of this tenant can log in. Reactivating lets them log in again; their data was kept.")),
            form([], t("Reactivate tenant"), act("ReactivateTenantInput", () => ({ tenantId: tenant.id }), "reactivateTenant")))
          : card(t("Suspend"), h("p", {}, t("Nobody of this tenant can log in and every session ends at once; the data is kept. You can reactivate it later.")),
            form([field(t("Reason"), "reason", { required: false, maxlength: 500,
              hint: t("For the operators' log; the tenant sees only that a reason was given.") })], t("Suspend tenant"),
            act("SuspendTenantInput", (d) => ({ tenantId: tenant.id, reason: d.reason || null }), "suspendTenant"), { danger: true })),
        closeZone(tenant, again),
      ]),
    card(t("Operator actions on this tenant"), h("table", { "aria-label": t("Operator actions") }, thead([t("When"), t("Action"), t("Changes")]),
      h("tbody", {}, events.edges.map(({ node: e }) => h("tr", {}, h("td", {}, when(e.occurredAt)), h("td", {}, e.action),
        h("td", {}, h("code", {}, e.changes ? JSON.stringify(e.changes) : ""))))))));
}

function closeZone(tenant, again) {
  const matches = (el) => el.elements.confirmSlug.value.trim().toLowerCase() === tenant.slug.toLowerCase();
  return h("section", { class: "card danger-zone", "aria-label": t("Danger zone") }, h("h2", {}, t("Close this tenant")),
    h("ul", {},
      h("li", {}, t("Every account of {tenant} ({count} in use) is erased at once, with everything about it.",
        { tenant: tenant.name, count: formatNumber(tenant.seatsUsed) })),
      h("li", {}, t("The contract record is kept under legal hold for the statutory period, then deleted.")),
      h("li", {}, t("This cannot be undone."))),
    form([field(t("Organisation address"), "confirmSlug", { autocomplete: "off", autocapitalize: "none", spellcheck: "false",
      hint: t("Type {slug} to confirm that you mean it.", { slug: tenant.slug }) }),
      field(t("Your password"), "password", { type: "password", autocomplete: "current-password" }),
      field(t("Code from your authenticator app"), "code", { inputmode: "numeric", autocomplete: "one-time-code" })],
    t("Close tenant permanently"), async (data) => {
      const result = (await gql(`mutation($input: CloseTenantInput!) { closeTenant(input: $input) { state retainUntil ${ERRORS} } }`,
        { input: { tenantId: tenant.id, confirmSlug: data.confirmSlug, password: data.password, code: data.code } })).closeTenant;
      if (!result.errors.length) await again();
      return result;
    }, { danger: true, canSubmit: matches }));
}

export function newTenantPage() {
  page(t("New tenant"), card(t("Create a tenant"),
    h("p", {}, t("Its owner is invited by email to choose a password.")),
    form([
      fieldset(t("Organisation"),
        field(t("Organisation name"), "name", { autocomplete: "off" }),
        field(t("Organisation address"), "slug", { autocomplete: "off", autocapitalize: "none", spellcheck: "false",
          hint: t("3 to 63 lowercase letters, digits and '-'; typed at login.") }),
        field(t("Seats licensed"), "seatLimit", { type: "number", min: 1, required: false, hint: t("Empty: unlimited.") })),
      fieldset(t("Owner"),
        field(t("Owner's username"), "ownerUsername", { autocomplete: "off", autocapitalize: "none" }),
        field(t("Owner's email"), "ownerEmail", { type: "email", autocomplete: "off" })),
      contractFields(t("Contracting party (optional)"), {}, { required: false }),
    ], t("Create tenant"), async (data) => {
      const input = { slug: data.slug.trim(), name: data.name, ownerUsername: data.ownerUsername, ownerEmail: data.ownerEmail,
        seatLimit: data.seatLimit === "" ? null : Number(data.seatLimit), contract: contractGiven(data) ? contractInput(data) : null };
      const result = (await gql(`mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenantId slug ${ERRORS} } }`, { input })).createTenant;
      if (!result.errors.length) go(tenantHref(result.slug), { created: data.ownerEmail });
      return result;
    })));
}
