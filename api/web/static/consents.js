// Consents: agreeing to or withdrawing each purpose, and the history of decisions.

import { gql } from "./api.js";
import { card, h, thead, when } from "./dom.js";
import { t } from "./i18n.js";
import { page } from "./shell.js";

// Why a purpose that is not up to the user is needed (its legal basis).
function basisName(basis) {
  return { CONTRACT: t("contract"), LEGITIMATE_INTEREST: t("legitimate interest"), LEGAL_OBLIGATION: t("legal obligation") }[basis]
    || basis.toLowerCase().replace("_", " ");
}

// Where a decision came from (ConsentHistoryEntry.source).
function sourceName(source) {
  return { web: t("web"), api: t("API"), admin: t("admin"), "email-link": t("email link"), system: t("system") }[source] || source;
}

function state(c) {
  if (c.granted) return c.needsRenewal ? t("Given for an earlier version: please review.") : t("You agreed.");
  return c.updatedAt ? t("You declined.") : t("Not decided yet.");
}

export async function consentsPage() {
  const { viewer: v } = await gql(`{ viewer { consents { purpose { key title description legalBasis version } granted version needsRenewal updatedAt }
    consentHistory { purposeKey granted version source recordedAt } } }`);
  const decide = (key, granted) => async () => {
    await gql(`mutation($input: [ConsentDecisionInput!]!) { setConsents(input: $input) { errors { message } } }`, { input: [{ purposeKey: key, granted }] });
    consentsPage();
  };
  page(t("Consents"),
    card(t("What your data is used for"), v.consents.map((c) => h("div", { class: "card", dataset: { purpose: c.purpose.key } },
      h("h3", {}, c.purpose.title), h("p", { class: "muted" }, c.purpose.description),
      c.purpose.legalBasis !== "CONSENT"
        ? h("p", {}, t("Needed for the service ({basis}).", { basis: basisName(c.purpose.legalBasis) }))
        : h("div", { class: "row" },
          h("span", {}, state(c)),
          c.granted && !c.needsRenewal
            ? h("button", { type: "button", class: "secondary", onclick: decide(c.purpose.key, false) }, t("Withdraw: {purpose}", { purpose: c.purpose.title }))
            : h("button", { type: "button", onclick: decide(c.purpose.key, true) }, t("Agree: {purpose}", { purpose: c.purpose.title })))))),
    card(t("History"), h("table", { "aria-label": t("Consent history") },
      thead([t("When"), t("Purpose"), t("Decision"), t("Version"), t("Where")]),
      h("tbody", {}, v.consentHistory.map((e) => h("tr", {}, h("td", {}, when(e.recordedAt)), h("td", {}, e.purposeKey),
        h("td", {}, e.granted ? t("agreed") : t("withdrawn")), h("td", {}, e.version), h("td", {}, sourceName(e.source))))))));
}
