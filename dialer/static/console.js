// The campaign operators' console. Data from the server enters the page as text (el() makes
// text nodes; nothing assigns innerHTML), and every code (state, mode, kind, rule, outcome) is
// shown through the translations, never raw. Progress is polled every second.
"use strict";

const ROLE = "campaign_operator";
const POLL_MS = 1000;
// Which buttons a state allows (the server decides; this only greys out the others).
const ALLOWED = {
  draft: ["start", "stop"], running: ["pause", "stop"], paused: ["resume", "stop"], stopped: [], finished: [],
};
const COLOURS = {
  message_played: "#0b6e63", to_agent: "#2e8b57", callback_requested: "#6a9f3a", hung_up: "#9aa5b1", opted_out: "#5b6876",
  abandoned: "#a4262c", no_agent: "#c2185b", no_answer: "#e0a030", busy: "#b3541e", congestion: "#7e57c2",
  dial_failed: "#795548", answering_machine: "#1e88e5", failed: "#263238",
};
const state = {
  lang: localStorage.getItem("tamas.lang") || "fa", agent: null, kinds: [], campaigns: [], selected: null,
  timer: null, chart: null, upload: null, last: null,
};

function t(key) {
  const words = window.TAMAS_DIALER_I18N[state.lang] || window.TAMAS_DIALER_I18N.fa;
  return words[key] || window.TAMAS_DIALER_I18N.en[key] || key;
}

function fill(key, ...values) { return t(key).replace(/\{(\d)\}/g, (_, n) => values[Number(n)]); }

