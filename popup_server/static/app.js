// The agent desktop. Every piece of customer data enters the page as text (textContent or
// text nodes via el()); nothing here ever assigns innerHTML, so a customer called
// "<script>…" is shown, never run.
"use strict";

const DISPOSITIONS = ["resolved", "follow_up", "callback_scheduled", "complaint_registered", "sale", "wrong_number", "other"];
const LIVE = new Set(["ringing", "answered"]);
const state = { agent: null, hub: null, cards: new Map() };
const { el, api } = window.TamasPage;
const { t, fill, code } = window.TamasPage.translations(window.TAMAS_I18N, { rawCodes: true });
const formatDate = window.TamasPage.date;

function formatRials(amount) {
  if (amount === null || amount === undefined) return t("none");
  return window.TamasPage.number(amount) + " " + t("rials");
}

// A refusal in the agent's language, by its HTTP status and the field it names; the server's
// own sentence is English, for logs and support, and never reaches the agent as is.
function failure(reply) {
  const key = { 400: "err_invalid", 403: "err_not_yours", 404: "err_not_found", 409: "err_duplicate", 429: "err_too_many" }[reply.status] || "err_unavailable";
  const field = reply.data && reply.data.field;
  return field ? `${t(key)}: ${t(field === "q" ? "search" : field)}` : t(key);
}

// ---------------------------------------------------------------- session

// Logged out (or signed out by the server): the next person at this desk sees nothing of the
// last one's callers, calls, alerts or searches.
function clearDesk() {
  state.agent = null;
  if (state.hub) { state.hub.close(); state.hub = null; }
  document.getElementById("connection").textContent = "";
  state.cards.clear();
  const noCalls = document.getElementById("no-calls");
  document.getElementById("calls").replaceChildren(noCalls);
  noCalls.hidden = false;
  document.getElementById("case-alerts").replaceChildren();
  document.getElementById("callbacks").replaceChildren();
  document.getElementById("recent").replaceChildren();
  document.getElementById("dial-form").reset();
  document.getElementById("dial-status").textContent = "";
}

function showDesk(agent) {
  state.agent = agent;
  connect();
  loadSide();
}

// After a change of language: the cards and side panels in the new words.
function redraw() {
  document.getElementById("dial-form").number.placeholder = "0912…";
  for (const card of state.cards.values()) renderCard(card);
  for (const alert of document.querySelectorAll("#case-alerts li")) alert.replaceWith(caseAlert(JSON.parse(alert.dataset.alert)));
  if (state.agent) loadSide();
}

// ---------------------------------------------------------------- websocket

function connect() {
  const status = document.getElementById("connection");
  state.hub = window.TamasPage.socket({
    open: () => { status.textContent = t("connected"); status.dataset.state = "connected"; },
    on: (type, payload) => {
      if (type === "call.popup") onPopup(payload);
      else if (type === "call.state") onCallState(payload);
      else if (type === "case.alert") onCaseAlert(payload);
    },
    // 4001: the session expired; 4003: logged out elsewhere, deactivated or password changed.
    closed: (ended) => {
      status.textContent = t("reconnecting"); status.dataset.state = "reconnecting";
      if (ended) window.TamasPage.showLogin();
    },
  });
}

setInterval(() => { if (state.hub) state.hub.send({ type: "ping" }); }, 20000);

// A case of this agent's (or one given to them) is near or past its deadline
// (cases/escalation.py): the newest first, kept until the agent dismisses it.
function onCaseAlert(alert) {
  document.getElementById("case-alerts").prepend(caseAlert(alert));
}

function caseAlert(alert) {
  const item = el("li", { class: alert.overdue ? "late" : null, "data-case": alert.tracking_number, "data-alert": JSON.stringify(alert), "data-testid": "case-alert" },
    formatDate(alert.at, true), " — ", fill(`case_alert_${alert.action}`, alert.tracking_number, formatDate(alert.due_at, true)), " ",
    state.agent && state.agent.roles.includes("case_handler") ? [el("a", { href: "/cases" }, t("open_cases")), " "] : null);
  item.append(el("button", { type: "button", class: "link", onclick: () => item.remove() }, t("dismiss")));
  return item;
}

