// The messaging operators' page. Server data enters the page as text (el() makes text nodes;
// nothing assigns innerHTML), and codes (channels, statuses, notice kinds) are shown through
// the translations, never raw. The summary is polled every five seconds.
"use strict";

const ROLE = "messaging_operator";
const POLL_MS = 5000;
const COLOURS = { sms: "#0b6e63", email: "#1e88e5", fax: "#b3541e" };
const state = { lang: localStorage.getItem("tamas.lang") || "fa", timer: null, chart: null, kinds: [] };

function words() { return window.TAMAS_MESSAGING_I18N[state.lang] || window.TAMAS_MESSAGING_I18N.fa; }
function t(key) { return words()[key] || window.TAMAS_MESSAGING_I18N.en[key] || key; }
function fill(key, ...values) { return t(key).replace(/\{(\d)\}/g, (_, n) => values[Number(n)]); }
// A code in the operator's language; an unknown one is "—", never the raw code.
function code(prefix, value) {
  return words()[`${prefix}_${value}`] || window.TAMAS_MESSAGING_I18N.en[`${prefix}_${value}`] || t("none");
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

function locale() { return { fa: "fa-IR-u-ca-persian", en: "en-GB", ru: "ru-RU" }[state.lang]; }
function number(value, options) { return new Intl.NumberFormat(locale().split("-u-")[0], options).format(value); }
function percent(value) { return value === null ? t("none") : number(value, { style: "percent", maximumFractionDigits: 1 }); }
// Jalali dates in Persian (the browser's persian calendar), Gregorian in English and Russian.
function when(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return t("none");
  return new Intl.DateTimeFormat(locale(), {
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "Asia/Tehran",
  }).format(d);
}

async function api(path, options) {
  const init = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
  if (init.body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(init.body); }
  const reply = await fetch(path, init);
  let body = null;
  try { body = await reply.json(); } catch (_) { body = null; }
  return { status: reply.status, body };
}

function applyLanguage() {
  document.documentElement.lang = state.lang;
  document.documentElement.dir = state.lang === "fa" ? "rtl" : "ltr";
  document.getElementById("language").value = state.lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
}

function show(view) {
  for (const id of ["login-view", "ops-view", "forbidden"]) document.getElementById(id).hidden = id !== view;
}

async function start() {
  const me = await api("/api/me");
  if (me.status !== 200) { show("login-view"); return; }
  document.getElementById("me").textContent = `${me.body.name} (${me.body.number})`;
  if (!me.body.roles.includes(ROLE)) { show("forbidden"); return; }
  show("ops-view");
  await loadTemplates();
  await refresh();
  clearInterval(state.timer);
  state.timer = setInterval(refresh, POLL_MS);
}

async function refresh() {
  const [summary, failures] = await Promise.all([api("/api/messages/summary"), api("/api/messages/failures")]);
  if (summary.status === 200) { drawQueue(summary.body.queue); drawRates(summary.body.rates); drawVolume(summary.body.volume); }
  if (failures.status === 200) drawFailures(failures.body.failures);
}

function drawQueue(queue) {
  const statuses = ["pending", "sending", "sent", "failed", "uncertain", "refused", "cancelled"];
  const head = document.getElementById("queue-head");
  head.replaceChildren(el("th", {}, t("channel")), ...statuses.map((s) => el("th", {}, code("status", s))));
  const body = document.getElementById("queue-body");
  body.replaceChildren(...Object.keys(queue).sort().map((kind) => el("tr", { "data-kind": kind },
    el("td", {}, code("channel", kind)),
    ...statuses.map((s) => el("td", { class: "number", "data-status": s }, number(queue[kind][s] || 0))))));
}

function drawRates(rates) {
  document.getElementById("rates-body").replaceChildren(...rates.map((r) => el("tr", {},
    el("td", {}, r.provider), el("td", {}, code("channel", r.kind)), el("td", {}, code("subject", r.subject)),
    el("td", { class: "number" }, number(r.sent)), el("td", { class: "number" }, number(r.delivered)),
    el("td", { class: "number" }, number(r.undelivered)), el("td", { class: "number" }, number(r.expired)),
    el("td", { class: "number" }, number(r.awaiting)), el("td", { class: "number", "data-testid": "rate" }, percent(r.rate)))));
}

function drawVolume(volume) {
  if (!window.Chart) return;
  const kinds = Object.keys(volume[0] || {}).filter((k) => k !== "hour" && !k.endsWith("_delivered"));
  const labels = volume.map((row) => when(row.hour));
  const datasets = kinds.map((kind) => ({
    type: "bar", label: code("channel", kind), data: volume.map((row) => row[kind]), backgroundColor: COLOURS[kind] || "#888",
  })).concat(kinds.map((kind) => ({
    type: "line", label: `${code("channel", kind)} — ${t("delivered")}`, data: volume.map((row) => row[`${kind}_delivered`]),
    borderColor: COLOURS[kind] || "#888", pointRadius: 0,
  })));
  if (state.chart) { state.chart.data.labels = labels; state.chart.data.datasets = datasets; state.chart.update("none"); return; }
  state.chart = new window.Chart(document.getElementById("volume-chart"), {
    data: { labels, datasets }, options: { animation: false, responsive: true, scales: { x: { stacked: true }, y: { beginAtZero: true } } },
  });
}

function drawFailures(failures) {
  document.getElementById("failures-body").replaceChildren(...failures.map((f) => el("tr", { "data-message": f.id },
    el("td", {}, number(f.id, { useGrouping: false })), el("td", {}, code("channel", f.kind)), el("td", { dir: "ltr" }, f.to),
    el("td", {}, code("subject", f.subject)),
    el("td", {}, code("status", f.delivery || f.status), f.why ? ` (${f.why})` : ""), el("td", {}, when(f.created_at)),
    el("td", {},
      f.retriable ? el("button", { type: "button", "data-testid": `retry-${f.id}`, onclick: () => act(f.id, "retry") }, t("retry")) : null,
      f.status === "failed" || f.status === "pending"
        ? el("button", { type: "button", "data-testid": `cancel-${f.id}`, onclick: () => act(f.id, "cancel") }, t("cancel")) : null))));
}

async function act(id, action) {
  const reply = await api(`/api/messages/${id}/${action}`, { method: "POST", body: {} });
  document.getElementById("action-error").textContent = reply.status === 200 ? "" : t("action_refused");
  await refresh();
}

// --- templates ---------------------------------------------------------------------------
async function loadTemplates() {
  const reply = await api("/api/notices/templates");
  if (reply.status !== 200) return;
  state.kinds = reply.body.kinds;
  const select = document.getElementById("tpl-kind");
  const chosen = select.value;
  select.replaceChildren(...state.kinds.map((k) => el("option", { value: k.kind }, code("subject", k.kind))));
  if (chosen) select.value = chosen;
  showTemplate();
}

function currentKind() { return state.kinds.find((k) => k.kind === document.getElementById("tpl-kind").value); }

function showTemplate() {
  const kind = currentKind();
  if (!kind) return;
  const language = document.getElementById("tpl-language").value;
  const text = kind.texts[language];
  document.getElementById("tpl-text").value = text.edited || text.catalogue;
  document.getElementById("tpl-text").dir = language === "fa" ? "rtl" : "ltr";
  document.getElementById("tpl-values").textContent = kind.values.map((v) => `{${v}}`).join(" ");
  document.getElementById("tpl-edited").textContent = text.edited ? fill("edited_by", text.edited_by, when(text.edited_at)) : t("catalogue_text");
  document.getElementById("tpl-error").textContent = "";
}

async function preview() {
  const kind = currentKind();
  const reply = await api("/api/notices/preview", { method: "POST", body: {
    kind: kind.kind, language: document.getElementById("tpl-language").value,
    text: document.getElementById("tpl-text").value, customer: document.getElementById("tpl-customer").value,
  } });
  document.getElementById("tpl-error").textContent = reply.status === 200 ? "" : (reply.body && reply.body.error) || t("none");
  const output = document.getElementById("tpl-output");
  output.textContent = reply.status === 200 ? reply.body.text : "";
  output.dir = reply.status === 200 && reply.body.language === "fa" ? "rtl" : "ltr";
  document.getElementById("tpl-parts").textContent = reply.status === 200
    ? fill("parts", number(reply.body.sms.parts), reply.body.sms.encoding) : "";
}

async function save() {
  const kind = currentKind();
  const language = document.getElementById("tpl-language").value;
  const reply = await api(`/api/notices/templates/${kind.kind}/${language}`, { method: "PUT", body: { text: document.getElementById("tpl-text").value } });
  document.getElementById("tpl-error").textContent = reply.status === 200 ? t("saved") : (reply.body && reply.body.error) || t("none");
  if (reply.status === 200) { await loadTemplates(); document.getElementById("tpl-error").textContent = t("saved"); }
}

async function reset() {
  const kind = currentKind();
  const language = document.getElementById("tpl-language").value;
  await api(`/api/notices/templates/${kind.kind}/${language}`, { method: "DELETE" });
  await loadTemplates();
}

document.addEventListener("DOMContentLoaded", () => {
  applyLanguage();
  document.getElementById("language").addEventListener("change", (event) => {
    state.lang = event.target.value;
    localStorage.setItem("tamas.lang", state.lang);
    applyLanguage();
    if (state.kinds.length) loadTemplates();
    refresh();
  });
  document.getElementById("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const reply = await api("/api/login", { method: "POST", body: { agent: form.get("agent"), password: form.get("password") } });
    document.getElementById("login-error").textContent = reply.status === 200 ? "" : t("login_failed");
    if (reply.status === 200) start();
  });
  document.getElementById("tpl-kind").addEventListener("change", showTemplate);
  document.getElementById("tpl-language").addEventListener("change", showTemplate);
  document.getElementById("tpl-preview").addEventListener("click", preview);
  document.getElementById("tpl-save").addEventListener("click", save);
  document.getElementById("tpl-reset").addEventListener("click", reset);
  start();
});
