// The reference account console: plain ES module, public GraphQL API only.
// Everything shown is built with DOM calls and textContent: nothing from the API is
// ever parsed as HTML.

// ---- GraphQL ---------------------------------------------------------------------------

class ApiError extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join(" "));
    this.code = errors[0]?.extensions?.code;
    this.retryAfter = errors[0]?.extensions?.retryAfter;
  }
}

async function gql(query, variables = {}) {
  const response = await fetch("/graphql", {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors?.length) throw new ApiError(body.errors);
  return body.data;
}

// ---- DOM helpers -----------------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

let fieldCounter = 0;
function field(label, name, { type = "text", value = "", required = true, autocomplete, options, ...rest } = {}) {
  const id = `f${++fieldCounter}`;
  const errorId = `${id}-error`;
  const control = options
    ? h("select", { id, name, "aria-describedby": errorId, ...rest }, options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)))
    : h("input", { id, name, type, value, required, autocomplete, "aria-describedby": errorId, ...rest });
  // The error is outside the label, so it does not become part of the field's name.
  return h("div", { class: "field" }, h("label", { for: id }, label), control, h("span", { class: "field-error", id: errorId, role: "alert" }));
}

function checkbox(label, name, checked) {
  const id = `f${++fieldCounter}`;
  return h("label", { class: "check", for: id }, h("input", { id, name, type: "checkbox", checked }), label);
}

function when(value) {
  return value ? new Date(value).toLocaleString() : "—";
}

// A form bound to a mutation: shows UserErrors next to their fields, others on top.
function form(fields, submitLabel, onSubmit, { className, danger } = {}) {
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

function card(title, ...children) {
  return h("section", { class: "card", "aria-label": title }, h("h2", {}, title), ...children);
}

// ---- session state and navigation --------------------------------------------------------

const VIEWER = `{ viewer { user { id username email displayName role status mfaEnabled emailVerified } tenant { name slug requireMfa } } }`;
let viewer = null;

async function loadViewer() {
  viewer = (await gql(VIEWER)).viewer;
  return viewer;
}

function go(path) {
  history.pushState({}, "", path);
  route();
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-link]");
  if (link) {
    event.preventDefault();
    go(link.getAttribute("href"));
  }
});
window.addEventListener("popstate", route);

function renderNav() {
  const nav = document.getElementById("nav");
  const here = location.pathname;
  const link = (href, text) => h("a", { href, "data-link": true, "aria-current": here === href ? "page" : null }, text);
  if (!viewer) {
    nav.replaceChildren(link("/login", "Log in"));
    return;
  }
  const items = [link("/account", "Profile"), link("/account/security", "Security"), link("/account/sessions", "Sessions"),
    link("/account/consents", "Consents"), link("/account/data", "My data")];
  if (["OWNER", "ADMIN"].includes(viewer.user.role)) {
    items.push(h("span", { class: "sep", "aria-hidden": "true" }), link("/admin/users", "Users"), link("/admin/purposes", "Purposes"),
      link("/admin/audit", "Audit log"), link("/admin/requests", "Data requests"), link("/admin/settings", "Settings"));
  }
  items.push(h("span", { class: "sep", "aria-hidden": "true" }),
    h("button", { type: "button", onclick: logout }, `Log out ${viewer.user.username}`));
  nav.replaceChildren(...items);
}

async function logout() {
  await gql("mutation { logout }");
  viewer = null;
  go("/login");
}

function page(title, ...children) {
  document.title = `${title} · Account console`;
  const main = document.getElementById("main");
  main.replaceChildren(h("h1", {}, title), ...children);
  main.focus();
}

const token = () => new URLSearchParams(location.search).get("token") || "";

// ---- public pages ------------------------------------------------------------------------

const LOGIN = `mutation($tenant: String!, $identifier: String!, $password: String!) {
  login(input: {tenant: $tenant, identifier: $identifier, password: $password}) { status errors { field message code } } }`;

