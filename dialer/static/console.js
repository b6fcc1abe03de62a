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
const state = { agent: null, kinds: [], campaigns: [], selected: null, timer: null, chart: null, upload: null, last: null };
const { el, api, number, percent, clock, date: formatDate } = window.TamasPage;
const { t, fill, code } = window.TamasPage.translations(window.TAMAS_DIALER_I18N);

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

function uploadHeaders() { return { "X-File-Name": encodeURIComponent(state.upload.name).slice(0, 200) }; }

function campaignPath(suffix) { return `/api/campaigns/${encodeURIComponent(state.selected)}/${suffix}`; }

// ---------------------------------------------------------------- session

function redraw() {
  renderKinds();
  renderList();
  if (state.last) renderProgress(state.last);
}

function leave() {
  state.agent = null; state.selected = null; state.last = null;
  stopPolling();
}

function showConsole(agent) {
  state.agent = agent;
  loadCampaigns();
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
  const reply = await api("POST", campaignPath("import?dry_run=1"), state.upload.data, uploadHeaders());
  if (!reply.ok) { document.getElementById("import-report").replaceChildren(el("p", { class: "bad" }, failure(reply))); return; }
  renderImport(reply.data);
  document.getElementById("import-confirm").hidden = reply.data.targets === 0;
}

async function onImportConfirm() {
  if (!state.upload) return;
  const reply = await api("POST", campaignPath("import"), state.upload.data, uploadHeaders());
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

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("create-form").addEventListener("submit", onCreate);
  for (const button of document.querySelectorAll("[data-action]")) button.addEventListener("click", onAction);
  document.getElementById("sms-fallback").addEventListener("click", onSmsFallback);
  document.getElementById("import-preview").addEventListener("click", onImportPreview);
  document.getElementById("import-confirm").addEventListener("click", onImportConfirm);
  document.getElementById("select-preview").addEventListener("click", () => onSelect(true));
  document.getElementById("select-confirm").addEventListener("click", () => onSelect(false));
  window.TamasPage.session({
    role: ROLE, views: { login: "login-view", forbidden: "forbidden-view", content: "console-view" },
    enter: showConsole, leave, relanguage: redraw,
  });
});
