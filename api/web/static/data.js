// My data: requesting and downloading an export, and deleting the account.

import { gql } from "./api.js";
import { card, h, thead, when } from "./dom.js";
import { currentPassword, form } from "./forms.js";
import { forgetViewer, page, renderNav } from "./shell.js";

// Which connected applications' parts an export is still waiting for, and which could not
// be had (the archive names them too).
function exportParts(r) {
  if (r.kind !== "EXPORT") return "";
  const named = (status) => r.applications.filter((p) => p.status === status);
  const missing = named("MISSING");
  const waiting = ["PENDING", "PROCESSING"].includes(r.status) ? named("PENDING") : [];
  return [
    waiting.length ? h("div", { class: "muted" }, `Waiting for ${waiting.map((p) => p.application).join(", ")}.`) : "",
    missing.length ? h("div", { class: "parts-missing" }, "Not in this copy: the data of ",
      missing.flatMap((p, i) => [i ? ", " : "", h("strong", {}, p.application), p.reason ? ` (${p.reason})` : ""]), ".") : "",
  ];
}

export async function dataPage() {
  const { viewer: v } = await gql(`{ viewer { dataRequests { id kind status requestedAt dueAt completedAt downloadUrl downloadExpiresAt
    applications { application status reason } } } }`);
  const pending = v.dataRequests.filter((r) => r.kind === "EXPORT" && ["PENDING", "PROCESSING"].includes(r.status));
  // Each second while an export is fresh; less often while it waits for connected applications' parts.
  const fresh = pending.some((r) => Date.now() - new Date(r.requestedAt) < 120_000);
  if (pending.length) setTimeout(() => location.pathname === "/account/data" && dataPage(), fresh ? 1000 : 15_000);
  page("My data",
    card("A copy of your data", h("p", {}, "A JSON file with everything this service holds about you. It is ready in a moment and can be downloaded for 24 hours."),
      form([], "Request a copy", async () => {
        const result = (await gql(`mutation { requestDataExport { dataRequest { id } errors { field message code } } }`)).requestDataExport;
        if (!result.errors.length) dataPage();
        return result;
      }),
      h("table", { "aria-label": "Your requests" }, thead(["Requested", "Kind", "Status", "Download"]),
        h("tbody", {}, v.dataRequests.map((r) => h("tr", {}, h("td", {}, when(r.requestedAt)), h("td", {}, r.kind), h("td", {}, r.status, exportParts(r)),
          h("td", {}, r.downloadUrl ? h("a", { href: new URL(r.downloadUrl).pathname, download: "account-export.json" }, `Download (until ${when(r.downloadExpiresAt)})`) : "—")))))),
    card("Delete your account", h("p", {}, "Your account and everything about it is erased at once. This cannot be undone."),
      form([currentPassword()], "Delete my account", async (data) => {
        const result = (await gql(`mutation($password: String!) { deleteAccount(input: {password: $password}) { ok errors { field message code } } }`, data)).deleteAccount;
        if (result.ok) { forgetViewer(); page("Account deleted", h("p", { class: "alert ok", role: "status" }, "Your account was erased.")); renderNav(); }
        return result;
      }, { danger: true })));
}