// A popup may be the first card of a call, the whole file that follows it (possibly after
// the call has moved on: its state is then older than the card's), or a new ring.
function onPopup(popup) {
  const known = state.cards.get(popup.linkedid);
  const card = known || { node: el("article", { class: "card", "data-testid": "call-card" }), notice: "" };
  const newer = !known || popup.state_seq >= known.popup.state_seq;
  card.popup = Object.assign({}, popup, newer ? {} : { state: known.popup.state, state_seq: known.popup.state_seq });
  if (known && !popup.customer && known.popup.customer) {
    Object.assign(card.popup, { customer: known.popup.customer, lookup: known.popup.lookup });
  }
  state.cards.set(popup.linkedid, card);
  const list = document.getElementById("calls");
  if (!known) list.prepend(card.node);
  document.getElementById("no-calls").hidden = true;
  renderCard(card);
}

function onCallState(change) {
  const card = state.cards.get(change.linkedid);
  if (!card || change.state_seq < card.popup.state_seq) return;
  card.popup.state = change.state;
  card.popup.state_seq = change.state_seq;
  renderCard(card);
  if (!LIVE.has(change.state)) loadSide();
}

// ---------------------------------------------------------------- the card

function section(title, ...content) {
  return el("div", { class: "section" }, el("h4", {}, title), ...content);
}

function table(headers, rows) {
  if (!rows.length) return el("p", { class: "muted" }, t("none"));
  return el("table", {}, el("thead", {}, el("tr", {}, headers.map((h) => el("th", {}, h)))),
    el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((c) => el("td", {}, c))))));
}

function dialButton(number) {
  return el("button", { type: "button", class: "link ltr", "data-testid": "dial", onclick: () => dial(number) }, number);
}

function renderCustomer(file) {
  const c = file.customer;
  const name = c.name_fa || c.name_latin;
  const tier = el("span", { class: `badge tier-${c.tier}`, "data-testid": "tier" }, t(`tier_${c.tier}`));
  const debt = file.debt;
  return [
    section(t("identity"),
      el("div", {}, el("span", { "data-testid": "customer-name" }, name), " ", c.name_latin && c.name_fa ? el("span", { class: "muted ltr" }, c.name_latin) : null, " ", tier),
      el("div", { class: "muted" }, t("national_id"), ": ", el("span", { class: "ltr" }, file.national_id_masked || file.company_id || t("none")),
        " · ", t("birth_date"), ": ", formatDate(file.birth_date), " · ", t("language_label"), ": ", code("language", c.language)),
      el("div", {}, file.phones.map((p) => [dialButton(p.e164), " "]))),
    section(t("policies"), table([t("number"), t("line"), t("status"), t("end_date")],
      file.policies.map((p) => [el("span", { class: "ltr" }, p.number), code("line", p.line), code("status", p.status), formatDate(p.end_date)]))),
    section(t("claims"), table([t("tracking"), t("stage"), t("date"), t("amount_claimed"), t("amount_approved"), t("amount_paid")],
      file.claims.map((k) => [el("span", { class: "ltr" }, k.tracking_code), el("span", { "data-testid": "claim-stage" }, code("stage", k.stage)),
        formatDate(k.stage_changed_at), formatRials(k.amount_claimed_rials), formatRials(k.amount_approved_rials), formatRials(k.amount_paid_rials)]))),
    section(t("debt"),
      el("div", { "data-testid": "debt" }, t("balance"), ": ", formatRials(debt.balance_rials), " · ", t("overdue"), ": ", formatRials(debt.overdue_rials)),
      // Late installments apart from the coming ones: the agent must not read a late one as "next".
      installments(t("installments_overdue"), debt.next_installments.filter((i) => i.status === "overdue"), "installments-overdue"),
      installments(t("installments_due"), debt.next_installments.filter((i) => i.status !== "overdue"), "installments-due"),
      el("div", { class: "muted" }, t("cheques_due"), " / ", t("cheques_bounced")),
      table([t("number"), t("due_date"), t("amount"), t("status")], [...debt.cheques_due, ...debt.cheques_bounced].map((q) => [el("span", { class: "ltr" }, q.number), formatDate(q.due_date), formatRials(q.amount_rials), code("status", q.status)]))),
    file.shareholder ? section(t("shareholder"), el("div", { "data-testid": "shareholder" },
      el("span", { class: "ltr" }, file.shareholder.shareholder_number), " · ", t("shares"), ": ", file.shareholder.shares,
      " · ", t("unpaid_dividends"), ": ", formatRials(file.shareholder.unpaid_dividends_rials),
      file.shareholder.missing_documents.length ? [" · ", t("missing_documents"), ": ", file.shareholder.missing_documents.map((d) => code("document", d)).join("، ")] : null)) : null,
    section(t("complaints"), table([t("tracking"), t("status"), t("date")], file.open_complaints.map((x) => [x.tracking_number, code("status", x.status), formatDate(x.created_at)]))),
    section(t("callbacks_open"), table([t("tracking"), t("status"), t("due_date")], file.open_callback_tasks.map((x) => [x.tracking_number, `${code("task", x.kind)} · ${code("status", x.status)}`, formatDate(x.due_at, true)]))),
    section(t("recent_interactions"), table([t("date"), t("queue"), t("outcome"), t("disposition")],
      file.recent_interactions.map((x) => [formatDate(x.started_at, true), x.queue ? code("queue", x.queue) : t("none"),
        el("span", { "data-testid": "outcome" }, code("outcome", x.outcome)), [x.disposition ? code("d", x.disposition) : "", x.notes ? ` — ${x.notes}` : ""]]))),
  ];
}

