// Boot, hash router, navigation and theme of the dashboard.
//
// Routes live in the URL's hash (#/jobs/failed), so the server never needs to know them:
// the dashboard works the same at "/" and under any mount prefix.

import { getToken, hasPlugin, logout, resetConfiguration } from "./api.js";
import { errorBox, h, mount } from "./dom.js";
import * as crons from "./page-crons.js";
import * as events from "./page-events.js";
import * as job from "./page-job.js";
import * as jobs from "./page-jobs.js";
import * as login from "./page-login.js";
import * as metrics from "./page-metrics.js";
import * as queue from "./page-queue.js";
import * as queues from "./page-queues.js";
import * as system from "./page-system.js";
import * as workers from "./page-workers.js";
import * as workflow from "./page-workflow.js";
import * as workflows from "./page-workflows.js";
import { clearStaleFlash, handleError, href, navigate } from "./ui.js";

const ROUTES = [
  [/^login$/, login],
  [/^jobs(?:\/([a-z]+))?$/, jobs, ["state"]],
  [/^job\/([^/]+)$/, job, ["id"]],
  [/^queues$/, queues],
  [/^queues\/([^/]+)$/, queue, ["name"]],
  [/^workers$/, workers],
  [/^crons$/, crons],
  [/^workflows$/, workflows],
  [/^workflows\/([^/]+)$/, workflow, ["id"]],
  [/^metrics(?:\/([^/]+))?$/, metrics, ["key"]],
  [/^events$/, events],
  [/^system$/, system],
];

const NAV = [
  ["jobs", "Jobs"],
  ["queues", "Queues"],
  ["workers", "Workers"],
  ["crons", "Crons", "cron"],
  ["workflows", "Workflows", "workflow"],
  ["metrics", "Metrics", "metrics"],
  ["events", "Events"],
  ["system", "System"],
];

const THEME_KEY = "chancy.theme";
const THEMES = ["auto", "light", "dark"];

function applyTheme(theme) {
  if (theme === "auto") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  const button = document.getElementById("theme-toggle");
  if (button) {
    button.textContent = { auto: "◐ Auto", light: "☀ Light", dark: "☾ Dark" }[theme];
    button.title = `Theme: ${theme} (click to change)`;
  }
}

function cycleTheme() {
  const current = localStorage.getItem(THEME_KEY) || "auto";
  const next = THEMES[(THEMES.indexOf(current) + 1) % THEMES.length];
  localStorage.setItem(THEME_KEY, next);
  applyTheme(next);
}

let current = null;

function parseRoute() {
  const path = decodeURIComponent(location.hash.replace(/^#\/?/, "")) || "jobs";
  for (const [pattern, page, names = []] of ROUTES) {
    const match = pattern.exec(path);
    if (match) {
      const params = {};
      names.forEach((name, i) => { if (match[i + 1] !== undefined) params[name] = match[i + 1]; });
      return { path, page, params };
    }
  }
  return { path, page: null, params: {} };
}

async function renderNav(path) {
  const nav = document.getElementById("nav");
  const loggedIn = Boolean(getToken()) && path !== "login";
  document.body.classList.toggle("logged-out", !loggedIn);
  if (!loggedIn) {
    nav.replaceChildren();
    return;
  }
  const items = [];
  for (const [route, label, plugin] of NAV) {
    if (plugin) {
      try {
        if (!(await hasPlugin(plugin))) continue;
      } catch {
        continue;
      }
    }
    const active = path === route || path.startsWith(`${route}/`) || (route === "jobs" && path.startsWith("job/"));
    items.push(h("a", { href: href(route), class: active ? "active" : null, "data-nav": route }, label));
  }
  items.push(h("button", {
    class: "link logout", "data-nav": "logout",
    onclick: async () => { await logout(); resetConfiguration(); navigate("login"); },
  }, "Log out"));
  mount(nav, items);
}

async function route() {
  if (current) current.abort();
  const controller = new AbortController();
  current = controller;
  const timers = [];
  controller.signal.addEventListener("abort", () => timers.forEach(clearInterval));
  const { path, page, params } = parseRoute();
  clearStaleFlash();
  const main = document.getElementById("main");
  if (path !== "login" && !getToken()) {
    navigate("login");
    return;
  }
  const ctx = {
    params,
    main,
    signal: controller.signal,
    /** Run fn every ms while this page is shown. */
    every(ms, fn) { timers.push(setInterval(() => { if (!controller.signal.aborted) fn(); }, ms)); },
    onLeave(fn) { controller.signal.addEventListener("abort", fn); },
    get active() { return !controller.signal.aborted; },
  };
  await renderNav(path);
  if (controller.signal.aborted) return;
  if (!page) {
    mount(main, errorBox(`No page at #/${path}.`), h("p", null, h("a", { href: href("jobs") }, "Go to jobs")));
    return;
  }
  try {
    await page.render(ctx);
  } catch (error) {
    handleError(error, ctx);
  }
}

function boot() {
  applyTheme(localStorage.getItem(THEME_KEY) || "auto");
  document.getElementById("theme-toggle").addEventListener("click", cycleTheme);
  window.addEventListener("hashchange", route);
  route();
}

boot();
