// The operators' records: contract records of closed tenants under legal hold, and the
// operators' own audit log.

import { gql } from "./api.js";
import { CONTRACT_FIELDS } from "./contract.js";
import { card, day, h, link, thead, when } from "./dom.js";
import { operator, page } from "./shell.js";

const PAGE_SIZE = 25;

function more(pageInfo, load) {
  return pageInfo.hasNextPage ? h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => load(pageInfo.endCursor) }, "More")) : "";
}

function contractCell(c) {
  if (!c) return h("td", { class: "muted" }, "none recorded");
  return h("td", {}, h("strong", {}, c.companyName), h("div", { class: "address" }, c.postalAddress), h("div", {}, c.country),
    c.vatId ? h("div", {}, `VAT ${c.vatId}`) : "", h("div", {}, `${c.contactName} · ${c.billingEmail}`));
}

export async function legalHoldsPage(after = null) {
  const { legalHolds } = await gql(`query($first: Int, $after: String) { legalHolds(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor } edges { node { tenantId slug name closedAt retainUntil legalBasis contract { ${CONTRACT_FIELDS} } } } } }`,
  { first: PAGE_SIZE, after });
  page("Legal holds",
    h("p", {}, "Contract records of closed tenants, kept as the law requires and deleted when the hold ends. Every account of these tenants is erased."),
    h("table", { "aria-label": "Legal holds" }, thead(["Tenant", "Closed", "Kept until", "Legal basis", "Contract record"]),
      h("tbody", {}, legalHolds.edges.map(({ node: hold }) => h("tr", { dataset: { tenant: hold.slug } },
        h("td", {}, hold.name, h("div", { class: "muted" }, hold.slug)), h("td", {}, day(hold.closedAt)), h("td", {}, day(hold.retainUntil)),
        h("td", {}, hold.legalBasis), contractCell(hold.contract))))),
    more(legalHolds.pageInfo, legalHoldsPage));
}

// `tenantId` (in the address) narrows the log to one tenant.
export async function operatorLogPage(after = null) {
  const tenantId = new URLSearchParams(location.search).get("tenantId") || null;
  const { operatorAuditEvents: events } = await gql(`query($first: Int, $after: String, $tenantId: ID) {
    operatorAuditEvents(first: $first, after: $after, tenantId: $tenantId) { pageInfo { hasNextPage endCursor }
      edges { node { id occurredAt action actorType operatorId tenantId ipAddress changes } } } }`, { first: PAGE_SIZE, after, tenantId });
  // An operator's own action names them; SYSTEM and ANONYMOUS events are about the operator named.
  const who = (e) => {
    const named = e.operatorId && e.operatorId === operator?.id ? "you" : e.operatorId?.slice(0, 8) || "";
    return e.actorType === "OPERATOR" ? named : `${e.actorType.toLowerCase()}${named ? ` (about ${named})` : ""}`;
  };
  page("Operator log",
    tenantId ? h("p", {}, `Events about tenant ${tenantId}. `, link("/operator/log", "All events")) : "",
    card("Newest first", h("table", { "aria-label": "Operator log" }, thead(["When", "Action", "Operator", "Tenant", "IP", "Changes"]),
      h("tbody", {}, events.edges.map(({ node: e }) => h("tr", {}, h("td", {}, when(e.occurredAt)), h("td", {}, e.action), h("td", {}, who(e)),
        h("td", {}, e.tenantId ? link(`/operator/log?tenantId=${encodeURIComponent(e.tenantId)}`, e.tenantId.slice(0, 8)) : "—"),
        h("td", {}, e.ipAddress || "—"), h("td", {}, h("code", {}, e.changes ? JSON.stringify(e.changes) : ""))))))),
    more(events.pageInfo, operatorLogPage));
}