function afterLogin(status) {
  if (status === "SUCCESS") return loadViewer().then(() => go("/account"));
  if (status === "MFA_REQUIRED") return mfaStep();
  if (status === "MFA_ENROLLMENT_REQUIRED") return enrollmentStep();
}

function loginPage() {
  page("Log in", card("Your account",
    form([
      field("Organisation", "tenant", { autocomplete: "organization", value: localStorage.getItem("tenant") || "" }),
      field("Username or email", "identifier", { autocomplete: "username" }),
      field("Password", "password", { type: "password", autocomplete: "current-password" }),
    ], "Log in", async (data) => {
      localStorage.setItem("tenant", data.tenant);
      const result = (await gql(LOGIN, data)).login;
      if (!result.errors.length) await afterLogin(result.status);
      return result;
    })));
}

function mfaStep() {
  page("Two-step verification", card("Enter a code",
    h("p", {}, "Open your authenticator app and enter the 6-digit code, or use one of your recovery codes."),
    form([field("Code", "code", { autocomplete: "one-time-code", inputmode: "numeric" })], "Verify", async (data) => {
      const result = (await gql(`mutation($code: String!) { verifyMfa(input: {code: $code}) { status errors { field message code } } }`, data)).verifyMfa;
      if (!result.errors.length) await afterLogin(result.status);
      return result;
    })));
}

function enrollmentStep() {
  page("Set up two-step verification", h("p", {}, "Your organisation requires a second factor before you continue."), totpEnrollment(true));
}

function acceptInvitationPage() {
  page("Welcome", card("Choose your password",
    h("p", {}, "Use at least 8 characters; a passphrase of 15 or more is best."),
    form([field("Password", "password", { type: "password", autocomplete: "new-password" })], "Set password and continue", async (data) => {
      const result = (await gql(`mutation($token: String!, $password: String!) { acceptInvitation(input: {token: $token, password: $password}) {
        status errors { field message code } } }`, { token: token(), password: data.password })).acceptInvitation;
      if (!result.errors.length) await afterLogin(result.status);
      return result;
    })));
}

function resetPasswordPage() {
  if (!token()) {
    page("Forgot your password?", card("Get a reset link",
      form([field("Organisation", "tenant", { value: localStorage.getItem("tenant") || "" }), field("Email", "email", { type: "email", autocomplete: "email" })],
        "Send link", async (data) => {
          const result = (await gql(`mutation($tenant: String!, $email: String!) { requestPasswordReset(input: {tenant: $tenant, email: $email}) { ok errors { field message code } } }`, data)).requestPasswordReset;
          return { ...result, message: "If an account has this address, a link is on its way." };
        })));
    return;
  }
  page("Choose a new password", card("New password",
    form([field("New password", "newPassword", { type: "password", autocomplete: "new-password" })], "Save password", async (data) => {
      const result = (await gql(`mutation($token: String!, $newPassword: String!) { resetPassword(input: {token: $token, newPassword: $newPassword}) { ok errors { field message code } } }`,
        { token: token(), newPassword: data.newPassword })).resetPassword;
      return { ...result, message: "Your password is changed and every session was signed out. You can log in now." };
    })));
}

async function verifyEmailPage() {
  page("Confirm your email address");
  const result = (await gql(`mutation($token: String!) { verifyEmail(token: $token) { ok errors { message } } }`, { token: token() })).verifyEmail;
  document.getElementById("main").append(result.ok
    ? h("p", { class: "alert ok", role: "status" }, "Your email address is confirmed.")
    : h("p", { class: "alert error", role: "alert" }, result.errors[0].message));
}

function unsubscribePage() {
  page("Unsubscribe", card("Withdraw this consent",
    h("p", {}, "You will not receive these emails any more. You can change this at any time in your account."),
    form([], "Withdraw consent", async () => {
      const result = (await gql(`mutation($token: String!) { withdrawConsentByToken(token: $token) { ok errors { field message code } } }`, { token: token() })).withdrawConsentByToken;
      return { ...result, message: "Done: your consent is withdrawn." };
    })));
}

