// The account area's profile page: display name, language and time zone, email address, password.

import { gql } from "./api.js";
import { card, h } from "./dom.js";
import { currentPassword, field, form } from "./forms.js";
import { LOCALES, t } from "./i18n.js";
import { loadViewer, page, renderNav, viewer } from "./shell.js";

// The role as the profile names it (the English names are the API's own).
function roleName(role) {
  return { OWNER: t("OWNER"), ADMIN: t("ADMIN"), MEMBER: t("MEMBER") }[role] || role;
}

// Every time zone the browser knows (IANA names), and the account's own even if it does not.
function timeZones(own) {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return own && !zones.includes(own) ? [own, ...zones] : zones;
}

const UPDATE_LOCALE = `mutation($locale: String, $timeZone: String) { updateProfile(input: {locale: $locale, timeZone: $timeZone}) {
  user { locale timeZone } errors { field message code } } }`;

// The account's language and time zone; empty: the organisation's.
function languageForm(u) {
  const followOrganisation = ["", t("Organisation's default")];
  return form([
    field(t("Preferred language"), "locale", { value: u.locale || "", options: [followOrganisation, ...LOCALES],
      hint: t("The console and the emails you receive use this language.") }),
    field(t("Time zone"), "timeZone", { value: u.timeZone || "", options: [followOrganisation, ...timeZones(u.timeZone).map((z) => [z, z])],
      hint: t("Dates and times are shown in this time zone.") }),
  ], t("Save language and time zone"), async (data) => {
    const result = (await gql(UPDATE_LOCALE, data)).updateProfile;
    if (result.errors.length) return result;
    await loadViewer(); // its language and time zone become the console's
    renderNav();
    profilePage(t("Saved."));
    return null;
  });
}

// `notice`: what was just done, shown on top.
export function profilePage(notice) {
  const u = viewer.user;
  page(t("Profile"),
    notice ? h("p", { class: "alert ok", role: "status" }, notice) : "",
    card(t("Your details"), h("p", {}, t("Username: {username} · Role: {role} · Organisation: {organisation}",
      { username: u.username, role: roleName(u.role), organisation: viewer.tenant.name })),
    form([field(t("Display name"), "displayName", { value: u.displayName || "", required: false, autocomplete: "name" })], t("Save"), async (data) => {
      const result = (await gql(`mutation($displayName: String) { updateProfile(input: {displayName: $displayName}) { user { displayName } errors { field message code } } }`, data)).updateProfile;
      await loadViewer();
      return { ...result, message: t("Saved.") };
    })),
    card(t("Language and time zone"), languageForm(u)),
    card(t("Email address"), h("p", {}, u.emailVerified ? t("Current: {email} (confirmed)", { email: u.email }) : t("Current: {email}", { email: u.email })),
      form([field(t("New email"), "newEmail", { type: "email", autocomplete: "email" }), currentPassword()],
        t("Change email"), async (data) => {
          const result = (await gql(`mutation($newEmail: String!, $password: String!) { changeEmail(input: {newEmail: $newEmail, password: $password}) { ok errors { field message code } } }`, data)).changeEmail;
          return { ...result, message: t("Check the new address for a confirmation link.") };
        })),
    card(t("Password"),
      form([field(t("Current password"), "currentPassword", { type: "password", autocomplete: "current-password" }),
        field(t("New password"), "newPassword", { type: "password", autocomplete: "new-password" })], t("Change password"), async (data) => {
        const result = (await gql(`mutation($currentPassword: String!, $newPassword: String!) { changePassword(input: {currentPassword: $currentPassword, newPassword: $newPassword}) { ok errors { field message code } } }`, data)).changePassword;
        return { ...result, message: t("Password changed; your other sessions were signed out.") };
      })));
}
