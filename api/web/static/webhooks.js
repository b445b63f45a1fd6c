// Outbound events. The ADMIN's and OWNER's webhook endpoints page, and what the operators'
// connected-applications page shares with it: event types as checkboxes, a secret shown
// once, a receiver's state, its deliveries (each with its attempts; retry, paging, a status
// filter), replaying from a point in time, and the card that holds them.

import { gql } from "./api.js";
import { card, facts, h, thead, when } from "./dom.js";
import { field, form } from "./forms.js";
import { formatNumber, t, tn } from "./i18n.js";
import { page } from "./shell.js";

export const ERRORS = "errors { field message code }";
const PAGE_SIZE = 20;
const POLL_MS = 1500; // while an attempt is due
const DUE_SOON_MS = 60_000;
// A receiver's deliveries, with the variables $first, $after and $status.
export const DELIVERIES = `deliveries(first: $first, after: $after, status: $status) { pageInfo { hasNextPage endCursor }
  edges { node { id eventId eventType status attemptCount nextAttemptAt lastStatusCode lastError createdAt finishedAt
    attempts { attemptedAt statusCode latencyMs error } } } }`;
export const FIRST_PAGE = { first: PAGE_SIZE, after: null, status: null };
const RETRY = `mutation($id: ID!) { retryWebhookDelivery(id: $id) { deliveryId status ${ERRORS} } }`;

const lower = (status) => status.toLowerCase();
// A delivery's state, as people read it; the filter's choices.
const deliveryStatusLabel = (status) => ({ PENDING: t("Pending"), SUCCEEDED: t("Succeeded"), FAILED: t("Failed") })[status] || status;
const statuses = () => [["", t("All")], ...["PENDING", "SUCCEEDED", "FAILED"].map((s) => [s, deliveryStatusLabel(s)])];
// The reasons the API gives for a disabled receiver: the fixed ones it writes, and the one it
// writes when deliveries kept failing (its time in UTC); any other is shown as it is.
function disabledReason(reason) {
  const fixed = { "disabled by an administrator": t("disabled by an administrator"), "disabled by an operator": t("disabled by an operator") }[reason];
  if (fixed) return fixed;
  const failing = /^failing since (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}) UTC$/.exec(reason);
  if (failing) return t("failing since {time}", { time: when(`${failing[1]}T${failing[2]}:00Z`) });
  return reason;
}

let groups = 0;
// One checkbox per event type, its description as its hint. The group is named eventTypes, so
// that an error on input.eventTypes is shown under it; chosenTypes() reads the choice.
export function eventTypeChoices(types, chosen = [], hint = "") {
  const id = `types${++groups}`;
  return h("fieldset", { id, name: "eventTypes", class: "choices", "aria-describedby": `${id}-error` },
    h("legend", {}, t("Event types")),
    hint ? h("p", { class: "hint" }, hint) : "",
    types.map((type, i) => h("div", { class: "choice" },
      h("label", { class: "check" }, h("input", { type: "checkbox", name: `type:${type.name}`, checked: chosen.includes(type.name),
        "aria-describedby": `${id}-${i}` }), h("code", {}, type.name)),
      h("span", { class: "hint", id: `${id}-${i}` }, type.description))),
    h("span", { class: "field-error", id: `${id}-error`, role: "alert" }));
}

export function chosenTypes(formElement) {
  return [...formElement.querySelectorAll("input[type=checkbox][name^='type:']")].filter((box) => box.checked).map((box) => box.name.slice(5));
}

// A signing secret or an API key, shown once: copied with a button (or selected, where the
// browser does not let the page write to the clipboard), with a warning.
export function shownOnce({ title, value, usage }) {
  const status = h("span", { class: "muted", role: "status", "aria-live": "polite" });
  const shown = h("code", { class: "once", "data-testid": "shown-once" }, value);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      status.textContent = t("Copied.");
    } catch {
      getSelection().selectAllChildren(shown);
      status.textContent = t("Selected: press Ctrl+C (⌘C on a Mac) to copy it.");
    }
  };
  const panel = h("section", { class: "card once", "aria-label": title }, h("h2", {}, title),
    h("p", { class: "alert warning" }, h("strong", {}, t("Copy it now: it will not be shown again.")), " ", usage),
    h("div", { class: "row" }, shown, h("button", { type: "button", class: "secondary", onclick: copy }, t("Copy")), status),
    h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => panel.remove() }, t("I have stored it"))));
  return panel;
}

