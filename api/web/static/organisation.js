// The OWNER's organisation pages: the contract record, and closing the organisation (a
// danger zone with a typed confirmation), then the page that says what was done.

import { gql } from "./api.js";
import { CONTRACT_FIELDS, contractFields, contractInput } from "./contract.js";
import { card, day, facts, h, link, when } from "./dom.js";
import { currentPassword, field, form } from "./forms.js";
import { formatNumber, t, tn } from "./i18n.js";
import { forgetViewer, go, page, viewer } from "./shell.js";

// CONTRACT_RETENTION_YEARS' default: the API does not tell the period before closure (the
// closed page shows the real date the API answers).
const RETENTION_YEARS = 7;

export async function contractPage() {
  const { viewer: v } = await gql(`{ viewer { tenant { name contract { ${CONTRACT_FIELDS} createdAt updatedAt } } } }`);
  const c = v.tenant.contract;
  page(t("Contract"),
    card(t("Contracting party"),
      h("p", {}, t("Who holds {organisation}'s licence, for invoices. Only owners see these details.", { organisation: v.tenant.name })),
      c ? h("p", { class: "muted" }, t("Recorded {created}; last changed {updated}.", { created: when(c.createdAt), updated: when(c.updatedAt) }))
        : h("p", { class: "alert error" }, t("No contract record yet: fill in every field (the VAT number is optional).")),
      form([contractFields(t("Details"), c || {})], t("Save contract"), async (data) => {
        const result = (await gql(`mutation($input: UpdateContractInput!) { updateContract(input: $input) {
          contract { ${CONTRACT_FIELDS} } errors { field message code } } }`, { input: contractInput(data) })).updateContract;
        return { ...result, message: t("Saved.") };
      })),
    dangerLink());
}

// Where the way to the closure page starts (the contract and settings pages).
export function dangerLink() {
  return h("section", { class: "card danger-zone", "aria-label": t("Danger zone") }, h("h2", {}, t("Danger zone")),
    h("p", {}, t("Closing the organisation erases every account at once.")),
    link("/admin/close", t("Close the organisation…"), { class: "button danger" }));
}

export async function closePage() {
  const { viewer: v } = await gql(`{ viewer { tenant { name slug seatsUsed contract { companyName } } } }`);
  const tenant = v.tenant;
  const until = new Date();
  until.setFullYear(until.getFullYear() + RETENTION_YEARS);
  const fields = [
    field(t("Organisation address"), "confirmSlug", { autocomplete: "off", autocapitalize: "none", spellcheck: "false",
      hint: t("Type {slug} to confirm that you mean it.", { slug: tenant.slug }) }),
    currentPassword(),
  ];
  if (viewer.user.mfaEnabled) fields.push(field(t("Code from your authenticator app or a recovery code"), "code", { autocomplete: "one-time-code" }));
  const matches = (el) => el.elements.confirmSlug.value.trim().toLowerCase() === tenant.slug.toLowerCase();
  page(t("Close the organisation"),
    h("section", { class: "card danger-zone", "aria-label": t("Danger zone") }, h("h2", {}, t("Close {organisation}", { organisation: tenant.name })),
      h("p", {}, t("What happens when you close the organisation:")),
      h("ul", {},
        h("li", {}, t("Every account is erased at once: yours and all others ({count} in use), with their sessions, two-step settings, consents, exports and mail.",
          { count: formatNumber(tenant.seatsUsed) })),
        tenant.contract
          ? h("li", {}, tn("The contract record (company, address, VAT number, billing contact) is kept under legal hold until about {date}, as tax law requires ({n} year), and is then deleted. Only the vendor's staff can see it.",
            "The contract record (company, address, VAT number, billing contact) is kept under legal hold until about {date}, as tax law requires ({n} years), and is then deleted. Only the vendor's staff can see it.",
            RETENTION_YEARS, { date: day(until) }))
          : h("li", {}, t("There is no contract record to keep.")),
        h("li", {}, t("Nobody can log in any more, and the organisation address stays reserved until the hold ends."))),
      h("p", {}, h("strong", {}, t("This cannot be undone."))),
      form(fields, t("Close the organisation permanently"), async (data) => {
        const input = { confirmSlug: data.confirmSlug, password: data.password, code: data.code || null };
        const result = (await gql(`mutation($input: CloseTenantInput!) { closeTenant(input: $input) {
          state closedAt retainUntil accountsErased errors { field message code } } }`, { input })).closeTenant;
        if (!result.errors.length) {
          forgetViewer();
          go("/closed", { closed: { name: tenant.name, slug: tenant.slug, contract: Boolean(tenant.contract), ...result } });
        }
        return result;
      }, { danger: true, canSubmit: matches })));
}

// After closure the session is gone: this page is public, and shows what the API answered.
export function closedPage() {
  const closed = history.state?.closed;
  if (!closed) {
    page(t("Organisation closed"), h("p", {}, t("This organisation's account is closed.")));
    return;
  }
  page(t("Organisation closed"),
    h("p", { class: "alert ok", role: "status" }, t("{name} ({slug}) is closed.", { name: closed.name, slug: closed.slug })),
    facts(t("What was done"), [
      [t("Closed"), when(closed.closedAt)],
      [t("Accounts erased"), formatNumber(closed.accountsErased)],
      [closed.contract ? t("Contract record kept until") : t("Legal hold until"), day(closed.retainUntil)],
    ]),
    h("p", {}, closed.contract
      ? t("Every account was erased, yours included. The contract record is kept under legal hold until {date}, as tax law requires, and deleted then. The owners were sent a confirmation by email.",
        { date: day(closed.retainUntil) })
      : t("Every account was erased, yours included. The owners were sent a confirmation by email.")),
    h("p", {}, link("/", t("Back to the start"))));
}
