// The operators' connected applications (the vendor's own systems that hold personal data
// too): registering one with its signing secret shown once, changing it, enabling and
// disabling, a new secret, deleting; its API keys (shown once, revocable); its deliveries
// with retry, and replay.

import { gql } from "./api.js";
import { card, h, thead, when } from "./dom.js";
import { checkbox, field, form } from "./forms.js";
import { page } from "./shell.js";
import { actionButton, chosenTypes, DELIVERIES, deliveriesSection, ERRORS, eventTypeChoices, FIRST_PAGE, receiverCard, replayForm, shownOnce,
  stateLine } from "./webhooks.js";

const APPLICATION = `id name webhookUrl eventTypes takesErasure takesExport enabled disabledReason failingSince createdAt
  apiKeys { id name prefix createdAt lastUsedAt revokedAt }`;
const APPLICATIONS = `query($first: Int, $after: String, $status: DeliveryStatus) {
  webhookEventTypes { name description } applications { ${APPLICATION} ${DELIVERIES} } }`;
const DELIVERIES_ONLY = `query($first: Int, $after: String, $status: DeliveryStatus) {
  applications { id enabled disabledReason failingSince ${DELIVERIES} } }`;
const UPDATE = `mutation($input: UpdateApplicationInput!) { updateApplication(input: $input) { application { id } ${ERRORS} } }`;
const TYPES_HINT = "user.erased goes to every application that takes part in erasure, and export.requested to every one that takes part in export, whether chosen here or not.";
const SECRET_USAGE = "The application checks each request's webhook-signature header with it (Standard Webhooks); keep it in its secret store.";
const KEY_USAGE = "The application sends it as Authorization: Bearer … to confirm erasures, deliver export parts and check users' sessions.";

const takesPart = (a) => [a.takesErasure ? "erasure" : "", a.takesExport ? "export" : ""].filter(Boolean).join(" and ") || "neither";

// notice: what was just done; once: a signing secret or API key to show once ({title, value, usage}).
export async function applicationsPage({ notice, once } = {}) {
  const { webhookEventTypes: types, applications } = await gql(APPLICATIONS, FIRST_PAGE);
  page("Applications",
    once ? shownOnce(once) : "",
    notice ? h("p", { class: "alert ok", role: "status" }, notice) : "",
    h("p", {}, "The vendor's own systems that keep personal data about tenants' users: they get signed events, ",
      "confirm erasures and send their part of exports, calling this API with their keys."),
    ...(applications.length
      ? applications.map((a) => applicationCard(a, types))
      : [h("p", { class: "muted" }, "No applications yet.")]),
    card("Register an application",
      form([
        field("Name", "name", { autocomplete: "off", maxlength: 64, hint: "Names its part in exports (applications/<name>) and on data requests." }),
        field("Webhook URL", "webhookUrl", { type: "url", autocomplete: "off", spellcheck: "false", hint: "An https URL that reaches a public address." }),
        eventTypeChoices(types, [], TYPES_HINT),
        checkbox("Takes part in erasure (confirms each erasure)", "takesErasure", false),
        checkbox("Takes part in export (sends its part of each export)", "takesExport", false),
      ], "Register application", async (data, el) => {
        const input = { name: data.name.trim(), webhookUrl: data.webhookUrl.trim(), eventTypes: chosenTypes(el),
          takesErasure: data.takesErasure, takesExport: data.takesExport };
        const result = (await gql(`mutation($input: CreateApplicationInput!) { createApplication(input: $input) {
          application { id name } signingSecret ${ERRORS} } }`, { input })).createApplication;
        if (!result.errors.length) {
          await applicationsPage({ once: { title: `Signing secret for ${result.application.name}`, value: result.signingSecret, usage: SECRET_USAGE } });
        }
        return result;
      })));
}

