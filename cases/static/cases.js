// The case handlers' page: their cases and their team's queue and tasks, a case's timeline with
// its moves and notes, opening a case; supervisors also see each team's load and the breaches.
// Server data enters the page as text (el() makes text nodes; nothing assigns innerHTML), and
// codes (types, states, priorities, timeline kinds) go through the translations, never raw.
"use strict";

const ROLE = "case_handler";
const POLL_MS = 5000;
const state = {
  team: localStorage.getItem("tamas.cases.team") || "",
  types: [], teams: [], roles: [], current: null, timer: null, chart: null, hub: null, reportChart: null,
};
const { el, api, number, percent } = window.TamasPage;
const { t, fill, code, known } = window.TamasPage.translations(window.TAMAS_CASES_I18N);

// Jalali dates in Persian, Gregorian in English and Russian (Tehran time).
function when(iso) {
  return window.TamasPage.date(iso, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

async function start(agent) {
  state.roles = agent.roles;
  document.getElementById("supervisor-panel").hidden = !state.roles.includes("supervisor");
  const types = await api("GET", "/api/cases/types");
  if (types.status === 200) { state.types = types.data.types; state.teams = types.data.teams; }
  drawChoices();
  listen();
  await refresh();
  clearInterval(state.timer);
  state.timer = setInterval(refresh, POLL_MS);
}

function leave() {
  clearInterval(state.timer);
  if (state.hub) { state.hub.close(); state.hub = null; }
  state.current = null;
  document.getElementById("alerts").replaceChildren();
  document.getElementById("alerts-panel").hidden = true;
}

function redraw(agent) {
  drawChoices();
  if (!agent || !agent.roles.includes(ROLE)) return;
  if (state.current) openCase(state.current.tracking_number);
  refresh();
}

// Escalations reach the page live: the desktop hub sends `case.alert` to the person a step is
// for and to every supervisor (cases/escalation.py).
function listen() {
  if (state.hub) return;
  state.hub = window.TamasPage.socket({
    on: (type, payload) => { if (type === "case.alert") onAlert(payload); },
    closed: (ended) => { if (ended) window.TamasPage.showLogin(); },
  });
}

function onAlert(alert) {
  document.getElementById("alerts-panel").hidden = false;
  const text = fill(`alert_${alert.action}`, alert.tracking_number, when(alert.due_at));
  document.getElementById("alerts").prepend(el("li", { class: alert.overdue ? "late" : null, "data-case": alert.tracking_number,
    onclick: () => openCase(alert.tracking_number) }, when(alert.at), " — ", text));
  refresh();
}

function drawChoices() {
  const team = document.getElementById("team");
  team.replaceChildren(el("option", { value: "" }, t("none")),
    ...state.teams.map((name) => el("option", { value: name }, code("team", name))));
  team.value = state.team;
  const type = document.getElementById("open-type");
  const chosen = type.value;
  type.replaceChildren(...state.types.map((spec) => el("option", { value: spec.type }, code("type", spec.type))));
  if (chosen) type.value = chosen;
  drawOpenFields();
}

function drawOpenFields() {
  const spec = state.types.find((s) => s.type === document.getElementById("open-type").value);
  document.getElementById("open-fields").replaceChildren(...(spec ? spec.fields : []).map((field) => el("label", {},
    el("span", {}, code("field", field.name), field.required ? " *" : ""),
    field.kind === "choice"
      ? el("select", { "data-field": field.name, "data-testid": `field-${field.name}` }, el("option", { value: "" }, t("none")),
        ...field.choices.map((choice) => el("option", { value: choice }, code("choice", choice))))
      : el("input", { "data-field": field.name, "data-testid": `field-${field.name}`, dir: field.kind === "text" ? null : "ltr" }))));
}

function caseRow(item) {
  const late = item.breached.length > 0 || (item.next_due_at && new Date(item.next_due_at) <= new Date());
  return el("tr", { class: late ? "case breached" : "case", "data-case": item.tracking_number, onclick: () => openCase(item.tracking_number) },
    el("td", { dir: "ltr" }, item.tracking_number), el("td", {}, code("type", item.type)), el("td", {}, code("state", item.state)),
    el("td", {}, code("priority", item.priority)),
    el("td", { class: late ? "late" : null }, when(item.next_due_at), item.next_due_clock ? ` (${code("clock", item.next_due_clock)})` : ""));
}

async function refresh() {
  const mine = await api("GET", "/api/cases/mine");
  if (mine.status === 200) {
    document.getElementById("my-body").replaceChildren(...mine.data.cases.map(caseRow));
  }
  const team = state.team ? await api("GET", `/api/cases/mine?team=${encodeURIComponent(state.team)}`) : null;
  document.getElementById("team-body").replaceChildren(...(team && team.status === 200 ? team.data.cases : []).map(caseRow));
  const tasks = team && team.status === 200 ? team.data.tasks : (mine.status === 200 ? mine.data.tasks : []);
  document.getElementById("tasks-body").replaceChildren(...tasks.map((task) => el("tr", { "data-task": task.id },
    el("td", { dir: "ltr" }, task.tracking_number), el("td", {}, task.title), el("td", {}, code("priority", task.urgency)),
    el("td", { class: new Date(task.control_at) <= new Date() ? "late" : null }, when(task.control_at)),
    el("td", {}, el("button", { type: "button", "data-testid": `done-${task.id}`, onclick: () => finishTask(task.id) }, t("done"))))));
  if (state.roles.includes("supervisor")) await drawOverview();
}

async function drawOverview() {
  const reply = await api("GET", "/api/cases/overview");
  if (reply.status !== 200) return;
  const teams = reply.data.teams;
  document.getElementById("load-body").replaceChildren(...teams.map((row) => el("tr", { "data-team": row.team },
    el("td", {}, code("team", row.team)), el("td", {}, number(row.open)), el("td", {}, number(row.due)), el("td", {}, number(row.breached)))));
  document.getElementById("breaches-body").replaceChildren(...reply.data.breaches.map(caseRow));
  if (!window.Chart) return;
  const labels = teams.map((row) => code("team", row.team));
  const datasets = [
    { label: t("open"), data: teams.map((row) => row.open), backgroundColor: "#0b6e63" },
    { label: t("due_soon"), data: teams.map((row) => row.due), backgroundColor: "#e0a800" },
    { label: t("breached"), data: teams.map((row) => row.breached), backgroundColor: "#a4262c" },
  ];
  if (state.chart) { state.chart.data.labels = labels; state.chart.data.datasets = datasets; state.chart.update("none"); return; }
  state.chart = new window.Chart(document.getElementById("load-chart"), {
    type: "bar", data: { labels, datasets }, options: { animation: false, responsive: true, scales: { y: { beginAtZero: true } } },
  });
}

// --- reports (supervisors) ----------------------------------------------------------------
// A cell in the reader's language: codes through the translations, numbers in their digits.
function cell(column, value, row) {
  if (value === null || value === undefined) return t("none");
  if (column === "category") return code("choice", value);
  if (column === "type") return code("type", value);
  if (column === "team") return code("team", value);
  if (column === "step") return code("clause", String(row[0]).replace(".", "_"));
  if (column === "met" || column === "sla_compliance") {
    return percent(value);
  }
  return typeof value === "number" ? number(value) : String(value);
}

async function showReport() {
  const name = document.getElementById("report-name").value;
  const query = `from=${encodeURIComponent(document.getElementById("report-from").value)}`
    + `&to=${encodeURIComponent(document.getElementById("report-to").value)}`;
  const reply = await api("GET", `/api/cases/reports/${name}?${query}`);
  document.getElementById("report-error").textContent = reply.status === 200 ? "" : (reply.data && reply.data.error) || t("none");
  if (reply.status !== 200) return;
  const { header, rows } = reply.data;
  for (const format of ["csv", "xlsx"]) {
    const link = document.getElementById(`report-${format}`);
    link.href = `/api/cases/reports/${name}?${query}&format=${format}`;
    link.hidden = false;
  }
  document.getElementById("report-head").replaceChildren(el("tr", {}, ...header.map((column) => el("th", {}, code("col", column)))));
  document.getElementById("report-body").replaceChildren(...rows.map((row) => el("tr", {},
    ...row.map((value, i) => el("td", {}, cell(header[i], value, row))))));
  drawReportChart(header, rows);
}

function drawReportChart(header, rows) {
  if (!window.Chart) return;
  // Counts as bars, one per labelled row; labels are the leading text columns.
  const counted = ["complaints", "resolved", "breached", "reached", "cases", "resolved_in_sla", "open_breached", "opened"];
  const labels = rows.map((row) => header.map((column, i) => [column, row[i]])
    .filter(([column]) => ["category", "clause", "partner", "month", "type", "team"].includes(column))
    .map(([column, value]) => cell(column, value, row)).join(" · "));
  const colours = ["#0b6e63", "#1e88e5", "#a4262c", "#e0a800", "#6a1b9a"];
  const datasets = header.map((column, i) => [column, i]).filter(([column]) => counted.includes(column))
    .map(([column, i], n) => ({ label: code("col", column), data: rows.map((row) => row[i]), backgroundColor: colours[n % colours.length] }));
  if (state.reportChart) state.reportChart.destroy();
  state.reportChart = new window.Chart(document.getElementById("report-chart"), {
    type: "bar", data: { labels, datasets }, options: { animation: false, responsive: true, scales: { y: { beginAtZero: true } } },
  });
}

async function openCase(number) {
  const reply = await api("GET", `/api/cases/${encodeURIComponent(number)}`);
  if (reply.status !== 200) return;
  state.current = reply.data.case;
  const item = reply.data.case;
  document.getElementById("detail-empty").hidden = true;
  document.getElementById("detail-body").hidden = false;
  document.getElementById("detail-number").textContent = item.tracking_number;
  document.getElementById("detail-type").textContent = code("type", item.type);
  document.getElementById("detail-state").textContent = code("state", item.state);
  document.getElementById("detail-summary").textContent = item.summary;
  document.getElementById("detail-fields").replaceChildren(...Object.entries(item.fields).flatMap(([name, value]) => [
    el("dt", {}, code("field", name)), el("dd", {}, typeof value === "string" && known(`choice_${value}`) ? code("choice", value) : value)]));
  const spec = state.types.find((s) => s.type === item.type);
  document.getElementById("move-state").replaceChildren(...(spec ? spec.states : []).filter((s) => s !== item.state)
    .map((s) => el("option", { value: s }, code("state", s))));
  document.getElementById("timeline").replaceChildren(...reply.data.timeline.map((entry) => el("li", { "data-kind": entry.kind },
    when(entry.at), " — ", code("kind", entry.kind),
    entry.kind === "state" ? ` → ${code("state", entry.data.to)}` : "", entry.note ? `: ${entry.note}` : "",
    entry.attachment ? el("span", { class: "hint", dir: "ltr" }, ` [${entry.attachment}]`) : "")));
  document.getElementById("detail-error").textContent = "";
}

async function change(body) {
  if (!state.current) return;
  const reply = await api("POST", `/api/cases/${state.current.tracking_number}`, body);
  document.getElementById("detail-error").textContent = reply.status === 200 ? "" : (reply.data && reply.data.error) || t("none");
  if (reply.status === 200) { await openCase(state.current.tracking_number); await refresh(); }
}

async function addTask() {
  if (!state.current) return;
  const title = document.getElementById("task-title");
  const control = document.getElementById("task-control").value;
  const reply = await api("POST", `/api/cases/${state.current.tracking_number}/tasks`, {
    title: title.value, control_at: control ? `${control}:00` : "", urgency: document.getElementById("task-urgency").value,
  });
  document.getElementById("detail-error").textContent = reply.status === 201 ? "" : (reply.data && reply.data.error) || t("none");
  if (reply.status === 201) { title.value = ""; await refresh(); }
}

async function finishTask(id) {
  await api("POST", `/api/cases/tasks/${id}/done`, {});
  await refresh();
}

async function openNew(event) {
  event.preventDefault();
  const fields = {};
  for (const input of document.querySelectorAll("#open-fields [data-field]")) if (input.value) fields[input.dataset.field] = input.value;
  const reply = await api("POST", "/api/cases", {
    type: document.getElementById("open-type").value, summary: document.getElementById("open-summary").value,
    phone: document.getElementById("open-phone").value || null, fields,
  });
  document.getElementById("open-error").textContent = reply.status === 201 ? "" : (reply.data && reply.data.error) || t("none");
  if (reply.status === 201) { await openCase(reply.data.tracking_number); await refresh(); }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("team").addEventListener("change", (event) => {
    state.team = event.target.value;
    localStorage.setItem("tamas.cases.team", state.team);
    refresh();
  });
  document.getElementById("open-type").addEventListener("change", drawOpenFields);
  document.getElementById("open-form").addEventListener("submit", openNew);
  document.getElementById("move").addEventListener("click", () => change({ state: document.getElementById("move-state").value }));
  document.getElementById("add-task").addEventListener("click", addTask);
  document.getElementById("report-show").addEventListener("click", showReport);
  document.getElementById("add-note").addEventListener("click", () => {
    const note = document.getElementById("note");
    if (note.value.trim()) change({ note: note.value });
    note.value = "";
  });
  window.TamasPage.session({
    role: ROLE, views: { login: "login-view", forbidden: "forbidden", content: "cases-view" }, enter: start, leave, relanguage: redraw,
  });
});
