// The reference account console: plain ES modules, public GraphQL API only, no build step.
// Tenants' users and the vendor's operators (under /operator) each see their own pages.
// Everything shown is built with DOM calls and textContent: nothing from the API is
// ever parsed as HTML.
//
//   i18n.js      translations (t, tn), the current locale, dates and numbers in it
//   api.js       the GraphQL client (a sensitive action's REAUTH_REQUIRED: ask, then repeat)
//   stepup.js    the "Confirm it's you" dialog that api.js asks with (password, code, passkey)
//   webauthn.js  passkeys in the browser: options and answers in their JSON form
//   dom.js       h() and small DOM helpers (card, table head, dates)
//   forms.js     fields and forms bound to mutations, with their error rendering
//   shell.js     the signed-in viewer, navigation bar, page heading, go()
//   router.js    paths to pages, in-app links, history
//   login.js     logging in (password, second factor, passkey, passkey autofill) and the pages email links open
//   account.js   profile, email, password
//   security.js  passkeys, authenticator app, recovery codes
//   sessions.js  where you are signed in
//   consents.js  consents and their history
//   data.js      data export, account deletion
//   admin.js     users, purposes, audit log, data requests, settings
//   webhooks.js  the organisation's webhook endpoints, and the parts shared with applications.js
//                (event types, secrets shown once, deliveries with retry, replay)
//   csv.js       reading CSV files (RFC 4180, `,` or `;`, UTF-8 with or without BOM)
//   bulk.js      adding many accounts from a CSV file
//   contract.js  the contract record's fields
//   signup.js    signing up (buying the product) and its confirmation link
//   organisation.js  the OWNER's contract page, closing the organisation, the closed page
//   operators.js     operator login, tenants, one tenant (licence, suspend, close), new tenant
//   operator-log.js  legal holds and the operators' log
//   applications.js  the operators' connected applications: secrets, API keys, deliveries

import "./stepup.js";
import { initI18n } from "./i18n.js";
import { route } from "./router.js";

await initI18n();
route();