function applicationCard(a, types) {
  const status = h("div", { role: "status", "aria-live": "polite" });
  const update = async (input) => (await gql(UPDATE, { input: { id: a.id, ...input } })).updateApplication;
  const again = (notice) => () => applicationsPage({ notice });
  const actions = [
    a.enabled
      ? actionButton("Disable", () => update({ enabled: false }), { status, done: again(`Disabled ${a.name}: nothing is sent to it until it is enabled.`) })
      : actionButton("Enable", () => update({ enabled: true }), { status,
        done: again(`Enabled ${a.name}. Events made while it was disabled were not sent: replay them if it needs them.`) }),
    actionButton("New signing secret", async () => (await gql(`mutation($id: ID!) { rotateApplicationSecret(id: $id) {
      signingSecret ${ERRORS} } }`, { id: a.id })).rotateApplicationSecret, { status,
      confirmText: `Make a new signing secret for ${a.name}? Deliveries are signed with it from now on: the application needs it at once.`,
      done: (result) => applicationsPage({ once: { title: `New signing secret for ${a.name}`, value: result.signingSecret, usage: SECRET_USAGE } }) }),
    actionButton("Delete", async () => (await gql(`mutation($id: ID!) { deleteApplication(id: $id) { ok ${ERRORS} } }`, { id: a.id })).deleteApplication,
      { status, danger: true, done: again(`Deleted ${a.name}.`),
        confirmText: `Delete ${a.name}? Its keys stop working, its deliveries are forgotten, and data requests no longer wait for it.` }),
  ];
  const edit = form([
    field("Webhook URL", "webhookUrl", { type: "url", value: a.webhookUrl, autocomplete: "off", spellcheck: "false" }),
    eventTypeChoices(types, a.eventTypes, TYPES_HINT),
    checkbox("Takes part in erasure (confirms each erasure)", "takesErasure", a.takesErasure),
    checkbox("Takes part in export (sends its part of each export)", "takesExport", a.takesExport),
  ], "Save changes", async (data, el) => {
    const result = await update({ webhookUrl: data.webhookUrl.trim(), eventTypes: chosenTypes(el), takesErasure: data.takesErasure, takesExport: data.takesExport });
    if (!result.errors.length) await applicationsPage({ notice: `Saved ${a.name}.` });
    return result;
  });
  const state = stateLine(a);
  const deliveries = deliveriesSection(a.name, a.deliveries, async (variables) => {
    const found = (await gql(DELIVERIES_ONLY, variables)).applications.find((x) => x.id === a.id);
    if (found) state.update(found);
    return found?.deliveries;
  });
  return receiverCard({
    label: `Application ${a.name}`, title: a.name, state, status, actions, edit, deliveries,
    about: [["Webhook URL", h("code", {}, a.webhookUrl)], ["Event types", a.eventTypes.join(", ") || "none chosen"],
      ["Takes part in", takesPart(a)], ["Registered", when(a.createdAt)]],
    extra: [apiKeys(a, status)],
    replay: replayForm(async (since) => (await gql(`mutation($input: ReplayInput!) { replayApplication(input: $input) {
      queued ${ERRORS} } }`, { input: { id: a.id, since } })).replayApplication, deliveries.refresh),
  });
}

function apiKeys(a, status) {
  const revoke = (k) => actionButton("Revoke", async () => (await gql(`mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { id revokedAt } ${ERRORS} } }`,
    { id: k.id })).revokeApiKey, { status, danger: true, "aria-label": `Revoke ${k.name}`,
    confirmText: `Revoke the key ${k.name} (${k.prefix}…) of ${a.name}? It stops working at once.`,
    done: () => applicationsPage({ notice: `Revoked the key ${k.name} of ${a.name}.` }) });
  return h("div", { class: "keys" }, h("h3", {}, "API keys"),
    a.apiKeys.length
      ? h("table", { "aria-label": `API keys of ${a.name}` }, thead(["Name", "Starts with", "Created", "Last used", "State", ""]),
        h("tbody", {}, a.apiKeys.map((k) => h("tr", { dataset: { key: k.name } },
          h("td", {}, k.name), h("td", {}, h("code", {}, `${k.prefix}…`)), h("td", {}, when(k.createdAt)), h("td", {}, when(k.lastUsedAt)),
          h("td", {}, k.revokedAt ? h("span", { class: "state disabled" }, `Revoked ${when(k.revokedAt)}`) : h("span", { class: "state" }, "Active")),
          h("td", {}, k.revokedAt ? "" : revoke(k))))))
      : h("p", { class: "muted" }, "No keys yet."),
    form([field("Key name", "name", { autocomplete: "off", maxlength: 100, hint: "What uses it, such as “production back end”." })], "Create API key", async (data) => {
      const result = (await gql(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id name } key ${ERRORS} } }`,
        { input: { applicationId: a.id, name: data.name } })).createApiKey;
      if (!result.errors.length) await applicationsPage({ once: { title: `API key ${result.apiKey.name} for ${a.name}`, value: result.key, usage: KEY_USAGE } });
      return result;
    }, { className: "inline" }));
}
