// What every page of the web app shares: el() (server data enters pages as text, never as
// markup), the api() fetch wrapper, translations over a page's own dictionary with the words
// every page uses, numbers and Jalali dates in Persian (Tehran time), the header's page links by
// role, and the login form + /api/me + role check that shows the login, forbidden or content view.
// Loaded with `defer` before the page's own script, which reads window.TamasPage.
"use strict";

window.TamasPage = (() => {
  // Words the shared parts use; a page's own dictionary wins over these.
  const SHARED = {
    fa: {
      nav_desktop: "میز کار", nav_campaigns: "کمپین‌ها", nav_wallboard: "تابلوی زنده", nav_reports: "گزارش‌ها",
      nav_cases: "پرونده‌ها", nav_messages: "پیام‌ها", pages: "صفحه‌ها",
      logout: "خروج", login: "ورود", login_title: "ورود", agent_number: "شماره کارشناس", password: "گذرواژه",
      wrong_login: "شماره یا گذرواژه درست نیست", too_many: "تلاش‌های ناموفق زیاد؛ کمی بعد دوباره امتحان کنید",
      needs_role: "حساب شما نقش لازم برای این صفحه را ندارد.", none: "—",
    },
    en: {
      nav_desktop: "Desktop", nav_campaigns: "Campaigns", nav_wallboard: "Wallboard", nav_reports: "Reports",
      nav_cases: "Cases", nav_messages: "Messages", pages: "Pages",
      logout: "Log out", login: "Log in", login_title: "Log in", agent_number: "Agent number", password: "Password",
      wrong_login: "Wrong number or password", too_many: "Too many failed logins; try again later",
      needs_role: "Your account does not have the role this page needs.", none: "—",
    },
    ru: {
      nav_desktop: "Рабочее место", nav_campaigns: "Кампании", nav_wallboard: "Табло", nav_reports: "Отчёты",
      nav_cases: "Обращения", nav_messages: "Сообщения", pages: "Страницы",
      logout: "Выйти", login: "Войти", login_title: "Вход", agent_number: "Номер оператора", password: "Пароль",
      wrong_login: "Неверный номер или пароль", too_many: "Слишком много неудачных попыток; попробуйте позже",
      needs_role: "У вашей учётной записи нет роли для этой страницы.", none: "—",
    },
  };
  // The pages a user may open, by the role each needs (the desktop: every logged-in user).
  const PAGES = [
    { key: "desktop", path: "/", role: null },
    { key: "campaigns", path: "/campaigns", role: "campaign_operator" },
    { key: "wallboard", path: "/supervisors/wallboard", role: "supervisor" },
    { key: "reports", path: "/supervisors/reports", role: "supervisor" },
    { key: "cases", path: "/cases", role: "case_handler" },
    { key: "messages", path: "/messages", role: "messaging_operator" },
  ];
  const LOCALES = { fa: "fa-IR-u-ca-persian", en: "en-GB", ru: "ru-RU" };
  const TIME_ZONE = "Asia/Tehran";
  const DATE = { year: "numeric", month: "long", day: "numeric" };
  const TIME = { hour: "2-digit", minute: "2-digit" };

  let language = LOCALES[localStorage.getItem("tamas.lang")] ? localStorage.getItem("tamas.lang") : "fa";
  let words = { fa: {}, en: {}, ru: {} };
  let unauthorized = null;

  function lang() { return language; }

  // el("td", {class: "x", onclick: f}, "text", otherNode): text arguments become text nodes.
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

  // {ok, status, data}; a JSON body is sent as JSON, a file (ArrayBuffer or Blob) as bytes. A
  // network failure is status 0; a 401 (the session ended) shows the login form.
  async function api(method, path, body, headers) {
    const options = { method, headers: Object.assign({}, headers || {}), credentials: "same-origin" };
    if (body instanceof ArrayBuffer || body instanceof Blob) {
      options.headers["Content-Type"] = "application/octet-stream"; options.body = body;
    } else if (body !== undefined) {
      options.headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body);
    }
    let response;
    try { response = await fetch(path, options); } catch (_) { return { ok: false, status: 0, data: null }; }
    let data = null;
    try { data = await response.json(); } catch (_) { data = null; }
    if (response.status === 401 && path !== "/api/login" && unauthorized) unauthorized();
    return { ok: response.ok, status: response.status, data };
  }

  // The page's translations: t(key), fill(key, ...values) for "{0}" places, and code(prefix,
  // value) for a code shown in words ("—" when unknown, or the code itself with rawCodes).
  function translations(dictionary, options) {
    words = dictionary;
    const rawCodes = Boolean(options && options.rawCodes);
    const lookup = (key) => (words[language] || words.fa)[key] || SHARED[language][key] || words.en[key] || SHARED.en[key];
    const t = (key) => lookup(key) || key;
    const fill = (key, ...values) => t(key).replace(/\{(\d)\}/g, (_, n) => values[Number(n)]);
    const code = (prefix, value) => {
      if (value === null || value === undefined) return t("none");
      return lookup(`${prefix}_${value}`) || (rawCodes ? String(value) : t("none"));
    };
    return { t, fill, code, known: (key) => Boolean(lookup(key)) };
  }
  const shared = translations(words);

  function locale() { return LOCALES[language]; }
  function number(value, options) {
    if (value === null || value === undefined) return shared.t("none");
    return new Intl.NumberFormat(locale().split("-u-")[0], options).format(value);
  }
  function percent(value) { return number(value, { style: "percent", maximumFractionDigits: 1 }); }
  // Digits of a text (a clock "4:05") in the page's numerals.
  function digits(text) { return String(text).replace(/\d/g, (d) => number(Number(d))); }

  // A moment in Tehran time, Jalali in Persian (the browser's persian calendar), Gregorian in
  // English and Russian. `value`: an ISO text (a bare date is read as that day), epoch seconds
  // or a Date; `options`: true for date and time, or Intl options (the date alone by default).
  function date(value, options) {
    if (value === null || value === undefined || value === "") return shared.t("none");
    const d = value instanceof Date ? value : typeof value === "number" ? new Date(value * 1000)
      : new Date(value.length === 10 ? value + "T12:00:00Z" : value);
    if (isNaN(d)) return shared.t("none");
    const chosen = options === true ? Object.assign({}, DATE, TIME) : typeof options === "object" ? options : DATE;
    return new Intl.DateTimeFormat(locale(), Object.assign({ timeZone: TIME_ZONE }, chosen)).format(d);
  }
  function clock(value) { return date(value, TIME); }

  // The page in its language: <html lang/dir>, the language picker and every data-i18n node.
  function applyLanguage() {
    document.documentElement.lang = language;
    document.documentElement.dir = language === "fa" ? "rtl" : "ltr";
    const picker = document.getElementById("language");
    if (picker) picker.value = language;
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = shared.t(node.dataset.i18n);
    drawNav();
  }

  // ---------------------------------------------------------------- navigation

  let navRoles = null;

  // Links to the pages the user's roles open, in the header after the title; this page marked.
  function drawNav() {
    const header = document.querySelector("body > header");
    if (!header) return;
    let nav = document.getElementById("pages-nav");
    if (!nav) {
      nav = el("nav", { id: "pages-nav", class: "pages-nav", "data-testid": "nav" });
      const title = header.firstElementChild;
      if (title) title.after(nav); else header.prepend(nav);
    }
    nav.setAttribute("aria-label", shared.t("pages"));
    const roles = navRoles || [];
    nav.hidden = navRoles === null;
    nav.replaceChildren(...PAGES.filter((p) => navRoles !== null && (p.role === null || roles.includes(p.role))).map((p) =>
      el("a", { href: p.path, "data-testid": `nav-${p.key}`, "aria-current": p.path === location.pathname ? "page" : null }, shared.t(`nav_${p.key}`))));
  }

  // ---------------------------------------------------------------- session

  const LANGUAGES = { fa: "فارسی", en: "English", ru: "Русский" };

  // The parts every page has alike, drawn here: the language picker's choices and the login
  // form (`#login-view` left empty in the page).
  function drawCommon() {
    const picker = document.getElementById("language");
    if (picker && !picker.options.length) picker.append(...Object.entries(LANGUAGES).map(([value, name]) => el("option", { value }, name)));
    const view = document.getElementById("login-view");
    if (!view || document.getElementById("login-form")) return;
    const field = (key, attrs) => el("label", {}, el("span", { "data-i18n": key }), el("input", attrs));
    view.append(el("form", { id: "login-form", class: "panel login" },
      el("h2", { "data-i18n": "login_title" }),
      field("agent_number", { name: "agent", inputmode: "numeric", autocomplete: "username", required: true, "data-testid": "login-agent" }),
      field("password", { name: "password", type: "password", autocomplete: "current-password", required: true, "data-testid": "login-password" }),
      el("button", { type: "submit", "data-i18n": "login", "data-testid": "login-submit" }),
      el("p", { class: "error", id: "login-error", role: "alert", "data-testid": "login-error" })));
  }

  // Runs the page's login: /api/me, or the login form; then the content view if the user holds
  // `role` (any logged-in user when null), else the forbidden view. `enter(agent)` starts the
  // page, `leave()` clears what the last user saw, `language()` redraws after a language change.
  // `views`: the ids of the login, forbidden and content sections.
  async function session({ role, views, enter, leave, relanguage }) {
    let current = null;
    drawCommon();
    const ids = [views.login, views.forbidden, views.content].filter(Boolean);
    const show = (name) => { for (const id of ids) document.getElementById(id).hidden = id !== views[name]; };
    const me = document.getElementById("me");
    const logout = document.getElementById("logout");

    async function begin(agent) {
      current = agent;
      if (me) me.textContent = (agent.name ? agent.name + " · " : "") + agent.number;
      if (logout) logout.hidden = false;
      navRoles = agent.roles || [];
      drawNav();
      if (role && !navRoles.includes(role)) { show("forbidden"); return; }
      show("content");
      if (enter) await enter(agent);
    }
    function end() {
      const was = current;
      current = null;
      show("login");
      if (me) me.textContent = "";
      if (logout) logout.hidden = true;
      navRoles = null;
      drawNav();
      if (leave) leave(was);
    }
    unauthorized = end;

    const picker = document.getElementById("language");
    if (picker) picker.addEventListener("change", (event) => {
      language = event.target.value;
      localStorage.setItem("tamas.lang", language);
      applyLanguage();
      if (relanguage) relanguage(current);
    });
    document.getElementById("login-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = event.target;
      const error = document.getElementById("login-error");
      error.textContent = "";
      const reply = await api("POST", "/api/login", { agent: form.agent.value.trim(), password: form.password.value });
      if (reply.ok) { form.password.value = ""; await begin(reply.data); }
      else error.textContent = shared.t(reply.status === 429 ? "too_many" : "wrong_login");
    });
    if (logout) logout.addEventListener("click", async () => { await api("POST", "/api/logout"); end(); });
    applyLanguage();
    const reply = await api("GET", "/api/me");
    if (reply.ok) await begin(reply.data); else end();
  }

  // The desktop hub's websocket (/ws), reopened after a drop with a growing pause; frames go to
  // `on(type, payload)`. The session's end (4001 expired, 4003 ended elsewhere) is not retried.
  function socket({ on, open, closed }) {
    const link = { socket: null, retryMs: 1000, stopped: false };
    const connect = () => {
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      const ws = new WebSocket(`${scheme}://${location.host}/ws`);
      link.socket = ws;
      ws.onopen = () => { link.retryMs = 1000; if (open) open(); };
      ws.onmessage = (message) => {
        let frame;
        try { frame = JSON.parse(message.data); } catch (_) { return; }
        on(frame.type, frame.payload);
      };
      ws.onclose = (closing) => {
        const ended = closing.code === 4001 || closing.code === 4003;
        if (closed) closed(ended);
        if (link.stopped || link.socket !== ws || ended) return;
        setTimeout(() => { if (!link.stopped && link.socket === ws) connect(); }, link.retryMs);
        link.retryMs = Math.min(link.retryMs * 2, 15000);
      };
    };
    connect();
    return {
      send(frame) { if (link.socket && link.socket.readyState === WebSocket.OPEN) link.socket.send(JSON.stringify(frame)); },
      close() { link.stopped = true; if (link.socket) { link.socket.onclose = null; link.socket.close(); } },
    };
  }

  // The session ended (the page learnt it some other way than a 401): show the login form.
  function showLogin() { if (unauthorized) unauthorized(); }

  return { el, api, translations, lang, locale, number, percent, digits, date, clock, applyLanguage, session, socket, showLogin };
})();
