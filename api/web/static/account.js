// The account area's profile page: display name, email address, password.

import { gql } from "./api.js";
import { card, h } from "./dom.js";
import { currentPassword, field, form } from "./forms.js";
import { loadViewer, page, viewer } from "./shell.js";

export function profilePage() {
  const u = viewer.user;
  page("Profile",
    card("Your details", h("p", {}, `Username: ${u.username} · Role: ${u.role} · Organisation: ${viewer.tenant.name}`),
      form([field("Display name", "displayName", { value: u.displayName || "", required: false, autocomplete: "name" })], "Save", async (data) => {
        const result = (await gql(`mutation($displayName: String) { updateProfile(input: {displayName: $displayName}) { user { displayName } errors { field message code } } }`, data)).updateProfile;
        await loadViewer();
        return { ...result, message: "Saved." };
      })),
    card("Email address", h("p", {}, `Current: ${u.email}${u.emailVerified ? " (confirmed)" : ""}`),
      form([field("New email", "newEmail", { type: "email", autocomplete: "email" }), currentPassword()],
        "Change email", async (data) => {
          const result = (await gql(`mutation($newEmail: String!, $password: String!) { changeEmail(input: {newEmail: $newEmail, password: $password}) { ok errors { field message code } } }`, data)).changeEmail;
          return { ...result, message: "Check the new address for a confirmation link." };
        })),
    card("Password",
      form([field("Current password", "currentPassword", { type: "password", autocomplete: "current-password" }),
        field("New password", "newPassword", { type: "password", autocomplete: "new-password" })], "Change password", async (data) => {
        const result = (await gql(`mutation($currentPassword: String!, $newPassword: String!) { changePassword(input: {currentPassword: $currentPassword, newPassword: $newPassword}) { ok errors { field message code } } }`, data)).changePassword;
        return { ...result, message: "Password changed; your other sessions were signed out." };
      })));
}
