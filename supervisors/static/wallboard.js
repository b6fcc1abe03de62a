// The supervisors' wallboard. It asks /api/wallboard once, then applies the
// `wallboard.changed` frames of the websocket (the changed queues and agents, or the whole
// board after a resync). Waits and times in state tick here between frames, from the
// server's `as_of`. All data enters the page as text (no innerHTML).
"use strict";

const board = { state: null, hub: null, skew: 0 };
const { el, api, number: num, percent: pct, digits } = window.TamasPage;
const { t, fill, known } = window.TamasPage.translations(window.TAMAS_WALLBOARD_I18N);
const CASE_ALERTS_SHOWN = 20;

function secs(value) {
  if (value === null || value === undefined) return "–";
  const s = Math.max(0, Math.round(value));
  return digits(s >= 3600 ? `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`
    : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`);
}
// Jalali date and time in Persian, Gregorian otherwise (Tehran time).
function when(value) {
  return window.TamasPage.date(value, { month: "long", day: "numeric", hour: "2-digit", minute: "2-digit" });
}
function now() { return Date.now() / 1000 - board.skew; }

// ---------------------------------------------------------------- state

function setState(full) {
  board.state = full;
  board.skew = Date.now() / 1000 - full.as_of;
  render();
}

function applyChange(change) {
  if (change.full || !board.state) { setState(change); return; }
  for (const part of ["queues", "agents"]) {
    for (const [key, value] of Object.entries(change[part] || {})) {
      if (value === null) delete board.state[part][key]; else board.state[part][key] = value;
    }
  }
  for (const part of ["ivr", "abandoned", "totals"]) if (change[part] !== null && change[part] !== undefined) board.state[part] = change[part];
  board.state.alerts = change.alerts || board.state.alerts;
  board.state.as_of = change.as_of;
  board.skew = Date.now() / 1000 - change.as_of;
  render();
}

// ---------------------------------------------------------------- rendering

function render() {
  const s = board.state;
  if (!s) return;
  const at = now();
  const alerts = document.getElementById("alerts");
  alerts.replaceChildren(...(s.alerts || []).map((a) => el("li", { "data-kind": a.kind, "data-queue": a.queue }, `${t("alert_" + a.kind)} · ${a.queue} · ${a.value}`)));
  const queues = document.querySelector("#queues tbody");
  queues.replaceChildren(...Object.values(s.queues).filter(Boolean).map((q) => {
    const today = q.today || {};
    const longest = q.waiting.length ? at - q.waiting[0].joined_at : 0;
    return el("tr", { "data-queue": q.name },
      el("td", {}, q.name),
      el("td", { class: "num", "data-field": "calls_waiting" }, num(q.calls_waiting)),
      el("td", { class: "num", "data-field": "longest_wait", "data-since": q.waiting.length ? q.waiting[0].joined_at : null }, secs(longest)),
      ...["agents_logged_in", "agents_available", "agents_ringing", "agents_on_call", "agents_paused", "agents_wrap_up"]
        .map((f) => el("td", { class: "num", "data-field": f, title: f === "agents_paused" ? Object.entries(q.pause_reasons).map(([r, n]) => `${r || "–"}: ${n}`).join(", ") : null }, num(q[f]))),
      el("td", { class: "num", "data-field": "offered" }, today.offered === undefined ? "–" : num(today.offered)),
      el("td", { class: "num", "data-field": "answered" }, today.answered === undefined ? "–" : num(today.answered)),
      el("td", { class: "num", "data-field": "abandoned" }, today.abandoned === undefined ? "–" : num(today.abandoned)),
      el("td", { class: "num", "data-field": "service_level" }, pct(today.service_level)),
      el("td", { class: "num", "data-field": "asa" }, secs(today.asa_s)),
      el("td", { class: "num", "data-field": "aht" }, secs(today.aht_s)));
  }));
  queues.append(totalsRow(s, at));
  const agents = document.querySelector("#agents tbody");
  agents.replaceChildren(...Object.entries(s.agents).filter(([, a]) => a).map(([key, a]) => el("tr", { "data-agent": key },
    el("td", {}, a.name),
    el("td", { class: "state-" + a.state, "data-field": "state" }, t(a.state)),
    el("td", { class: "num", "data-since": a.since }, secs(at - a.since)),
    el("td", { class: "num", "data-field": "calls_taken" }, num(a.calls_taken)),
    el("td", { class: "num" }, secs(a.talk_s)),
    el("td", { "data-field": "pause_reason" }, a.pause_reason || ""),
    el("td", {}, actionsFor(a)))));
  document.getElementById("ivr-calls").textContent = num(s.ivr.calls_in_ivr);
  document.getElementById("ivr-errors").textContent = num(s.ivr.agi_errors_today);
  document.getElementById("ivr-self").textContent = pct(s.ivr.self_service_rate);
  document.getElementById("ivr-menus").replaceChildren(...Object.entries(s.ivr.menus).map(([menu, n]) => el("li", { "data-menu": menu }, `${known("ivr_menu_" + menu) ? t("ivr_menu_" + menu) : menu}: ${num(n)}`)));
  const waiting = [];
  for (const q of Object.values(s.queues).filter(Boolean)) for (const w of q.waiting) waiting.push([q, w]);
  document.getElementById("waiting").replaceChildren(...waiting.map(([q, w]) => el("li", { "data-uniqueid": w.uniqueid },
    el("span", { class: "ltr" }, w.number || "–"), ` · ${q.name} · `, el("span", { "data-since": w.joined_at }, secs(at - w.joined_at)), " ", moveFor(q, w))));
  document.querySelector("#abandoned tbody").replaceChildren(...(s.abandoned || []).map((c) => el("tr", { "data-callid": c.callid },
    el("td", { class: "ltr" }, c.caller_number || "–"),
    el("td", {}, c.customer_name || ""),
    el("td", {}, c.queue),
    el("td", { class: "num" }, secs(c.wait_s)),
    el("td", {}, when(c.abandoned_at)),
    el("td", {}, c.caller_number ? el("button", { type: "button", "data-action": "call-back", onclick: () => callBack(c) }, t("call_back")) : ""))));
}

// Every queue together: live counts summed (an agent in two queues counts once), today's
// figures for all queues as the event store computes them ("*").
function totalsRow(s, at) {
  const queues = Object.values(s.queues).filter(Boolean);
  const today = s.totals || {};
  const agents = Object.values(s.agents).filter(Boolean);
  const count = (state) => agents.filter((a) => a.state === state).length;
  const oldest = Math.min(...queues.flatMap((q) => q.waiting.map((w) => w.joined_at)));
  return el("tr", { class: "totals", "data-queue": "*" },
    el("th", {}, t("all_queues")),
    el("td", { class: "num", "data-field": "calls_waiting" }, num(queues.reduce((n, q) => n + q.calls_waiting, 0))),
    el("td", { class: "num", "data-field": "longest_wait", "data-since": isFinite(oldest) ? oldest : null }, secs(isFinite(oldest) ? at - oldest : 0)),
    el("td", { class: "num", "data-field": "agents_logged_in" }, num(agents.length - count("unavailable"))),
    ...["available", "ringing", "on_call", "paused", "wrap_up"].map((state) => el("td", { class: "num", "data-field": "agents_" + state }, num(count(state)))),
    ...["offered", "answered", "abandoned"].map((f) => el("td", { class: "num", "data-field": f }, today[f] === undefined ? "–" : num(today[f]))),
    el("td", { class: "num", "data-field": "service_level" }, pct(today.service_level)),
    el("td", { class: "num", "data-field": "asa" }, secs(today.asa_s)),
    el("td", { class: "num", "data-field": "aht" }, secs(today.aht_s)));
}

// Waits and times in state move on between frames; nothing else is redrawn (a select the
// supervisor is using stays open).
function tick() {
  const at = now();
  for (const node of document.querySelectorAll("[data-since]")) node.textContent = secs(at - Number(node.dataset.since));
}

function actionsFor(a) {
  const name = a.name;
  const buttons = [];
  if (a.paused) buttons.push(el("button", { type: "button", "data-action": "unpause", onclick: () => act("unpause", { agent: name }) }, t("unpause")));
  else buttons.push(el("button", { type: "button", "data-action": "pause", onclick: () => { const reason = prompt(t("reason_prompt")); if (reason !== null) act("pause", { agent: name, reason }); } }, t("pause")));
  buttons.push(el("button", { type: "button", "data-action": "logout", onclick: () => act("logout", { agent: name }) }, t("logout")));
  if (a.state === "on_call") for (const mode of ["listen", "whisper", "barge"]) buttons.push(el("button", { type: "button", "data-action": mode, onclick: () => act("spy", { agent: name, mode }) }, t(mode)));
  return buttons;
}

function moveFor(queue, waiter) {
  const others = Object.keys(board.state.queues).filter((name) => name !== queue.name);
  if (!others.length) return "";
  const select = el("select", { "aria-label": t("move"), "data-action": "move" }, el("option", { value: "" }, t("move")), ...others.map((name) => el("option", { value: name }, name)));
  select.addEventListener("change", () => { if (select.value) act("move", { uniqueid: waiter.uniqueid, queue: select.value }); });
  return select;
}

async function act(name, body) {
  const reply = await api("POST", `/api/supervisors/${name}`, body);
  say(reply.ok ? t("done") : `${t("failed")}: ${(reply.data && reply.data.error) || reply.status}`);
}

async function callBack(caller) {
  const reply = await api("POST", "/api/wallboard/callback", { callid: caller.callid });
  say(reply.ok ? `${t("callback_created")}: ${reply.data.tracking_number}` : `${t("failed")}: ${(reply.data && reply.data.error) || reply.status}`);
}

function say(text) { document.getElementById("status").textContent = text; }

// ---------------------------------------------------------------- connection

function setConnection(state) {
  const node = document.getElementById("connection");
  node.dataset.state = state;
  node.textContent = t(state);
}

function connect() {
  board.hub = window.TamasPage.socket({
    open: async () => {
      const reply = await api("GET", "/api/wallboard");
      if (reply.ok) { setState(reply.data); setConnection("connected"); }
    },
    on: (type, payload) => {
      if (type === "wallboard.changed") applyChange(payload);
      else if (type === "case.alert") onCaseAlert(payload);
    },
    closed: (ended) => { setConnection("offline"); if (ended) window.TamasPage.showLogin(); },
  });
}

// A case near or past its deadline (cases/escalation.py sends every supervisor each step): a
// line at the top of the board, the newest first.
function onCaseAlert(alert) {
  const list = document.getElementById("case-alerts");
  list.prepend(caseAlert(alert));
  while (list.children.length > CASE_ALERTS_SHOWN) list.lastElementChild.remove();
}

function caseAlert(alert) {
  return el("li", { class: alert.overdue ? "late" : null, "data-case": alert.tracking_number, "data-action": alert.action, "data-alert": JSON.stringify(alert) },
    when(alert.at), " · ", fill(`case_alert_${alert.action}`, alert.tracking_number, when(alert.due_at), alert.to || alert.owner || "–"),
    alert.team ? ` · ${t("team")}: ${alert.team}` : "");
}

function enter() {
  setConnection("offline");
  connect();
}

function leave() {
  if (board.hub) { board.hub.close(); board.hub = null; }
  board.state = null;
  document.getElementById("case-alerts").replaceChildren();
}

function redraw() {
  setConnection(document.getElementById("connection").dataset.state || "offline");
  for (const line of document.querySelectorAll("#case-alerts li")) line.replaceWith(caseAlert(JSON.parse(line.dataset.alert)));
  render();
}

document.addEventListener("DOMContentLoaded", () => {
  setInterval(() => {
    document.getElementById("clock").textContent = when(Date.now() / 1000);
    tick();
  }, 1000);
  window.TamasPage.session({
    role: "supervisor", views: { login: "login-view", forbidden: "forbidden-view", content: "board-view" }, enter, leave, relanguage: redraw,
  });
});