// A code in the operator's language; an unknown one is shown as "—", never as the raw code.
function code(prefix, value) {
  const words = window.TAMAS_DIALER_I18N[state.lang] || window.TAMAS_DIALER_I18N.fa;
  return words[`${prefix}_${value}`] || window.TAMAS_DIALER_I18N.en[`${prefix}_${value}`] || t("none");
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
function percent(value) { return value === null || value === undefined ? t("none") : number(value, { style: "percent", maximumFractionDigits: 1 }); }

// Jalali dates in Persian (the browser's persian calendar), Gregorian in English and Russian.
function formatDate(iso, withTime) {
  const d = new Date(iso);
  if (isNaN(d)) return t("none");
  const options = { year: "numeric", month: "long", day: "numeric", timeZone: "Asia/Tehran" };
  if (withTime) Object.assign(options, { hour: "2-digit", minute: "2-digit" });
  return new Intl.DateTimeFormat(locale(), options).format(d);
}

function clock(iso) {
  return new Intl.DateTimeFormat(locale(), { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Tehran" }).format(new Date(iso));
}

// A refusal in the operator's language by its HTTP status and what it names; the server's own
// sentence is English, for logs and support.
function failure(reply) {
  const data = reply.data || {};
  if (reply.status === 409 && data.field === "name") return t("err_duplicate");
  if (reply.status === 409 && data.reason === "selection") return t("err_selection");
  if (reply.status === 400 && data.field === "file") return t("err_file");
  const key = { 400: "err_invalid", 403: "err_forbidden", 404: "err_not_found", 409: "err_conflict", 413: "err_too_large", 501: "err_not_implemented" }[reply.status] || "err_unavailable";
  return data.field ? `${t(key)}: ${t(data.field)}` : t(key);
}

async function api(method, path, body, raw) {
  const options = { method, headers: {}, credentials: "same-origin" };
  if (raw) { options.headers["Content-Type"] = "application/octet-stream"; options.headers["X-File-Name"] = encodeURIComponent(raw.name).slice(0, 200); options.body = raw.data; }
  else if (body !== undefined) { options.headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
  let response;
  try { response = await fetch(path, options); } catch (_) { return { ok: false, status: 0, data: null }; }
  let data = null;
  try { data = await response.json(); } catch (_) { data = null; }
  if (response.status === 401 && path !== "/api/login") showLogin();
  return { ok: response.ok, status: response.status, data };
}

function campaignPath(suffix) { return `/api/campaigns/${encodeURIComponent(state.selected)}/${suffix}`; }

// ---------------------------------------------------------------- language

function applyLanguage() {
  document.documentElement.lang = state.lang;
  document.documentElement.dir = state.lang === "fa" ? "rtl" : "ltr";
  document.getElementById("language").value = state.lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  renderKinds();
  renderList();
  if (state.last) renderProgress(state.last);
}

// ---------------------------------------------------------------- login

function view(name) {
  for (const id of ["login-view", "forbidden-view", "console-view"]) document.getElementById(id).hidden = id !== name;
}

function showLogin() {
  state.agent = null; state.selected = null; state.last = null;
  stopPolling();
  view("login-view");
  document.getElementById("logout").hidden = true;
  document.getElementById("me").textContent = "";
}

function showConsole(agent) {
  state.agent = agent;
  document.getElementById("logout").hidden = false;
  document.getElementById("me").textContent = (agent.name ? agent.name + " · " : "") + agent.number;
  if (!agent.roles.includes(ROLE)) { view("forbidden-view"); return; }
  view("console-view");
  loadCampaigns();
}

async function onLogin(event) {
  event.preventDefault();
  const form = event.target;
  const error = document.getElementById("login-error");
  error.textContent = "";
  const reply = await api("POST", "/api/login", { agent: form.agent.value.trim(), password: form.password.value });
  if (reply.ok) { form.password.value = ""; showConsole(reply.data); }
  else error.textContent = reply.status === 429 ? t("too_many") : t("wrong_login");
}

// ---------------------------------------------------------------- campaigns

async function loadCampaigns() {
  const reply = await api("GET", "/api/campaigns");
  if (!reply.ok) return;
  state.kinds = reply.data.kinds;
  state.campaigns = reply.data.campaigns;
  renderKinds();
  renderList();
}

function renderKinds() {
  const select = document.getElementById("create-form").kind;
  const chosen = select.value;
  select.replaceChildren(...state.kinds.map((kind) => el("option", { value: kind.name }, `${code("kind", kind.name)} · ${code("mode", kind.mode)}`)));
  if (chosen) select.value = chosen;
}

function renderList() {
  const rows = state.campaigns.map((c) => el("tr", {
    class: c.name === state.selected ? "selected" : null, "data-name": c.name, onclick: () => choose(c.name),
  }, el("td", {}, c.name), el("td", {}, code("kind", c.kind)), el("td", {}, code("state", c.state)), el("td", {}, number(c.targets))));
  document.getElementById("campaign-list").replaceChildren(...rows);
}

async function onCreate(event) {
  event.preventDefault();
  const form = event.target;
  const status = document.getElementById("create-status");
  const body = {
    name: form.name.value.trim(), kind: form.kind.value,
    abandon_target: Number(form.abandon_target.value) / 100, abandon_window: form.abandon_window.value,
  };
  const reply = await api("POST", "/api/campaigns", body);
  if (!reply.ok) { status.textContent = failure(reply); status.className = "status bad"; return; }
  status.textContent = t("created"); status.className = "status ok";
  form.name.value = "";
  await loadCampaigns();
  choose(reply.data.name);
}

function choose(name) {
  state.selected = name; state.last = null; state.upload = null;
  document.getElementById("campaign-view").hidden = false;
  for (const id of ["import-report", "select-report", "action-status"]) document.getElementById(id).replaceChildren();
  document.getElementById("import-confirm").hidden = true;
  document.getElementById("select-confirm").hidden = true;
  document.getElementById("file").value = "";
  document.getElementById("export-csv").href = campaignPath("export?format=csv");
  document.getElementById("export-xlsx").href = campaignPath("export?format=xlsx");
  if (state.chart) { state.chart.destroy(); state.chart = null; }
  renderList();
  startPolling();
}

// ---------------------------------------------------------------- progress

function startPolling() {
  stopPolling();
  const tick = async () => {
    if (!state.selected) return;
    const name = state.selected;
    const reply = await api("GET", campaignPath("progress"));
    if (reply.ok && name === state.selected) renderProgress(reply.data);
    if (state.selected === name) state.timer = setTimeout(tick, POLL_MS);
  };
  tick();
}

function stopPolling() { if (state.timer) { clearTimeout(state.timer); state.timer = null; } }

function figure(key, value, extra) {
  return el("div", { "data-figure": key }, el("dt", {}, t(key)), el("dd", extra || {}, value));
}

function renderProgress(p) {
  state.last = p;
  document.getElementById("campaign-name").textContent = p.name;
  document.getElementById("campaign-kind").textContent = code("kind", p.kind);
  document.getElementById("campaign-mode").textContent = code("mode", p.mode);
  const badge = document.getElementById("campaign-state");
  badge.textContent = code("state", p.state);
  badge.className = `badge state-${p.state}`;
  badge.dataset.state = p.state;
  for (const button of document.querySelectorAll("[data-action]")) button.disabled = !(ALLOWED[p.state] || []).includes(button.dataset.action);
  document.getElementById("sms-fallback").hidden = !p.sms_fallback;
  const kind = state.kinds.find((k) => k.name === p.kind);
  document.getElementById("rule").textContent = kind ? code("rule", kind.rule) : "";
  document.getElementById("select-preview").disabled = !kind || kind.rule === "imported";

  const settled = p.done + p.skipped;
  document.getElementById("progress-bar").value = p.progress;
  document.getElementById("progress-text").textContent = `${fill("progress_of", number(settled), number(p.targets))} (${percent(p.progress)})`;
  const over = p.abandon_rate !== null && p.abandon_rate > p.abandon_target;
  const since = formatDate(p.window.since);
  document.getElementById("figures").replaceChildren(
    figure("targets", number(p.targets)), figure("pending", number(p.pending)), figure("done", number(p.done)),
    figure("skipped", number(p.skipped)), figure("attempts", number(p.attempts)), figure("in_flight", number(p.in_flight)),
    figure("calls_per_s", number(p.calls_per_s, { maximumFractionDigits: 2 })), figure("answered", number(p.answered)),
    figure("to_agent", number(p.to_agent)), figure("abandoned", number(p.abandoned)), figure("opted_out", number(p.opted_out)),
    figure("abandon_rate", `${percent(p.abandon_rate)} / ${t("of_target")} ${percent(p.abandon_target)} · ${since}`, { class: over ? "over" : null }),
    figure("agents_logged_in", number(p.agents_logged_in)),
  );
  document.getElementById("outcomes").replaceChildren(...Object.entries(p.outcomes).map(([outcome, count]) =>
    el("tr", { "data-outcome": outcome }, el("td", {}, code("outcome", outcome)), el("td", {}, number(count)))));
  renderChart(p.timeline);
}

// Outcomes per minute, stacked (Chart.js, served by the app; never hand-drawn).
function renderChart(timeline) {
  if (!window.Chart) return;
  const outcomes = [...new Set(timeline.flatMap((point) => Object.keys(point.outcomes)))].sort();
  const labels = timeline.map((point) => clock(point.minute));
  const datasets = outcomes.map((outcome) => ({
    label: code("outcome", outcome), backgroundColor: COLOURS[outcome] || "#888",
    data: timeline.map((point) => point.outcomes[outcome] || 0),
  }));
  if (!state.chart) {
    state.chart = new window.Chart(document.getElementById("chart"), {
      type: "bar", data: { labels, datasets },
      options: { animation: false, maintainAspectRatio: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
    });
    return;
  }
  state.chart.data.labels = labels;
  state.chart.data.datasets = datasets;
  state.chart.update("none");
}

// ---------------------------------------------------------------- actions

async function onAction(event) {
  const action = event.target.dataset.action;
  const status = document.getElementById("action-status");
  const reply = await api("POST", campaignPath("state"), { action });
  status.textContent = reply.ok ? code("state", reply.data.state) : failure(reply);
  status.className = reply.ok ? "status ok" : "status bad";
  loadCampaigns();
}

async function onSmsFallback() {
  const status = document.getElementById("action-status");
  const reply = await api("POST", campaignPath("sms-fallback"), {});
  if (!reply.ok) { status.textContent = failure(reply); status.className = "status bad"; return; }
  status.textContent = ["queued", "refused", "already"].map((key) => `${t(key)}: ${number(reply.data[key])}`).join(" · ");
  status.className = "status ok";
}

// ---------------------------------------------------------------- targets

function counts(pairs) {
  return el("dl", { class: "figures" }, pairs.map(([key, value]) => figure(key, number(value))));
}

function renderImport(report) {
  const lines = [
    ...report.problems.map((p) => ({ line: p.line, node: el("li", { class: "problem", "data-line": p.line }, `${t("line")} ${number(p.line)}: ${p.reason}`) })),
    ...report.merged.map((m) => ({ line: m.line, node: el("li", { "data-line": m.line }, `${t("line")} ${number(m.line)}: ${fill("merged_into", number(m.into_line))}`,
      Object.entries(m.differs).map(([key, value]) => ` · ${key} ${t("differs")}: ${value}`)) })),
  ].sort((a, b) => a.line - b.line).map((item) => item.node);
  const figures = [["rows", report.rows], ["report_targets", report.targets], ["merged", report.merged.length], ["problems", report.problems.length]];
  if (!report.dry_run) figures.push(["added", report.added], ["already_in_campaign", report.already_in_campaign]);
  document.getElementById("import-report").replaceChildren(el("div", { class: "report" }, counts(figures), el("ul", { "data-testid": "report-lines" }, lines)));
}

async function onImportPreview() {
  const input = document.getElementById("file");
  const file = input.files && input.files[0];
  if (!file) return;
  state.upload = { name: file.name, data: await file.arrayBuffer() };
  const reply = await api("POST", campaignPath("import?dry_run=1"), undefined, state.upload);
  if (!reply.ok) { document.getElementById("import-report").replaceChildren(el("p", { class: "bad" }, failure(reply))); return; }
  renderImport(reply.data);
  document.getElementById("import-confirm").hidden = reply.data.targets === 0;
}

async function onImportConfirm() {
  if (!state.upload) return;
  const reply = await api("POST", campaignPath("import"), undefined, state.upload);
  if (!reply.ok) { document.getElementById("import-report").replaceChildren(el("p", { class: "bad" }, failure(reply))); return; }
  renderImport(reply.data);
  document.getElementById("import-confirm").hidden = true;
  state.upload = null;
  loadCampaigns();
}

async function onSelect(dryRun) {
  const reply = await api("POST", campaignPath("select"), { dry_run: dryRun });
  const target = document.getElementById("select-report");
  if (!reply.ok) { target.replaceChildren(el("p", { class: "bad" }, failure(reply))); return; }
  const r = reply.data;
  target.replaceChildren(counts([["matched", r.matched], ["do_not_call", r.do_not_call], ["without_phone", r.without_phone],
    ["already_in_campaign", r.already_in_campaign], dryRun ? ["new", r.new] : ["added", r.added]]));
  document.getElementById("select-confirm").hidden = !dryRun || r.new === 0;
  if (!dryRun) loadCampaigns();
}

document.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("language").addEventListener("change", (event) => {
    state.lang = event.target.value; localStorage.setItem("tamas.lang", state.lang); applyLanguage();
  });
  document.getElementById("login-form").addEventListener("submit", onLogin);
  document.getElementById("logout").addEventListener("click", async () => { await api("POST", "/api/logout"); showLogin(); });
  document.getElementById("create-form").addEventListener("submit", onCreate);
  for (const button of document.querySelectorAll("[data-action]")) button.addEventListener("click", onAction);
  document.getElementById("sms-fallback").addEventListener("click", onSmsFallback);
  document.getElementById("import-preview").addEventListener("click", onImportPreview);
  document.getElementById("import-confirm").addEventListener("click", onImportConfirm);
  document.getElementById("select-preview").addEventListener("click", () => onSelect(true));
  document.getElementById("select-confirm").addEventListener("click", () => onSelect(false));
  applyLanguage();
  const me = await api("GET", "/api/me");
  if (me.ok) showConsole(me.data); else showLogin();
});
