// The contract record's fields (the contracting party: who buys the licence, for invoicing),
// shared by sign-up, the OWNER's contract page and the operators' new-tenant form.

import { field, fieldset } from "./forms.js";
import { t } from "./i18n.js";

export const CONTRACT_FIELDS = "companyName postalAddress country vatId billingEmail contactName";
const NAMES = CONTRACT_FIELDS.split(" ");

// `legend`: already translated. `required`: false where the whole record is optional (an
// operator may leave it out).
export function contractFields(legend, c = {}, { required = true } = {}) {
  return fieldset(legend,
    field(t("Company name"), "companyName", { value: c.companyName || "", required, autocomplete: "organization" }),
    field(t("Postal address"), "postalAddress", { value: c.postalAddress || "", required, multiline: true, autocomplete: "street-address" }),
    field(t("Country"), "country", { value: c.country || "", required, autocomplete: "country", maxlength: 2, class: "short",
      hint: t("Two letters (ISO 3166), such as NL or DE.") }),
    field(t("VAT number (optional)"), "vatId", { value: c.vatId || "", required: false, autocomplete: "off" }),
    field(t("Billing email"), "billingEmail", { type: "email", value: c.billingEmail || "", required, autocomplete: "email" }),
    field(t("Contact name"), "contactName", { value: c.contactName || "", required, autocomplete: "name" }));
}

// ContractInput from the form's values: an empty VAT number is none.
export function contractInput(data) {
  const input = Object.fromEntries(NAMES.map((name) => [name, (data[name] || "").trim()]));
  input.country = input.country.toUpperCase();
  input.vatId = input.vatId || null;
  return input;
}

// Whether any contract field was filled in (the record is optional when an operator creates a tenant).
export function contractGiven(data) {
  return NAMES.some((name) => (data[name] || "").trim());
}