// ---- the account area --------------------------------------------------------------------

function profilePage() {
  const u = viewer.user;
  page("Profile",
    card("Your details", h("p", {}, `Username: ${u.username} · Role: ${u.role} · Organisation: ${viewer.tenant.name}`),
      form([field("Display name", "displayName", { value: u.displayName || "", required: false, autocomplete: "name" })], "Save", async (data) => {
        const result = (await gql(`mutation($displayName: String) { updateProfile(input: {displayName: $displayName}) { user { displayName } errors { field message code } } }`, data)).updateProfile;
        await loadViewer();
        return { ...result, message: "Saved." };
      })),
    card("Email address", h("p", {}, `Current: ${u.email}${u.emailVerified ? " (confirmed)" : ""}`),
      form([field("New email", "newEmail", { type: "email", autocomplete: "email" }), field("Password", "password", { type: "password", autocomplete: "current-password" })],
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

function recoveryCodes(codes) {
  return h("div", {},
    h("p", {}, "Recovery codes: each works once if you lose your phone. Keep them somewhere safe; they are not shown again."),
    h("ul", { class: "codes", "aria-label": "Recovery codes" }, codes.map((c) => h("li", {}, c))));
}

function totpEnrollment(requiredStep = false) {
  const area = h("div");
  const start = h("button", { type: "button", onclick: async () => {
    const result = (await gql(`mutation { beginTotpEnrollment { secret otpauthUri qrCodeSvg errors { message } } }`)).beginTotpEnrollment;
    if (result.errors.length) { area.replaceChildren(h("p", { class: "alert error" }, result.errors[0].message)); return; }
    const qr = h("img", { class: "qr", alt: "QR code for your authenticator app", src: `data:image/svg+xml;base64,${btoa(result.qrCodeSvg)}` });
    area.replaceChildren(
      h("p", {}, "Scan the code with your authenticator app, or type the secret in by hand."), qr,
      h("p", {}, "Secret: ", h("code", { "data-testid": "totp-secret" }, result.secret)),
      form([field("Code from the app", "code", { autocomplete: "one-time-code", inputmode: "numeric" })], "Turn on", async (data) => {
        const confirmed = (await gql(`mutation($code: String!) { confirmTotpEnrollment(input: {code: $code}) { recoveryCodes errors { field message code } } }`, data)).confirmTotpEnrollment;
        if (!confirmed.errors.length) {
          await loadViewer();
          renderNav();
          area.replaceChildren(h("p", { class: "alert ok", role: "status" }, "Two-step verification is on."), recoveryCodes(confirmed.recoveryCodes),
            requiredStep ? h("a", { href: "/account", "data-link": true }, "Continue to your account") : "");
        }
        return confirmed;
      }));
  } }, "Set up an authenticator app");
  area.append(start);
  return card("Authenticator app", area);
}

async function securityPage() {
  const { viewer: v } = await gql(`{ viewer { recoveryCodesRemaining user { mfaEnabled } } }`);
  if (!v.user.mfaEnabled) { page("Security", totpEnrollment()); return; }
  page("Security",
    card("Two-step verification", h("p", {}, `On. ${v.recoveryCodesRemaining} recovery codes left.`)),
    card("New recovery codes", form([field("Password", "password", { type: "password", autocomplete: "current-password" })], "Make new codes", async (data, el) => {
      const result = (await gql(`mutation($password: String!) { regenerateRecoveryCodes(input: {password: $password}) { recoveryCodes errors { field message code } } }`, data)).regenerateRecoveryCodes;
      if (!result.errors.length) el.after(recoveryCodes(result.recoveryCodes));
      return result;
    })),
    card("Turn off", form([field("Password", "password", { type: "password", autocomplete: "current-password" }), field("Code from the app", "code", { autocomplete: "one-time-code" })],
      "Turn off two-step verification", async (data) => {
        const result = (await gql(`mutation($password: String!, $code: String!) { disableTotp(input: {password: $password, code: $code}) { ok errors { field message code } } }`, data)).disableTotp;
        if (result.ok) { await loadViewer(); securityPage(); }
        return result;
      }, { danger: true })));
}

async function sessionsPage() {
  const { viewer: v } = await gql(`{ viewer { sessions { id current createdAt lastSeenAt expiresAt ipAddress userAgent mfaVerified } } }`);
  const revoke = (id) => async () => {
    await gql(`mutation($id: ID!) { revokeSession(id: $id) { ok errors { message } } }`, { id });
    sessionsPage();
  };
  page("Sessions", card("Where you are signed in",
    h("table", {}, h("thead", {}, h("tr", {}, ["Device", "IP address", "Signed in", "Last seen", "Ends", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, v.sessions.map((s) => h("tr", { dataset: { session: s.id } },
        h("td", {}, s.userAgent || "unknown", s.current ? h("strong", {}, " (this browser)") : ""), h("td", {}, s.ipAddress || "—"),
        h("td", {}, when(s.createdAt)), h("td", {}, when(s.lastSeenAt)), h("td", {}, when(s.expiresAt)),
        h("td", {}, s.current ? "" : h("button", { type: "button", class: "secondary", onclick: revoke(s.id), "aria-label": `Sign out ${s.userAgent || "session"}` }, "Sign out")))))),
    h("p", {}, h("button", { type: "button", class: "secondary", onclick: async () => {
      await gql(`mutation { revokeOtherSessions { revokedCount } }`);
      sessionsPage();
    } }, "Sign out everywhere else"))));
}

async function consentsPage() {
  const { viewer: v } = await gql(`{ viewer { consents { purpose { key title description legalBasis version } granted version needsRenewal updatedAt }
    consentHistory { purposeKey granted version source recordedAt } } }`);
  const decide = (key, granted) => async () => {
    await gql(`mutation($input: [ConsentDecisionInput!]!) { setConsents(input: $input) { errors { message } } }`, { input: [{ purposeKey: key, granted }] });
    consentsPage();
  };
  page("Consents",
    card("What your data is used for", v.consents.map((c) => h("div", { class: "card", dataset: { purpose: c.purpose.key } },
      h("h3", {}, c.purpose.title), h("p", { class: "muted" }, c.purpose.description),
      c.purpose.legalBasis !== "CONSENT"
        ? h("p", {}, `Needed for the service (${c.purpose.legalBasis.toLowerCase().replace("_", " ")}).`)
        : h("div", { class: "row" },
          h("span", {}, c.granted ? (c.needsRenewal ? "Given for an earlier version: please review." : "You agreed.") : (c.updatedAt ? "You declined." : "Not decided yet.")),
          c.granted && !c.needsRenewal
            ? h("button", { type: "button", class: "secondary", onclick: decide(c.purpose.key, false) }, `Withdraw: ${c.purpose.title}`)
            : h("button", { type: "button", onclick: decide(c.purpose.key, true) }, `Agree: ${c.purpose.title}`))))),
    card("History", h("table", { "aria-label": "Consent history" },
      h("thead", {}, h("tr", {}, ["When", "Purpose", "Decision", "Version", "Where"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, v.consentHistory.map((e) => h("tr", {}, h("td", {}, when(e.recordedAt)), h("td", {}, e.purposeKey),
        h("td", {}, e.granted ? "agreed" : "withdrawn"), h("td", {}, e.version), h("td", {}, e.source)))))));
}

async function dataPage() {
  const { viewer: v } = await gql(`{ viewer { dataRequests { id kind status requestedAt dueAt completedAt downloadUrl downloadExpiresAt } } }`);
  const pending = v.dataRequests.some((r) => r.kind === "EXPORT" && ["PENDING", "PROCESSING"].includes(r.status));
  if (pending) setTimeout(() => location.pathname === "/account/data" && dataPage(), 1000);
  page("My data",
    card("A copy of your data", h("p", {}, "A JSON file with everything this service holds about you. It is ready in a moment and can be downloaded for 24 hours."),
      form([], "Request a copy", async () => {
        const result = (await gql(`mutation { requestDataExport { dataRequest { id } errors { field message code } } }`)).requestDataExport;
        if (!result.errors.length) dataPage();
        return result;
      }),
      h("table", { "aria-label": "Your requests" }, h("thead", {}, h("tr", {}, ["Requested", "Kind", "Status", "Download"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, v.dataRequests.map((r) => h("tr", {}, h("td", {}, when(r.requestedAt)), h("td", {}, r.kind), h("td", {}, r.status),
          h("td", {}, r.downloadUrl ? h("a", { href: new URL(r.downloadUrl).pathname, download: "account-export.json" }, `Download (until ${when(r.downloadExpiresAt)})`) : "—")))))),
    card("Delete your account", h("p", {}, "Your account and everything about it is erased at once. This cannot be undone."),
      form([field("Password", "password", { type: "password", autocomplete: "current-password" })], "Delete my account", async (data) => {
        const result = (await gql(`mutation($password: String!) { deleteAccount(input: {password: $password}) { ok errors { field message code } } }`, data)).deleteAccount;
        if (result.ok) { viewer = null; page("Account deleted", h("p", { class: "alert ok", role: "status" }, "Your account was erased.")); renderNav(); }
        return result;
      }, { danger: true })));
}

// ---- administration -----------------------------------------------------------------------

async function usersPage() {
  const { users } = await gql(`{ users(first: 100) { totalCount edges { node { id username email displayName role status mfaEnabled lastLoginAt } } } }`);
  const act = (query, variables) => async () => {
    const result = Object.values(await gql(query, variables))[0];
    if (result.errors?.length) alert(result.errors[0].message);
    usersPage();
  };
  const rows = users.edges.map(({ node: u }) => h("tr", { dataset: { user: u.username } },
    h("td", {}, u.username, h("div", { class: "muted" }, u.email)), h("td", {}, u.status), h("td", {}, u.mfaEnabled ? "on" : "off"), h("td", {}, when(u.lastLoginAt)),
    h("td", {}, h("select", { "aria-label": `Role of ${u.username}`, onchange: (e) => act(`mutation($id: ID!, $role: Role) { updateUser(input: {id: $id, role: $role}) { errors { message } } }`, { id: u.id, role: e.target.value })() },
      ["MEMBER", "ADMIN", "OWNER"].map((r) => h("option", { value: r, selected: r === u.role }, r)))),
    h("td", { class: "row" },
      u.status === "DISABLED"
        ? h("button", { type: "button", class: "secondary", onclick: act(`mutation($id: ID!) { updateUser(input: {id: $id, status: ACTIVE}) { errors { message } } }`, { id: u.id }) }, "Enable")
        : h("button", { type: "button", class: "secondary", onclick: act(`mutation($id: ID!) { updateUser(input: {id: $id, status: DISABLED}) { errors { message } } }`, { id: u.id }) }, "Disable"),
      u.status === "INVITED" ? h("button", { type: "button", class: "secondary", onclick: act(`mutation($id: ID!) { resendInvitation(id: $id) { errors { message } } }`, { id: u.id }) }, "Resend invitation") : "",
      u.mfaEnabled ? h("button", { type: "button", class: "secondary", onclick: act(`mutation($id: ID!) { resetUserMfa(id: $id) { errors { message } } }`, { id: u.id }) }, "Reset 2FA") : "",
      h("button", { type: "button", class: "danger", onclick: () => confirm(`Erase ${u.username} and all their data?`) && act(`mutation($id: ID!) { removeUser(id: $id) { errors { message } } }`, { id: u.id })() }, "Remove"))));
  page("Users",
    card("Add someone", form([field("Username", "username", { autocomplete: "off" }), field("Email", "email", { type: "email", autocomplete: "off" }),
      field("Display name", "displayName", { required: false, autocomplete: "off" }), field("Role", "role", { options: [["MEMBER", "Member"], ["ADMIN", "Admin"], ["OWNER", "Owner"]], value: "MEMBER" })],
    "Add and invite", async (data) => {
      const result = (await gql(`mutation($input: AddUserInput!) { addUser(input: $input) { user { id } errors { field message code } } }`, { input: { ...data, displayName: data.displayName || null } })).addUser;
      if (!result.errors.length) usersPage();
      return result;
    })),
    card(`Accounts (${users.totalCount})`, h("table", {}, h("thead", {}, h("tr", {}, ["Account", "Status", "2FA", "Last login", "Role", ""].map((t) => h("th", { scope: "col" }, t)))), h("tbody", {}, rows))));
}

async function purposesPage() {
  const tenant = viewer.tenant.slug;
  const { purposes } = await gql(`query($t: String!) { purposes(tenant: $t) { key title description legalBasis version } }`, { t: tenant });
  page("Purposes",
    card("Add or change a purpose", form([field("Key", "key"), field("Title", "title"), field("Description", "description"),
      field("Legal basis", "legalBasis", { options: [["CONSENT", "Consent"], ["CONTRACT", "Contract"], ["LEGITIMATE_INTEREST", "Legitimate interest"], ["LEGAL_OBLIGATION", "Legal obligation"]], value: "CONSENT" }),
      checkbox("Material change (asks for consent again)", "bumpVersion", false)], "Save purpose", async (data) => {
      const result = (await gql(`mutation($input: PurposeInput!) { upsertPurpose(input: $input) { purpose { key } errors { field message code } } }`, { input: data })).upsertPurpose;
      if (!result.errors.length) purposesPage();
      return result;
    })),
    card("Active purposes", h("table", {}, h("thead", {}, h("tr", {}, ["Key", "Title", "Basis", "Version", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, purposes.map((p) => h("tr", {}, h("td", {}, p.key), h("td", {}, p.title), h("td", {}, p.legalBasis), h("td", {}, p.version),
        h("td", {}, h("button", { type: "button", class: "secondary", onclick: async () => { await gql(`mutation($k: String!) { archivePurpose(key: $k) { errors { message } } }`, { k: p.key }); purposesPage(); } }, "Archive"))))))));
}

async function auditPage(after = null, action = "") {
  const { auditEvents } = await gql(`query($after: String, $filter: AuditEventFilter) { auditEvents(first: 25, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor } edges { node { id occurredAt action actorType actorId targetType targetId ipAddress changes } } } }`,
  { after, filter: action ? { action } : null });
  page("Audit log",
    form([field("Action", "action", { value: action, required: false, placeholder: "e.g. login.failed" })], "Filter", async (data) => { auditPage(null, data.action); }, { className: "inline" }),
    h("table", {}, h("thead", {}, h("tr", {}, ["When", "Action", "Actor", "Target", "IP", "Changes"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, auditEvents.edges.map(({ node: e }) => h("tr", {}, h("td", {}, when(e.occurredAt)), h("td", {}, e.action),
        h("td", {}, `${e.actorType} ${e.actorId || ""}`), h("td", {}, `${e.targetType || ""} ${e.targetId || ""}`), h("td", {}, e.ipAddress || "—"),
        h("td", {}, h("code", {}, e.changes ? JSON.stringify(e.changes) : "")))))),
    auditEvents.pageInfo.hasNextPage ? h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => auditPage(auditEvents.pageInfo.endCursor, action) }, "Older events")) : "");
}

async function requestsPage() {
  const { dataRequests } = await gql(`{ dataRequests(first: 100) { edges { node { id kind status subjectId requestedAt dueAt completedAt } } } }`);
  page("Data requests", card("Requests from data subjects",
    h("table", {}, h("thead", {}, h("tr", {}, ["Requested", "Kind", "Status", "Subject", "Due", "Completed"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, dataRequests.edges.map(({ node: r }) => h("tr", {}, h("td", {}, when(r.requestedAt)), h("td", {}, r.kind), h("td", {}, r.status),
        h("td", {}, r.subjectId || "erased"), h("td", {}, when(r.dueAt)), h("td", {}, when(r.completedAt))))))));
}

async function settingsPage() {
  const { viewer: v } = await gql(`{ viewer { tenant { name seatLimit seatsUsed requireMfa sessionIdleTimeoutMinutes sessionAbsoluteTimeoutHours inactiveAccountRetentionDays } } }`);
  const t = v.tenant;
  page("Organisation settings", card(`Seats: ${t.seatsUsed} of ${t.seatLimit ?? "unlimited"} in use`,
    form([field("Name", "name", { value: t.name }), checkbox("Require two-step verification", "requireMfa", t.requireMfa),
      field("Sign out after idle minutes", "sessionIdleTimeoutMinutes", { type: "number", value: t.sessionIdleTimeoutMinutes }),
      field("Sign out after hours at most", "sessionAbsoluteTimeoutHours", { type: "number", value: t.sessionAbsoluteTimeoutHours }),
      field("Erase accounts unused for days (empty: keep)", "inactiveAccountRetentionDays", { type: "number", value: t.inactiveAccountRetentionDays ?? "", required: false })],
    "Save settings", async (data) => {
      const input = { name: data.name, requireMfa: data.requireMfa, sessionIdleTimeoutMinutes: Number(data.sessionIdleTimeoutMinutes),
        sessionAbsoluteTimeoutHours: Number(data.sessionAbsoluteTimeoutHours),
        inactiveAccountRetentionDays: data.inactiveAccountRetentionDays === "" ? null : Number(data.inactiveAccountRetentionDays) };
      const result = (await gql(`mutation($input: UpdateTenantSettingsInput!) { updateTenantSettings(input: $input) { tenant { name } errors { field message code } } }`, { input })).updateTenantSettings;
      return { ...result, message: "Saved." };
    })));
}

// ---- routing ------------------------------------------------------------------------------

const PUBLIC = { "/login": loginPage, "/accept-invitation": acceptInvitationPage, "/reset-password": resetPasswordPage,
  "/verify-email": verifyEmailPage, "/unsubscribe": unsubscribePage };
const PRIVATE = { "/account": profilePage, "/account/security": securityPage, "/account/sessions": sessionsPage,
  "/account/consents": consentsPage, "/account/data": dataPage };
const ADMIN = { "/admin/users": usersPage, "/admin/purposes": purposesPage, "/admin/audit": auditPage,
  "/admin/requests": requestsPage, "/admin/settings": settingsPage };

async function route() {
  const path = location.pathname.replace(/\/$/, "") || "/";
  try {
    if (PUBLIC[path]) {
      renderNav();
      return await PUBLIC[path]();
    }
    if (!viewer) await loadViewer();
    if (!viewer) return go("/login");
    renderNav();
    if (path === "/") return go("/account");
    if (PRIVATE[path]) return await PRIVATE[path]();
    if (ADMIN[path] && ["OWNER", "ADMIN"].includes(viewer.user.role)) return await ADMIN[path]();
    page("Not found", h("p", {}, "There is no such page."));
  } catch (error) {
    if (error.code === "UNAUTHENTICATED") { viewer = null; return go("/login"); }
    page("Something went wrong", h("p", { class: "alert error", role: "alert" }, error.message));
  }
}

route();