// Enabled; failing (deliveries fail, it is not disabled yet); disabled, and why.
export function receiverState(r) {
  if (!r.enabled) {
    return h("span", { class: "state disabled" }, r.disabledReason ? t("Disabled: {reason}", { reason: disabledReason(r.disabledReason) }) : t("Disabled"));
  }
  if (r.failingSince) return h("span", { class: "state failing" }, t("Failing since {time}", { time: when(r.failingSince) }));
  return h("span", { class: "state" }, t("Enabled"));
}

// A button that runs a mutation (its payload has errors); the errors go to `status`.
// confirmText: asked first. done(result): after it worked.
export function actionButton(label, run, { status, confirmText, danger, done, ...attrs } = {}) {
  const button = h("button", { type: "button", class: danger ? "danger" : "secondary", ...attrs, onclick: async () => {
    if (confirmText && !confirm(confirmText)) return;
    status.replaceChildren();
    button.disabled = true;
    try {
      const result = await run();
      if (result.errors?.length) status.append(...result.errors.map((e) => h("p", { class: "alert error" }, e.message)));
      else await done?.(result);
    } catch (error) {
      status.append(h("p", { class: "alert error" }, error.message));
    } finally {
      button.disabled = false;
    }
  } }, label);
  return button;
}

function attemptsList(d) {
  if (!d.attempts.length) return h("span", { class: "muted" }, t("none yet"));
  return h("ol", { class: "attempts", "aria-label": t("Attempts of {eventType}", { eventType: d.eventType }) }, d.attempts.map((a) => h("li", {},
    h("span", {}, when(a.attemptedAt)), " · ", h("strong", {}, a.statusCode ? `HTTP ${a.statusCode}` : t("no response")),
    ` · ${formatNumber(a.latencyMs)} ms`, a.error && a.error !== `HTTP ${a.statusCode}` ? h("div", { class: "error-text" }, a.error) : "")));
}

function statusCell(d) {
  const detail = d.status === "PENDING"
    ? (d.nextAttemptAt ? t("next attempt {time}", { time: when(d.nextAttemptAt) }) : "")
    : d.status === "SUCCEEDED" ? t("delivered {time}", { time: when(d.finishedAt) }) : t("gave up {time}", { time: when(d.finishedAt) });
  return h("td", {}, h("span", { class: `state ${lower(d.status)}` }, deliveryStatusLabel(d.status)), detail ? h("div", { class: "muted" }, detail) : "",
    d.status !== "SUCCEEDED" && d.lastError ? h("div", { class: "error-text" }, d.lastError) : "");
}

// A receiver's deliveries, newest first. `initial`: the first page, already loaded;
// load(variables) answers the receiver's delivery connection (null when it is gone). The
// list is fetched again while an attempt is due, and drawn again only when it changed.
// Answers { element, refresh }.
export function deliveriesSection(name, initial, load) {
  const view = { status: "", after: null, newer: [] };
  const status = h("div", { role: "status", "aria-live": "polite" });
  const list = h("div");
  let drawn = "";
  let timer = null;
  const filterId = `deliveries${++groups}`;
  const filter = h("select", { id: filterId, onchange: () => { view.status = filter.value; view.after = null; view.newer = []; show(); } },
    statuses().map(([value, text]) => h("option", { value }, text)));

  async function show(connection) {
    clearTimeout(timer);
    try {
      connection = connection || await load({ first: PAGE_SIZE, after: view.after, status: view.status || null });
    } catch (error) {
      status.replaceChildren(h("p", { class: "alert error" }, error.message));
      return;
    }
    if (!connection) {
      list.replaceChildren(h("p", { class: "muted" }, t("This receiver is gone.")));
      return;
    }
    const nodes = connection.edges.map((e) => e.node);
    const json = JSON.stringify(connection);
    // Once more after a change: what follows an attempt (the receiver's state) may come a moment later.
    const changed = drawn !== "" && json !== drawn;
    if (json !== drawn) {
      drawn = json;
      draw(nodes, connection.pageInfo);
    }
    const dueSoon = nodes.some((d) => d.status === "PENDING" && (!d.nextAttemptAt || new Date(d.nextAttemptAt) - Date.now() < DUE_SOON_MS));
    if (dueSoon || changed) timer = setTimeout(() => { if (section.isConnected) show(); }, POLL_MS);
  }

  function draw(nodes, pageInfo) {
    const retry = (d) => actionButton(t("Retry now"), async () => (await gql(RETRY, { id: d.id })).retryWebhookDelivery,
      { status, done: () => show(), "aria-describedby": `delivery-${d.id}` });
    const empty = { PENDING: t("No pending deliveries."), SUCCEEDED: t("No successful deliveries."), FAILED: t("No failed deliveries.") }[view.status]
      || t("No deliveries yet.");
    list.replaceChildren(
      nodes.length
        ? h("table", { "aria-label": t("Deliveries to {name}", { name }) }, thead([t("Created"), t("Event"), t("Status"), t("Attempts"), ""]),
          h("tbody", {}, nodes.map((d) => h("tr", { dataset: { delivery: d.id, status: d.status } },
            h("td", {}, when(d.createdAt)),
            h("td", { id: `delivery-${d.id}` }, h("code", {}, d.eventType), h("div", { class: "muted" }, h("code", { title: "webhook-id" }, d.eventId))),
            statusCell(d), h("td", {}, attemptsList(d)),
            h("td", {}, d.status === "FAILED" ? retry(d) : "")))))
        : h("p", { class: "muted" }, empty),
      h("p", { class: "row" },
        view.after ? h("button", { type: "button", class: "secondary", onclick: () => { view.after = null; view.newer = []; show(); } }, t("Newest")) : "",
        view.after ? h("button", { type: "button", class: "secondary", onclick: () => { view.after = view.newer.pop() ?? null; show(); } }, t("Newer")) : "",
        pageInfo.hasNextPage ? h("button", { type: "button", class: "secondary", onclick: () => { view.newer.push(view.after); view.after = pageInfo.endCursor; show(); } }, t("Older")) : ""));
  }

  const section = h("div", { class: "deliveries" },
    h("div", { class: "row" }, h("h3", {}, t("Deliveries")), h("label", { for: filterId }, t("Show")), filter,
      h("button", { type: "button", class: "secondary", onclick: () => { status.replaceChildren(); show(); } }, t("Refresh"))),
    status, list);
  show(initial);
  return { element: section, refresh: () => show() };
}

