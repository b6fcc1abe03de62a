// The messaging operators' page. Server data enters the page as text (el() makes text nodes;
// nothing assigns innerHTML), and codes (channels, statuses, notice kinds) are shown through
// the translations, never raw. The summary is polled every five seconds.
"use strict";

const ROLE = "messaging_operator";
const POLL_MS = 5000;
const COLOURS = { sms: "#0b6e63", email: "#1e88e5", fax: "#b3541e" };
const state = { timer: null, chart: null, kinds: [] };
const { el, api, number, percent } = window.TamasPage;
const { t, fill, code } = window.TamasPage.translations(window.TAMAS_MESSAGING_I18N);

// Jalali dates in Persian, Gregorian in English and Russian (Tehran time).
function when(iso) {
  return window.TamasPage.date(iso, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

async function start() {
  await loadTemplates();
  await refresh();
  clearInterval(state.timer);
  state.timer = setInterval(refresh, POLL_MS);
}

function leave() { clearInterval(state.timer); }

function redraw(agent) {
  if (!agent || !agent.roles.includes(ROLE)) return;
  if (state.kinds.length) loadTemplates();
  refresh();
}

async function refresh() {
  const [summary, failures] = await Promise.all([api("GET", "/api/messages/summary"), api("GET", "/api/messages/failures")]);
  if (summary.status === 200) { drawQueue(summary.data.queue); drawRates(summary.data.rates); drawVolume(summary.data.volume); }
  if (failures.status === 200) drawFailures(failures.data.failures);
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
  const reply = await api("POST", `/api/messages/${id}/${action}`, {});
  document.getElementById("action-error").textContent = reply.status === 200 ? "" : t("action_refused");
  await refresh();
}

// --- templates ---------------------------------------------------------------------------
async function loadTemplates() {
  const reply = await api("GET", "/api/notices/templates");
  if (reply.status !== 200) return;
  state.kinds = reply.data.kinds;
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
  const reply = await api("POST", "/api/notices/preview", {
    kind: kind.kind, language: document.getElementById("tpl-language").value,
    text: document.getElementById("tpl-text").value, customer: document.getElementById("tpl-customer").value,
  });
  document.getElementById("tpl-error").textContent = reply.status === 200 ? "" : (reply.data && reply.data.error) || t("none");
  const output = document.getElementById("tpl-output");
  output.textContent = reply.status === 200 ? reply.data.text : "";
  output.dir = reply.status === 200 && reply.data.language === "fa" ? "rtl" : "ltr";
  document.getElementById("tpl-parts").textContent = reply.status === 200
    ? fill("parts", number(reply.data.sms.parts), reply.data.sms.encoding) : "";
}

async function save() {
  const kind = currentKind();
  const language = document.getElementById("tpl-language").value;
  const reply = await api("PUT", `/api/notices/templates/${kind.kind}/${language}`, { text: document.getElementById("tpl-text").value });
  document.getElementById("tpl-error").textContent = reply.status === 200 ? t("saved") : (reply.data && reply.data.error) || t("none");
  if (reply.status === 200) { await loadTemplates(); document.getElementById("tpl-error").textContent = t("saved"); }
}

async function reset() {
  const kind = currentKind();
  const language = document.getElementById("tpl-language").value;
  await api("DELETE", `/api/notices/templates/${kind.kind}/${language}`);
  await loadTemplates();
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("tpl-kind").addEventListener("change", showTemplate);
  document.getElementById("tpl-language").addEventListener("change", showTemplate);
  document.getElementById("tpl-preview").addEventListener("click", preview);
  document.getElementById("tpl-save").addEventListener("click", save);
  document.getElementById("tpl-reset").addEventListener("click", reset);
  window.TamasPage.session({
    role: ROLE, views: { login: "login-view", forbidden: "forbidden", content: "ops-view" }, enter: start, leave, relanguage: redraw,
  });
});
