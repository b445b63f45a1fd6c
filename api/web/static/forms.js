// Form fields and forms bound to mutations, with their error rendering.

import { h } from "./dom.js";
import { t, tn } from "./i18n.js";

let fieldCounter = 0;
// options: a <select>; multiline: a <textarea>; hint: a line of help the field is described by.
export function field(label, name, { type = "text", value = "", required = true, autocomplete, options, multiline, hint, ...rest } = {}) {
  const id = `f${++fieldCounter}`;
  const errorId = `${id}-error`;
  const describedBy = hint ? `${id}-hint ${errorId}` : errorId;
  const control = options
    ? h("select", { id, name, "aria-describedby": describedBy, ...rest }, options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)))
    : multiline
      ? h("textarea", { id, name, rows: 3, required, autocomplete, "aria-describedby": describedBy, ...rest }, value)
      : h("input", { id, name, type, value, required, autocomplete, "aria-describedby": describedBy, ...rest });
  // The error is outside the label, so it does not become part of the field's name.
  return h("div", { class: "field" }, h("label", { for: id }, label), hint ? h("span", { class: "hint", id: `${id}-hint` }, hint) : "",
    control, h("span", { class: "field-error", id: errorId, role: "alert" }));
}

// A group of fields under a legend.
export function fieldset(legend, ...fields) {
  return h("fieldset", {}, h("legend", {}, legend), ...fields);
}

// The "Password" field that asks for the password the user has now.
export function currentPassword() {
  return field(t("Password"), "password", { type: "password", autocomplete: "current-password" });
}

export function checkbox(label, name, checked) {
  const id = `f${++fieldCounter}`;
  return h("label", { class: "check", for: id }, h("input", { id, name, type: "checkbox", checked }), label);
}

// A form bound to a mutation: shows UserErrors next to their fields, others on top.
// canSubmit(form): while it is false the submit button stays disabled (a typed confirmation).
export function form(fields, submitLabel, onSubmit, { className, danger, canSubmit } = {}) {
  const status = h("div", { role: "status", "aria-live": "polite" });
  const button = h("button", { type: "submit", class: danger ? "danger" : null }, submitLabel);
  const el = h("form", { class: className, novalidate: true }, status, fields, button);
  const ready = () => !canSubmit || canSubmit(el);
  button.disabled = !ready();
  if (canSubmit) el.addEventListener("input", () => { button.disabled = !ready(); });
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!ready()) return;
    for (const err of el.querySelectorAll(".field-error")) err.textContent = "";
    for (const input of el.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    status.replaceChildren();
    button.disabled = true;
    try {
      const data = Object.fromEntries(new FormData(el).entries());
      for (const box of el.querySelectorAll("input[type=checkbox]")) data[box.name] = box.checked;
      const result = await onSubmit(data, el);
      const errors = result?.errors || [];
      for (const error of errors) {
        const name = error.field?.split(".").pop();
        const input = name && el.querySelector(`[name="${CSS.escape(name)}"]`);
        const slot = input && document.getElementById(`${input.id}-error`);
        if (slot) {
          input.setAttribute("aria-invalid", "true");
          slot.textContent = error.message;
        } else {
          status.append(h("p", { class: "alert error" }, error.message));
        }
      }
      if (!errors.length && result?.message) status.append(h("p", { class: "alert ok" }, result.message));
    } catch (error) {
      status.append(h("p", { class: "alert error" }, withRetry(error)));
    } finally {
      button.disabled = !ready();
    }
  });
  return el;
}

// An error's message, and when to try again if the server said so (too many attempts).
export function withRetry(error) {
  if (!error.retryAfter) return error.message;
  return [error.message, tn("Try again in {n} second.", "Try again in {n} seconds.", error.retryAfter)].join(" ");
}