function installments(title, items, testid) {
  if (!items.length) return null;
  return el("div", { "data-testid": testid }, el("div", { class: "muted" }, title),
    table([t("number"), t("due_date"), t("amount"), t("status")], items.map((i) => [el("span", { class: "ltr" }, `${i.policy_number}/${i.sequence}`), formatDate(i.due_date), formatRials(i.amount_rials), code("status", i.status)])));
}

// Who is calling, while the whole file is on its way (a second popup brings it).
function renderSummary(c) {
  return section(t("identity"),
    el("div", {}, el("span", { "data-testid": "customer-name" }, c.name_fa || c.name_latin), " ",
      el("span", { class: `badge tier-${c.tier}`, "data-testid": "tier" }, t(`tier_${c.tier}`))),
    el("p", { class: "muted", "data-testid": "file-loading" }, t("loading_file")));
}

// Lookups whose reference is itself a code: a message's medium (sms, fax, email), or the
// identity a secret was asked for (claim, policy...); other references are numbers, shown as is.
const CODED_REFERENCES = new Set(["centres", "message", "message_refused", "wrong_secret", "lockout"]);

function lookedUp(item) {
  const kind = item.kind || item.type;
  const reference = item.ref || item.value || item.id || item.number || "";
  const shown = reference && CODED_REFERENCES.has(kind) ? code("ivr_ref", reference) : reference;
  return [kind ? code("ivr_looked", kind) : "", shown].join(" ").trim();
}

// The IVR's menus and lookups by their labels; a menu or kind with none shows as its code.
function renderIvr(ivr) {
  if (!ivr) return null;
  const path = (ivr.menu_path || []).map((step) => (step.menu || step.name) ? code("ivr_menu", step.menu || step.name) : JSON.stringify(step)).join(" › ");
  const looked = (ivr.looked_up || []).map(lookedUp).join(window.TamasPage.lang() === "fa" ? "، " : ", ");
  return section(t("ivr"), el("div", { "data-testid": "ivr" },
    // Only a checked secret verifies who speaks; a number match can be spoofed.
    el("span", { class: ivr.identified_by === "pin" ? "ok" : "bad", "data-testid": "ivr-identity" },
      ivr.identified_by === "pin" ? t("identity_verified") : ivr.identified ? t("number_recognised") : t("not_identified")),
    path ? [" · ", t("menu_path"), ": ", path] : null, looked ? [" · ", t("looked_up"), ": ", looked] : null));
}

