// The operators' records: contract records of closed tenants under legal hold, and the
// operators' own audit log.

import { gql } from "./api.js";
import { CONTRACT_FIELDS } from "./contract.js";
import { card, day, h, link, thead, when } from "./dom.js";
import { t } from "./i18n.js";
import { operator, page } from "./shell.js";

const PAGE_SIZE = 25;

// Who did something, as the audit logs show it (also the tenants' audit log).
export function actorLabel(actorType) {
  return { USER: t("User"), SYSTEM: t("System"), ANONYMOUS: t("Anonymous"), OPERATOR: t("Operator"), APPLICATION: t("Application") }[actorType]
    || actorType;
}

function more(pageInfo, load) {
  return pageInfo.hasNextPage ? h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => load(pageInfo.endCursor) }, t("More"))) : "";
}

function contractCell(c) {
  if (!c) return h("td", { class: "muted" }, t("none recorded"));
  return h("td", {}, h("strong", {}, c.companyName), h("div", { class: "address" }, c.postalAddress), h("div", {}, c.country),
    c.vatId ? h("div", {}, t("VAT {number}", { number: c.vatId })) : "", h("div", {}, `${c.contactName} · ${c.billingEmail}`));
}

// The legal basis is the statutes' text as the vendor configured it (not translated).
export async function legalHoldsPage(after = null) {
  const { legalHolds } = await gql(`query($first: Int, $after: String) { legalHolds(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor } edges { node { tenantId slug name closedAt retainUntil legalBasis contract { ${CONTRACT_FIELDS} } } } } }`,
  { first: PAGE_SIZE, after });
  page(t("Legal holds"),
    h("p", {}, t("Contract records of closed tenants, kept as the law requires and deleted when the hold ends. Every account of these tenants is erased.")),
    h("table", { "aria-label": t("Legal holds") }, thead([t("Tenant"), t("Closed"), t("Kept until"), t("Legal basis"), t("Contract record")]),
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
    const you = e.operatorId && e.operatorId === operator?.id;
    const named = you ? t("you") : e.operatorId?.slice(0, 8) || "";
    if (e.actorType === "OPERATOR") return named;
    if (!named) return actorLabel(e.actorType);
    return you ? t("{actor} (about you)", { actor: actorLabel(e.actorType) })
      : t("{actor} (about {operator})", { actor: actorLabel(e.actorType), operator: named });
  };
  page(t("Operator log"),
    tenantId ? h("p", {}, t("Events about tenant {tenant}.", { tenant: tenantId }), " ", link("/operator/log", t("All events"))) : "",
    card(t("Newest first"), h("table", { "aria-label": t("Operator log") },
      thead([t("When"), t("Action"), t("Operator"), t("Tenant"), t("IP"), t("Changes")]),
      h("tbody", {}, events.edges.map(({ node: e }) => h("tr", {}, h("td", {}, when(e.occurredAt)), h("td", {}, e.action), h("td", {}, who(e)),
        h("td", {}, e.tenantId ? link(`/operator/log?tenantId=${encodeURIComponent(e.tenantId)}`, e.tenantId.slice(0, 8)) : "—"),
        h("td", {}, e.ipAddress || "—"), h("td", {}, h("code", {}, e.changes ? JSON.stringify(e.changes) : ""))))))),
    more(events.pageInfo, operatorLogPage));
}
