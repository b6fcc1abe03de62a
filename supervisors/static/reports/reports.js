// The supervisors' report page. Data from the server enters the page as text (el() makes text
// nodes; nothing assigns innerHTML); codes (outcomes, periods) are shown through the
// translations. In Persian the dates are Jalali, typed and shown.
"use strict";

const ROLE = "supervisor";
const RATIOS = new Set(["service_level", "service_level_without_short", "abandon_rate", "occupancy"]);
const MOMENTS = new Set(["entered_at", "abandoned_at"]);
const HIDDEN = new Set(["period_start", "callid"]);
const state = { agent: null, chart: null, last: null, asked: 0 };
const { el, api, number } = window.TamasPage;
const { t, code } = window.TamasPage.translations(window.TAMAS_REPORTS_I18N);
const lang = window.TamasPage.lang;

function moment(iso) {
  return window.TamasPage.date(iso, { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

// Today as YYYY-MM-DD in the page's calendar (Jalali in Persian), Tehran time.
function today() {
  const calendar = lang() === "fa" ? "persian" : "gregory";
  const parts = new Intl.DateTimeFormat(`en-u-ca-${calendar}-nu-latn`, { year: "numeric", month: "2-digit", day: "2-digit", timeZone: "Asia/Tehran" }).formatToParts(new Date());
  const part = (type) => parts.find((p) => p.type === type).value.replace(/\D/g, "");
  return `${part("year")}-${part("month")}-${part("day")}`;
}

// Persian or Arabic digits typed into a date become ASCII ones.
function asciiDigits(text) {
  return text.replace(/[۰-۹]/g, (d) => String("۰۱۲۳۴۵۶۷۸۹".indexOf(d))).replace(/[٠-٩]/g, (d) => String("٠١٢٣٤٥٦٧٨٩".indexOf(d))).trim();
}

function cell(name, value) {
  if (value === null || value === undefined) return t("none");
  if (name === "queue" && value === "*") return t("all_queues");
  if (name === "line" && value === "*") return t("all_lines");
  if (name === "outcome") return code("outcome", value);
  if (name === "short") return value ? t("yes") : t("no");
  if (RATIOS.has(name)) return number(value, { style: "percent", maximumFractionDigits: 1 });
  if (MOMENTS.has(name)) return moment(value);
  if (typeof value === "number" && name !== "customer_id") return number(value, { maximumFractionDigits: 1 });
  return String(value);
}

// ---------------------------------------------------------------- session

function showReports(agent) {
  state.agent = agent;
  load();
}

function leave() { state.agent = null; }

// The dates typed in the page's calendar: a change of language starts again from today.
function dates(reset) {
  document.getElementById("date-hint").textContent = t("date_hint");
  const form = document.getElementById("report-form");
  if (reset || !form.from.value) { form.from.value = today(); form.to.value = today(); }
}

function redraw(agent) {
  dates(true);
  if (state.last) render(state.last);
  if (agent && agent.roles.includes(ROLE)) load();
}

// ---------------------------------------------------------------- the report

function query(format) {
  const form = document.getElementById("report-form");
  const params = new URLSearchParams({
    from: asciiDigits(form.from.value), to: asciiDigits(form.to.value), by: form.by.value, language: lang(), format,
  });
  if (lang() === "fa") params.set("calendar", "jalali");
  if (form.short.checked) params.set("short", "1");
  return `/api/reports/${encodeURIComponent(form.kind.value)}?${params}`;
}

async function load() {
  const error = document.getElementById("report-error");
  error.textContent = "";
  document.getElementById("download-csv").href = query("csv");
  document.getElementById("download-xlsx").href = query("xlsx");
  // Only the last report asked for is shown, whichever answer comes back last.
  const asked = ++state.asked;
  const reply = await api("GET", query("json"));
  if (asked !== state.asked) return;
  if (!reply.ok) {
    const key = { 400: "err_invalid", 403: "err_forbidden", 413: "err_too_large" }[reply.status] || "err_unavailable";
    error.textContent = t(key);
    return;
  }
  state.last = reply.data;
  render(reply.data);
}

function render(report) {
  const rows = report.rows || [];
  const columns = [];
  for (const row of rows) for (const name of Object.keys(row)) if (!HIDDEN.has(name) && !columns.includes(name)) columns.push(name);
  const head = document.getElementById("report-head");
  const body = document.getElementById("report-body");
  head.replaceChildren(el("tr", {}, columns.map((name) => el("th", {}, t(`col_${name}`)))));
  body.replaceChildren(...(rows.length ? rows.map((row) => el("tr", { class: row.queue === "*" || row.line === "*" ? "all-queues" : null },
    columns.map((name) => el("td", { class: typeof row[name] === "number" ? "number" : null }, cell(name, row[name])))))
    : [el("tr", {}, el("td", {}, t("nothing")))]));
  const summary = document.getElementById("summary");
  summary.replaceChildren();
  if (report.kind === "ivr") {
    summary.append(el("span", { "data-testid": "self-service-rate" }, `${t("self_service_rate")}: ${cell("service_level", report.self_service_rate)}`),
      " · ", `${t("calls_total")}: ${number(report.calls || 0)}`);
  }
  drawChart(report.kind, rows);
}

function drawChart(kind, rows) {
  if (state.chart) { state.chart.destroy(); state.chart = null; }
  const canvas = document.getElementById("chart");
  canvas.parentElement.hidden = kind === "abandoned" || !rows.length || !window.Chart;
  if (canvas.parentElement.hidden) return;
  let data;
  let options = { responsive: true, maintainAspectRatio: false, animation: false };
  if (kind === "queues") {
    const all = rows.filter((row) => row.queue === "*");
    data = {
      labels: all.map((row) => row.period || t("by_all")),
      datasets: [
        { type: "bar", label: t("col_answered"), data: all.map((row) => row.answered), backgroundColor: "#0b6e63" },
        { type: "bar", label: t("col_abandoned"), data: all.map((row) => row.abandoned), backgroundColor: "#a4262c" },
        { type: "bar", label: t("col_short_abandoned"), data: all.map((row) => row.short_abandoned), backgroundColor: "#e0a030" },
        { type: "line", label: t("col_service_level"), data: all.map((row) => row.service_level === null ? null : row.service_level * 100), borderColor: "#1e88e5", yAxisID: "percent" },
      ],
    };
    options.scales = { x: { stacked: true }, y: { stacked: true, beginAtZero: true }, percent: { position: "right", min: 0, max: 100 } };
  } else if (kind === "agents") {
    const talk = new Map();
    for (const row of rows) talk.set(row.agent, (talk.get(row.agent) || 0) + row.talk_s);
    data = { labels: [...talk.keys()], datasets: [{ type: "bar", label: t("col_talk_s"), data: [...talk.values()], backgroundColor: "#0b6e63" }] };
  } else if (kind === "lines") {
    const all = rows.filter((row) => row.line === "*");
    data = { labels: all.map((row) => row.period || t("by_all")), datasets: [{ type: "bar", label: t("col_calls"), data: all.map((row) => row.calls), backgroundColor: "#0b6e63" }] };
  } else {
    const all = rows.filter((row) => row.menu === "*");
    data = { labels: all.map((row) => cell("outcome", row.outcome)), datasets: [{ type: "bar", label: t("col_calls"), data: all.map((row) => row.calls), backgroundColor: "#0b6e63" }] };
  }
  state.chart = new window.Chart(canvas, { data, options });
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("report-form").addEventListener("submit", (event) => { event.preventDefault(); load(); });
  dates(true);
  window.TamasPage.session({
    role: ROLE, views: { login: "login-view", forbidden: "forbidden-view", content: "report-view" }, enter: showReports, leave, relanguage: redraw,
  });
});