function renderNewCaller(card) {
  const results = el("ul", { "data-testid": "search-results" });
  const search = el("form", { class: "search", onsubmit: async (event) => {
    event.preventDefault();
    const reply = await api("GET", "/api/customers?q=" + encodeURIComponent(event.target.q.value));
    results.replaceChildren();
    if (!reply.ok) { results.append(el("li", { class: "bad" }, failure(reply))); return; }
    if (!reply.data.length) results.append(el("li", { class: "muted" }, t("no_results")));
    for (const found of reply.data) {
      results.append(el("li", {}, el("button", { type: "button", class: "link", onclick: () => openFile(card, found.id) },
        found.name_fa || found.name_latin), " ", el("span", { class: "muted" }, t(`tier_${found.tier}`))));
    }
  } }, el("input", { name: "q", placeholder: t("search_placeholder"), "data-testid": "search-input" }), el("button", { type: "submit" }, t("search")));
  const message = el("p", { role: "status" });
  const field = (name, attrs) => el("label", {}, t(name), el("input", Object.assign({ name }, attrs || {})));
  const register = el("form", { onsubmit: async (event) => {
    event.preventDefault();
    const f = event.target;
    const body = { family_name_fa: f.family_name_fa.value, given_name_fa: f.given_name_fa.value, national_id: f.national_id.value, phone: f.phone.value, postal_code: f.postal_code.value, language: window.TamasPage.lang() };
    const reply = await api("POST", "/api/customers", body);
    if (reply.ok) { card.popup.customer = reply.data; card.popup.lookup = "found"; renderCard(card); }
    else { message.className = "bad"; message.textContent = failure(reply); }
  } }, field("given_name_fa"), field("family_name_fa", { required: true }), field("national_id", { dir: "ltr", inputmode: "numeric" }),
    field("phone", { dir: "ltr", value: (card.popup.caller.e164 || card.popup.caller.number || "") }), field("postal_code", { dir: "ltr", inputmode: "numeric" }),
    el("button", { type: "submit", "data-testid": "register-submit" }, t("register")));
  return el("div", { class: "section newcaller", "data-testid": "new-caller" },
    el("h4", {}, t("new_caller")),
    el("p", { class: "muted" }, card.popup.lookup === "unavailable" ? t("lookup_unavailable") : t("unknown_number")),
    search, results, el("h4", {}, t("register")), register, message);
}

async function openFile(card, customerId) {
  const reply = await api("GET", `/api/customers/${customerId}`);
  if (reply.ok) { card.popup.customer = reply.data; card.popup.lookup = "found"; renderCard(card); }
}