// datetime-local's value (the browser's local time, no zone) for a Date.
function localInput(date) {
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

// "Replay since": every event since then that the receiver wants and did not get is sent
// again. The local time typed is sent in UTC. replay(sinceIso) answers the ReplayPayload.
export function replayForm(replay, done) {
  const dayAgo = new Date(Date.now() - 24 * 3600_000);
  return form([field(t("Replay events since"), "since", { type: "datetime-local", value: localInput(dayAgo),
    hint: t("Your local time. Every event since then that it wants and did not get is sent again (events are kept for a limited time).") })],
  t("Replay"), async (data) => {
    const since = data.since ? new Date(data.since) : null;
    if (!since || Number.isNaN(since.getTime())) return { errors: [{ field: "since", message: t("Choose a date and time.") }] };
    const result = await replay(since.toISOString());
    if (result.errors.length) return result;
    done();
    return { ...result, message: result.queued ? tn("{n} event queued to be sent again.", "{n} events queued to be sent again.", result.queued)
      : t("Nothing to send again: it has every event since then.") };
  }, { className: "inline" });
}

// A receiver's state line; update(r) draws it again (the deliveries' refreshes bring it).
export function stateLine(receiver) {
  const line = h("p", { class: "row" }, receiverState(receiver));
  return { element: line, update: (r) => line.replaceChildren(receiverState(r)) };
}

// One receiver (an endpoint or an application) in a card: its state line and facts, actions
// (enable or disable, new secret, delete), editing, extra sections, deliveries and replay.
// `status` is the card's message area (the actions' errors).
export function receiverCard({ label, title, state, about, status, actions, edit, extra = [], deliveries, replay }) {
  return h("section", { class: "card receiver", "aria-label": label },
    h("h2", {}, title), state.element,
    facts(t("About {name}", { name: title }), about), status,
    h("div", { class: "row" }, actions),
    h("details", {}, h("summary", {}, t("Edit")), edit),
    ...extra, deliveries.element,
    h("div", { class: "replay" }, h("h3", {}, t("Replay")), replay));
}

// --- the tenant's endpoints (ADMIN, OWNER) -----------------------------------------------

const ENDPOINT = "id url description eventTypes enabled disabledReason failingSince createdAt";
const ENDPOINTS = `query($first: Int, $after: String, $status: DeliveryStatus) {
  webhookEventTypes { name description forTenantEndpoints }
  webhookEndpoints { ${ENDPOINT} ${DELIVERIES} } }`;
const DELIVERIES_ONLY = `query($first: Int, $after: String, $status: DeliveryStatus) {
  webhookEndpoints { id enabled disabledReason failingSince ${DELIVERIES} } }`;
const UPDATE = `mutation($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) { endpoint { id } ${ERRORS} } }`;

// notice: what was just done; secret: a signing secret to show once ({title, value}).
export async function webhooksPage({ notice, secret } = {}) {
  const { webhookEventTypes, webhookEndpoints: endpoints } = await gql(ENDPOINTS, FIRST_PAGE);
  const types = webhookEventTypes.filter((type) => type.forTenantEndpoints);
  const usage = t("Your receiver checks each request's webhook-signature header with it (Standard Webhooks); keep it in its secret store.");
  page(t("Webhooks"),
    secret ? shownOnce({ ...secret, usage }) : "",
    notice ? h("p", { class: "alert ok", role: "status" }, notice) : "",
    h("p", {}, t("Your organisation's events, sent as signed HTTPS requests to receivers you run: your SIEM, your automation. A receiver answers 2xx; otherwise the event is tried again for about three days, and an endpoint that keeps failing is disabled.")),
    ...(endpoints.length
      ? endpoints.map((e) => endpointCard(e, types))
      : [h("p", { class: "muted" }, t("No endpoints yet."))]),
    card(t("Add an endpoint"),
      form([
        field(t("URL"), "url", { type: "url", autocomplete: "off", spellcheck: "false", placeholder: "https://siem.example.com/hooks/accounts",
          hint: t("An https URL that reaches a public address.") }),
        eventTypeChoices(types, [], t("audit.event streams every audit event with its chain position and hashes, so that you can verify your copy.")),
        field(t("Description"), "description", { required: false, autocomplete: "off", maxlength: 200 }),
      ], t("Add endpoint"), async (data, el) => {
        const input = { url: data.url.trim(), eventTypes: chosenTypes(el), description: data.description || null };
        const result = (await gql(`mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) {
          endpoint { id url } signingSecret ${ERRORS} } }`, { input })).createWebhookEndpoint;
        if (!result.errors.length) {
          await webhooksPage({ secret: { title: t("Signing secret for {name}", { name: result.endpoint.url }), value: result.signingSecret } });
        }
        return result;
      })));
}

function endpointCard(e, types) {
  const status = h("div", { role: "status", "aria-live": "polite" });
  const update = async (input) => (await gql(UPDATE, { input: { id: e.id, ...input } })).updateWebhookEndpoint;
  const again = (notice) => () => webhooksPage({ notice });
  const actions = [
    e.enabled
      ? actionButton(t("Disable"), () => update({ enabled: false }), { status,
        done: again(t("Disabled {name}: nothing is sent to it until it is enabled.", { name: e.url })) })
      : actionButton(t("Enable"), () => update({ enabled: true }), { status,
        done: again(t("Enabled {name}. Events made while it was disabled were not sent: replay them if it needs them.", { name: e.url })) }),
    actionButton(t("New signing secret"), async () => (await gql(`mutation($id: ID!) { rotateWebhookEndpointSecret(id: $id) {
      signingSecret ${ERRORS} } }`, { id: e.id })).rotateWebhookEndpointSecret, { status,
      confirmText: t("Make a new signing secret for {name}? Deliveries are signed with it from now on: the receiver needs it at once.", { name: e.url }),
      done: (result) => webhooksPage({ secret: { title: t("New signing secret for {name}", { name: e.url }), value: result.signingSecret } }) }),
    actionButton(t("Delete"), async () => (await gql(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { ok ${ERRORS} } }`, { id: e.id })).deleteWebhookEndpoint,
      { status, danger: true, confirmText: t("Delete the endpoint {url}? Nothing more is sent to it, and its deliveries are forgotten.", { url: e.url }),
        done: again(t("Deleted {name}.", { name: e.url })) }),
  ];
  const edit = form([
    field(t("URL"), "url", { type: "url", value: e.url, autocomplete: "off", spellcheck: "false" }),
    eventTypeChoices(types, e.eventTypes),
    field(t("Description"), "description", { value: e.description || "", required: false, autocomplete: "off", maxlength: 200 }),
  ], t("Save changes"), async (data, el) => {
    const result = await update({ url: data.url.trim(), eventTypes: chosenTypes(el), description: data.description });
    if (!result.errors.length) await webhooksPage({ notice: t("Saved {name}.", { name: data.url.trim() }) });
    return result;
  });
  const state = stateLine(e);
  const deliveries = deliveriesSection(e.url, e.deliveries, async (variables) => {
    const found = (await gql(DELIVERIES_ONLY, variables)).webhookEndpoints.find((x) => x.id === e.id);
    if (found) state.update(found);
    return found?.deliveries;
  });
  return receiverCard({
    label: t("Endpoint {url}", { url: e.url }), title: e.url, state, status, actions, edit, deliveries,
    about: [[t("Description"), e.description], [t("Event types"), e.eventTypes.join(", ")], [t("Added"), when(e.createdAt)]],
    replay: replayForm(async (since) => (await gql(`mutation($input: ReplayInput!) { replayWebhookEndpoint(input: $input) {
      queued ${ERRORS} } }`, { input: { id: e.id, since } })).replayWebhookEndpoint, deliveries.refresh),
  });
}
