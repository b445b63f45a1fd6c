// My data: requesting and downloading an export, and deleting the account.

import { gql } from "./api.js";
import { card, h, thead, when } from "./dom.js";
import { currentPassword, form } from "./forms.js";
import { t } from "./i18n.js";
import { forgetViewer, page, renderNav } from "./shell.js";

// A request's kind and status as shown (the English names are the API's own).
const kindName = (kind) => ({ EXPORT: t("EXPORT"), ERASURE: t("ERASURE") }[kind] || kind);
const statusName = (status) => ({ PENDING: t("PENDING"), PROCESSING: t("PROCESSING"), COMPLETED: t("COMPLETED"),
  FAILED: t("FAILED"), REJECTED: t("REJECTED") }[status] || status);
// Why an application's part is missing (the server's reasons).
const reasonName = (reason) => ({ "the request for the part could not be delivered": t("the request for the part could not be delivered"),
  "no part came in time": t("no part came in time"), "no part came": t("no part came") }[reason] || reason);

// A translated sentence with nodes where its {name} placeholder is.
function sentence(text, name, nodes) {
  const [before, after = ""] = text.split(`{${name}}`);
  return [before, ...nodes, after];
}

// Which connected applications' parts an export is still waiting for, and which could not
// be had (the archive names them too).
function exportParts(r) {
  if (r.kind !== "EXPORT") return "";
  const named = (status) => r.applications.filter((p) => p.status === status);
  const missing = named("MISSING");
  const waiting = ["PENDING", "PROCESSING"].includes(r.status) ? named("PENDING") : [];
  return [
    waiting.length ? h("div", { class: "muted" }, t("Waiting for {applications}.", { applications: waiting.map((p) => p.application).join(", ") })) : "",
    missing.length ? h("div", { class: "parts-missing" }, sentence(t("Not in this copy: the data of {applications}."), "applications",
      missing.flatMap((p, i) => [i ? ", " : "", h("strong", {}, p.application), p.reason ? ` (${reasonName(p.reason)})` : ""]))) : "",
  ];
}

export async function dataPage() {
  const { viewer: v } = await gql(`{ viewer { dataRequests { id kind status requestedAt dueAt completedAt downloadUrl downloadExpiresAt
    applications { application status reason } } } }`);
  const pending = v.dataRequests.filter((r) => r.kind === "EXPORT" && ["PENDING", "PROCESSING"].includes(r.status));
  // Each second while an export is fresh; less often while it waits for connected applications' parts.
  const fresh = pending.some((r) => Date.now() - new Date(r.requestedAt) < 120_000);
  if (pending.length) setTimeout(() => location.pathname === "/account/data" && dataPage(), fresh ? 1000 : 15_000);
  page(t("My data"),
    card(t("A copy of your data"), h("p", {}, t("A JSON file with everything this service holds about you. It is ready in a moment and can be downloaded for 24 hours.")),
      form([], t("Request a copy"), async () => {
        const result = (await gql(`mutation { requestDataExport { dataRequest { id } errors { field message code } } }`)).requestDataExport;
        if (!result.errors.length) dataPage();
        return result;
      }),
      h("table", { "aria-label": t("Your requests") }, thead([t("Requested"), t("Kind"), t("Status"), t("Download")]),
        h("tbody", {}, v.dataRequests.map((r) => h("tr", {}, h("td", {}, when(r.requestedAt)), h("td", {}, kindName(r.kind)), h("td", {}, statusName(r.status), exportParts(r)),
          h("td", {}, r.downloadUrl ? h("a", { href: new URL(r.downloadUrl).pathname, download: "account-export.json" },
            t("Download (until {time})", { time: when(r.downloadExpiresAt) })) : "—")))))),
    card(t("Delete your account"), h("p", {}, t("Your account and everything about it is erased at once. This cannot be undone.")),
      form([currentPassword()], t("Delete my account"), async (data) => {
        const result = (await gql(`mutation($password: String!) { deleteAccount(input: {password: $password}) { ok errors { field message code } } }`, data)).deleteAccount;
        if (result.ok) { forgetViewer(); page(t("Account deleted"), h("p", { class: "alert ok", role: "status" }, t("Your account was erased."))); renderNav(); }
        return result;
      }, { danger: true })));
}
