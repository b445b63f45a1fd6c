// Form fields and forms bound to mutations, with their error rendering.

import { h } from "./dom.js";

let fieldCounter = 0;
export function field(label, name, { type = "text", value = "", required = true, autocomplete, options, ...rest } = {}) {
  const id = `f${++fieldCounter}`;
  const errorId = `${id}-error`;
  const control = options
    ? h("select", { id, name, "aria-describedby": errorId, ...rest }, options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)))
    : h("input", { id, name, type, value, required, autocomplete, "aria-describedby": errorId, ...rest });
  // The error is outside the label, so it does not become part of the field's name.
  return h("div", { class: "field" }, h("label", { for: id }, label), control, h("span", { class: "field-error", id: errorId, role: "alert" }));
}

// The "Password" field that asks for the password the user has now.
export function currentPassword() {
  return field("Password", "password", { type: "password", autocomplete: "current-password" });
}

export function checkbox(label, name, checked) {
  const id = `f${++fieldCounter}`;
  return h("label", { class: "check", for: id }, h("input", { id, name, type: "checkbox", checked }), label);
}

// A form bound to a mutation: shows UserErrors next to their fields, others on top.
export function form(fields, submitLabel, onSubmit, { className, danger } = {}) {
  const status = h("div", { role: "status", "aria-live": "polite" });
  const button = h("button", { type: "submit", class: danger ? "danger" : null }, submitLabel);
  const el = h("form", { class: className, novalidate: true }, status, fields, button);
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
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
        if (input) {
          input.setAttribute("aria-invalid", "true");
          document.getElementById(input.getAttribute("aria-describedby")).textContent = error.message;
        } else {
          status.append(h("p", { class: "alert error" }, error.message));
        }
      }
      if (!errors.length && result?.message) status.append(h("p", { class: "alert ok" }, result.message));
    } catch (error) {
      const wait = error.retryAfter ? ` Try again in ${error.retryAfter} seconds.` : "";
      status.append(h("p", { class: "alert error" }, error.message + wait));
    } finally {
      button.disabled = false;
    }
  });
  return el;
}
