// The OWNER's organisation pages: the contract record, and closing the organisation (a
// danger zone with a typed confirmation), then the page that says what was done.

import { gql } from "./api.js";
import { CONTRACT_FIELDS, contractFields, contractInput } from "./contract.js";
import { card, day, facts, h, link, when } from "./dom.js";
import { currentPassword, field, form } from "./forms.js";
import { forgetViewer, go, page, viewer } from "./shell.js";

// CONTRACT_RETENTION_YEARS' default: the API does not tell the period before closure (the
// closed page shows the real date the API answers).
const RETENTION_YEARS = 7;

export async function contractPage() {
  const { viewer: v } = await gql(`{ viewer { tenant { name contract { ${CONTRACT_FIELDS} createdAt updatedAt } } } }`);
  const c = v.tenant.contract;
  page("Contract",
    card("Contracting party",
      h("p", {}, `Who holds ${v.tenant.name}'s licence, for invoices. Only owners see these details.`),
      c ? h("p", { class: "muted" }, `Recorded ${when(c.createdAt)}; last changed ${when(c.updatedAt)}.`)
        : h("p", { class: "alert error" }, "No contract record yet: fill in every field (the VAT number is optional)."),
      form([contractFields("Details", c || {})], "Save contract", async (data) => {
        const result = (await gql(`mutation($input: UpdateContractInput!) { updateContract(input: $input) {
          contract { ${CONTRACT_FIELDS} } errors { field message code } } }`, { input: contractInput(data) })).updateContract;
        return { ...result, message: "Saved." };
      })),
    dangerLink());
}

// Where the way to the closure page starts (the contract and settings pages).
export function dangerLink() {
  return h("section", { class: "card danger-zone", "aria-label": "Danger zone" }, h("h2", {}, "Danger zone"),
    h("p", {}, "Closing the organisation erases every account at once."),
    link("/admin/close", "Close the organisation…", { class: "button danger" }));
}

export async function closePage() {
  const { viewer: v } = await gql(`{ viewer { tenant { name slug seatsUsed contract { companyName } } } }`);
  const t = v.tenant;
  const until = new Date();
  until.setFullYear(until.getFullYear() + RETENTION_YEARS);
  const fields = [
    field("Organisation address", "confirmSlug", { autocomplete: "off", autocapitalize: "none", spellcheck: "false",
      hint: `Type ${t.slug} to confirm that you mean it.` }),
    currentPassword(),
  ];
  if (viewer.user.mfaEnabled) fields.push(field("Code from your authenticator app or a recovery code", "code", { autocomplete: "one-time-code" }));
  const matches = (el) => el.elements.confirmSlug.value.trim().toLowerCase() === t.slug.toLowerCase();
  page("Close the organisation",
    h("section", { class: "card danger-zone", "aria-label": "Danger zone" }, h("h2", {}, `Close ${t.name}`),
      h("p", {}, "What happens when you close the organisation:"),
      h("ul", {},
        h("li", {}, `Every account is erased at once: yours and all others (${t.seatsUsed} in use), with their sessions, two-step settings, consents, exports and mail.`),
        t.contract
          ? h("li", {}, `The contract record (company, address, VAT number, billing contact) is kept under legal hold until about ${day(until)}, as tax law requires (${RETENTION_YEARS} years), and is then deleted. Only the vendor's staff can see it.`)
          : h("li", {}, "There is no contract record to keep."),
        h("li", {}, "Nobody can log in any more, and the organisation address stays reserved until the hold ends.")),
      h("p", {}, h("strong", {}, "This cannot be undone.")),
      form(fields, "Close the organisation permanently", async (data) => {
        const input = { confirmSlug: data.confirmSlug, password: data.password, code: data.code || null };
        const result = (await gql(`mutation($input: CloseTenantInput!) { closeTenant(input: $input) {
          state closedAt retainUntil accountsErased errors { field message code } } }`, { input })).closeTenant;
        if (!result.errors.length) {
          forgetViewer();
          go("/closed", { closed: { name: t.name, slug: t.slug, contract: Boolean(t.contract), ...result } });
        }
        return result;
      }, { danger: true, canSubmit: matches })));
}

// After closure the session is gone: this page is public, and shows what the API answered.
export function closedPage() {
  const closed = history.state?.closed;
  if (!closed) {
    page("Organisation closed", h("p", {}, "This organisation's account is closed."));
    return;
  }
  page("Organisation closed",
    h("p", { class: "alert ok", role: "status" }, `${closed.name} (${closed.slug}) is closed.`),
    facts("What was done", [
      ["Closed", when(closed.closedAt)],
      ["Accounts erased", String(closed.accountsErased)],
      [closed.contract ? "Contract record kept until" : "Legal hold until", day(closed.retainUntil)],
    ]),
    h("p", {}, "Every account was erased, yours included. ",
      closed.contract ? `The contract record is kept under legal hold until ${day(closed.retainUntil)}, as tax law requires, and deleted then. ` : "",
      "The owners were sent a confirmation by email."),
    h("p", {}, link("/", "Back to the start")));
}