function renderActions(card) {
  const p = card.popup;
  const status = el("span", { role: "status", "data-testid": "action-status" }, card.notice || "");
  const say = (ok, text) => { card.notice = text; status.className = ok ? "ok" : "bad"; status.textContent = text; };
  const select = el("select", { name: "disposition", "data-testid": "disposition" }, DISPOSITIONS.map((d) => el("option", { value: d }, t(`d_${d}`))));
  const notes = el("textarea", { name: "notes", placeholder: t("notes"), "data-testid": "notes" });
  if (card.draft) { select.value = card.draft.disposition; notes.value = card.draft.notes; }
  const keepDraft = () => { card.draft = { disposition: select.value, notes: notes.value }; };
  select.addEventListener("change", keepDraft); notes.addEventListener("input", keepDraft);
  const target = el("input", { name: "to", dir: "ltr", placeholder: t("transfer_to"), size: 10, "data-testid": "transfer-to" });
  const live = LIVE.has(p.state);
  return el("div", { class: "actions" },
    live ? el("button", { type: "button", "data-testid": "hangup", onclick: async () => {
      const reply = await api("POST", `/api/calls/${encodeURIComponent(p.linkedid)}/hangup`);
      if (!reply.ok) say(false, failure(reply));
    } }, t("hangup")) : null,
    p.state === "answered" ? [target, el("button", { type: "button", "data-testid": "transfer", onclick: async () => {
      const reply = await api("POST", `/api/calls/${encodeURIComponent(p.linkedid)}/transfer`, { to: target.value });
      if (!reply.ok) say(false, failure(reply));
    } }, t("transfer"))] : null,
    el("label", {}, t("disposition"), " ", select), notes,
    el("button", { type: "button", class: "primary", "data-testid": "save-disposition", onclick: async () => {
      const reply = await api("POST", `/api/calls/${encodeURIComponent(p.linkedid)}/disposition`, { disposition: select.value, notes: notes.value });
      say(reply.ok, reply.ok ? t("saved") : failure(reply));
      if (reply.ok) loadSide();
    } }, t("save")), status);
}

function renderCard(card) {
  const p = card.popup;
  const who = p.customer ? p.customer.customer : p.summary;
  const name = who ? (who.name_fa || who.name_latin) : (p.caller.name || t("new_caller"));
  card.node.dataset.state = p.state;
  card.node.dataset.linkedid = p.linkedid;
  card.node.replaceChildren(...[
    el("div", { class: "card-head" },
      el("span", { class: "name", "data-testid": "caller-name" }, name),
      el("span", { class: "ltr" }, p.caller.e164 || p.caller.number || ""),
      el("span", { class: `badge state-${p.state}`, "data-testid": "call-state" }, t(`state_${p.state}`)),
      p.queue ? el("span", { class: "muted" }, t("queue"), ": ", code("queue", p.queue)) : null,
      p.transferred_from ? el("span", { class: "muted" }, t("transferred_from"), " ", p.transferred_from) : null),
    renderIvr(p.ivr),
    p.customer ? renderCustomer(p.customer) : p.lookup === "loading" ? renderSummary(p.summary) : renderNewCaller(card),
    renderActions(card)].flat().filter((part) => part !== null && part !== undefined));
}

// ---------------------------------------------------------------- side panels

async function loadSide() {
  const [callbacks, recent] = await Promise.all([api("GET", "/api/callbacks"), api("GET", "/api/recent-calls")]);
  const callbackList = document.getElementById("callbacks");
  callbackList.replaceChildren(...(callbacks.ok ? callbacks.data : []).map((task) =>
    el("li", { "data-testid": "callback-task" }, el("span", { class: "ltr" }, task.tracking_number), " · ", code("task", task.kind), " · ", formatDate(task.due_at, true), " ", dialButton(task.phone), task.note ? el("div", { class: "muted" }, task.note) : null)));
  const recentList = document.getElementById("recent");
  recentList.replaceChildren(...(recent.ok ? recent.data : []).map((call) =>
    el("li", {}, formatDate(call.started_at, true), " · ", el("span", { class: "ltr" }, call.caller_number || ""), " · ", call.disposition ? t(`d_${call.disposition}`) : t("none"))));
}

async function dial(number) {
  const status = document.getElementById("dial-status");
  const reply = await api("POST", "/api/originate", { number });
  status.className = reply.ok ? "ok" : "bad";
  status.textContent = reply.ok ? `${t("call")}: ${number}` : failure(reply);
}

// ---------------------------------------------------------------- start

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("dial-form").addEventListener("submit", (event) => { event.preventDefault(); dial(event.target.number.value); });
  redraw();
  window.TamasPage.session({
    role: null, views: { login: "login-view", content: "desk-view" }, enter: showDesk, leave: clearDesk, relanguage: redraw,
  });
});
