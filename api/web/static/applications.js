// The operators' connected applications (the vendor's own systems that hold personal data
// too): registering one with its signing secret shown once, changing it, enabling and
// disabling, a new secret, deleting; its API keys (shown once, revocable); its deliveries
// with retry, and replay.

import { gql } from "./api.js";
import { card, h, thead, when } from "./dom.js";
import { checkbox, field, form } from "./forms.js";
import { t } from "./i18n.js";
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
// Functions, so that they are read in the language of the moment.
const typesHint = () => t("user.erased goes to every application that takes part in erasure, and export.requested to every one that takes part in export, whether chosen here or not.");
const secretUsage = () => t("The application checks each request's webhook-signature header with it (Standard Webhooks); keep it in its secret store.");
const keyUsage = () => t("The application sends it as Authorization: Bearer … to confirm erasures, deliver export parts and check users' sessions.");

function takesPart(a) {
  if (a.takesErasure && a.takesExport) return t("erasure and export");
  if (a.takesErasure) return t("erasure");
  return a.takesExport ? t("export") : t("neither");
}

// notice: what was just done; once: a signing secret or API key to show once ({title, value, usage}).
export async function applicationsPage({ notice, once } = {}) {
  const { webhookEventTypes: types, applications } = await gql(APPLICATIONS, FIRST_PAGE);
  page(t("Applications"),
    once ? shownOnce(once) : "",
    notice ? h("p", { class: "alert ok", role: "status" }, notice) : "",
    h("p", {}, t("The vendor's own systems that keep personal data about tenants' users: they get signed events, confirm erasures and send their part of exports, calling this API with their keys.")),
    ...(applications.length
      ? applications.map((a) => applicationCard(a, types))
      : [h("p", { class: "muted" }, t("No applications yet."))]),
    card(t("Register an application"),
      form([
        field(t("Name"), "name", { autocomplete: "off", maxlength: 64, hint: t("Names its part in exports (applications/<name>) and on data requests.") }),
        field(t("Webhook URL"), "webhookUrl", { type: "url", autocomplete: "off", spellcheck: "false", hint: t("An https URL that reaches a public address.") }),
        eventTypeChoices(types, [], typesHint()),
        checkbox(t("Takes part in erasure (confirms each erasure)"), "takesErasure", false),
        checkbox(t("Takes part in export (sends its part of each export)"), "takesExport", false),
      ], t("Register application"), async (data, el) => {
        const input = { name: data.name.trim(), webhookUrl: data.webhookUrl.trim(), eventTypes: chosenTypes(el),
          takesErasure: data.takesErasure, takesExport: data.takesExport };
        const result = (await gql(`mutation($input: CreateApplicationInput!) { createApplication(input: $input) {
          application { id name } signingSecret ${ERRORS} } }`, { input })).createApplication;
        if (!result.errors.length) {
          await applicationsPage({ once: { title: t("Signing secret for {name}", { name: result.application.name }), value: result.signingSecret,
            usage: secretUsage() } });
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
      ? actionButton(t("Disable"), () => update({ enabled: false }), { status,
        done: again(t("Disabled {name}: nothing is sent to it until it is enabled.", { name: a.name })) })
      : actionButton(t("Enable"), () => update({ enabled: true }), { status,
        done: again(t("Enabled {name}. Events made while it was disabled were not sent: replay them if it needs them.", { name: a.name })) }),
    actionButton(t("New signing secret"), async () => (await gql(`mutation($id: ID!) { rotateApplicationSecret(id: $id) {
      signingSecret ${ERRORS} } }`, { id: a.id })).rotateApplicationSecret, { status,
      confirmText: t("Make a new signing secret for {name}? Deliveries are signed with it from now on: the application needs it at once.", { name: a.name }),
      done: (result) => applicationsPage({ once: { title: t("New signing secret for {name}", { name: a.name }), value: result.signingSecret,
        usage: secretUsage() } }) }),
    actionButton(t("Delete"), async () => (await gql(`mutation($id: ID!) { deleteApplication(id: $id) { ok ${ERRORS} } }`, { id: a.id })).deleteApplication,
      { status, danger: true, done: again(t("Deleted {name}.", { name: a.name })),
        confirmText: t("Delete {name}? Its keys stop working, its deliveries are forgotten, and data requests no longer wait for it.", { name: a.name }) }),
  ];
  const edit = form([
    field(t("Webhook URL"), "webhookUrl", { type: "url", value: a.webhookUrl, autocomplete: "off", spellcheck: "false" }),
    eventTypeChoices(types, a.eventTypes, typesHint()),
    checkbox(t("Takes part in erasure (confirms each erasure)"), "takesErasure", a.takesErasure),
    checkbox(t("Takes part in export (sends its part of each export)"), "takesExport", a.takesExport),
  ], t("Save changes"), async (data, el) => {
    const result = await update({ webhookUrl: data.webhookUrl.trim(), eventTypes: chosenTypes(el), takesErasure: data.takesErasure, takesExport: data.takesExport });
    if (!result.errors.length) await applicationsPage({ notice: t("Saved {name}.", { name: a.name }) });
    return result;
  });
  const state = stateLine(a);
  const deliveries = deliveriesSection(a.name, a.deliveries, async (variables) => {
    const found = (await gql(DELIVERIES_ONLY, variables)).applications.find((x) => x.id === a.id);
    if (found) state.update(found);
    return found?.deliveries;
  });
  return receiverCard({
    label: t("Application {name}", { name: a.name }), title: a.name, state, status, actions, edit, deliveries,
    about: [[t("Webhook URL"), h("code", {}, a.webhookUrl)], [t("Event types"), a.eventTypes.join(", ") || t("none chosen")],
      [t("Takes part in"), takesPart(a)], [t("Registered"), when(a.createdAt)]],
    extra: [apiKeys(a, status)],
    replay: replayForm(async (since) => (await gql(`mutation($input: ReplayInput!) { replayApplication(input: $input) {
      queued ${ERRORS} } }`, { input: { id: a.id, since } })).replayApplication, deliveries.refresh),
  });
}

function apiKeys(a, status) {
  const revoke = (k) => actionButton(t("Revoke"), async () => (await gql(`mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { id revokedAt } ${ERRORS} } }`,
    { id: k.id })).revokeApiKey, { status, danger: true, "aria-label": t("Revoke {key}", { key: k.name }),
    confirmText: t("Revoke the key {key} ({prefix}…) of {name}? It stops working at once.", { key: k.name, prefix: k.prefix, name: a.name }),
    done: () => applicationsPage({ notice: t("Revoked the key {key} of {name}.", { key: k.name, name: a.name }) }) });
  return h("div", { class: "keys" }, h("h3", {}, t("API keys")),
    a.apiKeys.length
      ? h("table", { "aria-label": t("API keys of {name}", { name: a.name }) },
        thead([t("Name"), t("Starts with"), t("Created"), t("Last used"), t("State"), ""]),
        h("tbody", {}, a.apiKeys.map((k) => h("tr", { dataset: { key: k.name } },
          h("td", {}, k.name), h("td", {}, h("code", {}, `${k.prefix}…`)), h("td", {}, when(k.createdAt)), h("td", {}, when(k.lastUsedAt)),
          h("td", {}, k.revokedAt ? h("span", { class: "state disabled" }, t("Revoked {time}", { time: when(k.revokedAt) }))
            : h("span", { class: "state" }, t("Active"))),
          h("td", {}, k.revokedAt ? "" : revoke(k))))))
      : h("p", { class: "muted" }, t("No keys yet.")),
    form([field(t("Key name"), "name", { autocomplete: "off", maxlength: 100, hint: t("What uses it, such as “production back end”.") })],
      t("Create API key"), async (data) => {
        const result = (await gql(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id name } key ${ERRORS} } }`,
          { input: { applicationId: a.id, name: data.name } })).createApiKey;
        if (!result.errors.length) {
          await applicationsPage({ once: { title: t("API key {key} for {name}", { key: result.apiKey.name, name: a.name }), value: result.key,
            usage: keyUsage() } });
        }
        return result;
      }, { className: "inline" }));
}
