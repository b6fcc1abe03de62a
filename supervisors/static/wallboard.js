// The supervisors' wallboard. It asks /api/wallboard once, then applies the
// `wallboard.changed` frames of the websocket (the changed queues and agents, or the whole
// board after a resync). Waits and times in state tick here between frames, from the
// server's `as_of`. All data enters the page as text (no innerHTML).
"use strict";

const board = { lang: localStorage.getItem("tamas.lang") || "fa", state: null, socket: null, retryMs: 1000, skew: 0 };

function t(key) {
  const words = window.TAMAS_WALLBOARD_I18N[board.lang] || window.TAMAS_WALLBOARD_I18N.fa;
  return words[key] || window.TAMAS_WALLBOARD_I18N.en[key] || key;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function locale() { return { fa: "fa-IR-u-ca-persian", en: "en-GB", ru: "ru-RU" }[board.lang]; }
function num(value) { return new Intl.NumberFormat(locale().split("-u-")[0]).format(value); }
function pct(value) { return value === null || value === undefined ? "–" : num(Math.round(value * 1000) / 10) + "%"; }
function secs(value) {
  if (value === null || value === undefined) return "–";
  const s = Math.max(0, Math.round(value));
  const text = s >= 3600 ? `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`
    : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  return text.replace(/\d/g, (d) => new Intl.NumberFormat(locale().split("-u-")[0]).format(Number(d)));
}
// Jalali date and time in Persian (the browser's persian calendar), Gregorian otherwise.
function when(value) {
  const d = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  if (isNaN(d)) return String(value);
  return new Intl.DateTimeFormat(locale(), { month: "long", day: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "Asia/Tehran" }).format(d);
}
function now() { return Date.now() / 1000 - board.skew; }

async function api(method, path, body) {
  const options = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) { options.headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
  const response = await fetch(path, options);
  let data = null;
  try { data = await response.json(); } catch (_) { data = null; }
  return { ok: response.ok, status: response.status, data };
}

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
  document.getElementById("ivr-menus").replaceChildren(...Object.entries(s.ivr.menus).map(([menu, n]) => el("li", { "data-menu": menu }, `${t("ivr_menu_" + menu) === "ivr_menu_" + menu ? menu : t("ivr_menu_" + menu)}: ${num(n)}`)));
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
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  board.socket = socket;
  socket.onopen = async () => {
    board.retryMs = 1000;
    const reply = await api("GET", "/api/wallboard");
    if (reply.ok) { setState(reply.data); setConnection("connected"); }
  };
  socket.onmessage = (message) => {
    let frame;
    try { frame = JSON.parse(message.data); } catch (_) { return; }
    if (frame.type === "wallboard.changed") applyChange(frame.payload);
  };
  socket.onclose = () => {
    setConnection("offline");
    if (board.socket !== socket) return;
    setTimeout(start, board.retryMs);
    board.retryMs = Math.min(board.retryMs * 2, 15000);
  };
}

async function start() {
  const reply = await api("GET", "/api/wallboard");
  if (reply.status === 401 || reply.status === 403) {
    document.getElementById("board-view").hidden = true;
    document.getElementById("login-view").hidden = false;
    document.getElementById("login-error").textContent = reply.status === 403 ? t("not_supervisor") : "";
    return;
  }
  document.getElementById("login-view").hidden = true;
  document.getElementById("board-view").hidden = false;
  if (reply.ok) setState(reply.data);
  connect();
}

function applyLanguage() {
  document.documentElement.lang = board.lang;
  document.documentElement.dir = board.lang === "fa" ? "rtl" : "ltr";
  document.getElementById("language").value = board.lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  setConnection(document.getElementById("connection").dataset.state || "offline");
  render();
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("language").addEventListener("change", (event) => {
    board.lang = event.target.value;
    localStorage.setItem("tamas.lang", board.lang);
    applyLanguage();
  });
  document.getElementById("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const reply = await api("POST", "/api/login", { agent: form.agent.value, password: form.password.value });
    if (!reply.ok) { document.getElementById("login-error").textContent = t("wrong_login"); return; }
    start();
  });
  setInterval(() => {
    document.getElementById("clock").textContent = when(Date.now() / 1000);
    tick();
  }, 1000);
  applyLanguage();
  start();
});
