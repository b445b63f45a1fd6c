// Consents: agreeing to or withdrawing each purpose, and the history of decisions.

import { gql } from "./api.js";
import { card, h, thead, when } from "./dom.js";
import { page } from "./shell.js";

export async function consentsPage() {
  const { viewer: v } = await gql(`{ viewer { consents { purpose { key title description legalBasis version } granted version needsRenewal updatedAt }
    consentHistory { purposeKey granted version source recordedAt } } }`);
  const decide = (key, granted) => async () => {
    await gql(`mutation($input: [ConsentDecisionInput!]!) { setConsents(input: $input) { errors { message } } }`, { input: [{ purposeKey: key, granted }] });
    consentsPage();
  };
  page("Consents",
    card("What your data is used for", v.consents.map((c) => h("div", { class: "card", dataset: { purpose: c.purpose.key } },
      h("h3", {}, c.purpose.title), h("p", { class: "muted" }, c.purpose.description),
      c.purpose.legalBasis !== "CONSENT"
        ? h("p", {}, `Needed for the service (${c.purpose.legalBasis.toLowerCase().replace("_", " ")}).`)
        : h("div", { class: "row" },
          h("span", {}, c.granted ? (c.needsRenewal ? "Given for an earlier version: please review." : "You agreed.") : (c.updatedAt ? "You declined." : "Not decided yet.")),
          c.granted && !c.needsRenewal
            ? h("button", { type: "button", class: "secondary", onclick: decide(c.purpose.key, false) }, `Withdraw: ${c.purpose.title}`)
            : h("button", { type: "button", onclick: decide(c.purpose.key, true) }, `Agree: ${c.purpose.title}`))))),
    card("History", h("table", { "aria-label": "Consent history" },
      thead(["When", "Purpose", "Decision", "Version", "Where"]),
      h("tbody", {}, v.consentHistory.map((e) => h("tr", {}, h("td", {}, when(e.recordedAt)), h("td", {}, e.purposeKey),
        h("td", {}, e.granted ? "agreed" : "withdrawn"), h("td", {}, e.version), h("td", {}, e.source)))))));
}
