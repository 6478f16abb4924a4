// DOM building and formatting helpers.
//
// Every page builds its elements through h()/svg(): strings become text nodes, so job data
// (kwargs, tracebacks, function names) is never parsed as HTML, and no module turns a string
// into markup (tests/browser/test_dashboard_files.py checks for the HTML-parsing sinks).

const SVG_NS = "http://www.w3.org/2000/svg";

function append(el, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child) append(el, c);
  } else if (child instanceof Node) {
    el.appendChild(child);
  } else {
    el.appendChild(document.createTextNode(String(child)));
  }
}

function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key === "value" && "value" in el) {
      el.value = value;
    } else if (key === "checked" && "checked" in el) {
      el.checked = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

/** An HTML element: h("a", {href: "#/jobs"}, "Jobs"). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** An SVG element, same calling convention as h(). */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** Replace the children of el. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A job/worker/queue field under either of two names (upstream packs jobs as f/k/q...). */
export function field(obj, ...names) {
  if (!obj) return undefined;
  for (const name of names) {
    if (obj[name] !== undefined) return obj[name];
  }
  return undefined;
}

export function parseTime(value) {
  if (value === null || value === undefined || value === "") return null;
  const d = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function formatTime(value) {
  const d = parseTime(value);
  if (!d) return "—";
  return d.toLocaleString(undefined, {
    year: "numeric", month: "short", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}

export function relativeTime(value, now = Date.now()) {
  const d = parseTime(value);
  if (!d) return "—";
  const seconds = Math.round((d.getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  const units = [[86400, "d"], [3600, "h"], [60, "min"], [1, "s"]];
  for (const [size, unit] of units) {
    if (abs >= size || size === 1) {
      const n = Math.floor(abs / size);
      if (n === 0 && unit === "s") return "just now";
      return seconds < 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`;
    }
  }
  return "—";
}

/** A <time> showing relative time with the absolute time as its tooltip. */
export function timeEl(value) {
  const d = parseTime(value);
  if (!d) return h("span", { class: "muted" }, "—");
  return h("time", { datetime: d.toISOString(), title: formatTime(value) }, relativeTime(value));
}

export function formatNumber(n, digits = 2) {
  if (n === null || n === undefined || Number.isNaN(n)) return "—";
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (Math.abs(n) >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(digits)));
}

/** The last 8 hex digits of an id: chancy's ids are UUIDv7, whose start is a timestamp
 * shared by every job pushed in the same moment, while the end is random. */
export function shortId(id) {
  return String(id).replace(/-/g, "").slice(-8);
}

export function prettyJson(value) {
  return JSON.stringify(value ?? null, null, 2);
}

export function badge(text, kind = text) {
  return h("span", { class: `badge badge-${String(kind).toLowerCase()}` }, String(text));
}

export function stateBadge(state) {
  return badge(state ?? "waiting", state ?? "waiting");
}

/** A two-column definition table: rows of [label, value]. */
export function kvTable(rows, attrs = {}) {
  return h(
    "table",
    { class: "kv", ...attrs },
    h("tbody", null, rows.filter(Boolean).map(([k, v]) => h("tr", null, h("th", null, k), h("td", null, v ?? "—")))),
  );
}

/** A data table: columns [{label, cell: row => node}], with an empty-state message. */
export function dataTable(columns, rows, { empty = "Nothing here.", rowAttrs } = {}) {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h(
    "table",
    { class: "data" },
    h("thead", null, h("tr", null, columns.map((c) => h("th", { class: c.class }, c.label)))),
    h(
      "tbody",
      null,
      rows.map((row) =>
        h("tr", rowAttrs ? rowAttrs(row) : null, columns.map((c) => h("td", { class: c.class }, c.cell(row)))),
      ),
    ),
  );
}

export function codeBlock(text, cls = "") {
  return h("pre", { class: `code ${cls}` }, h("code", null, text));
}

export function card(title, ...children) {
  return h("section", { class: "card" }, title ? h("h2", null, title) : null, ...children);
}

export function pageHeader(title, ...actions) {
  return h("header", { class: "page-header" }, h("h1", null, title), h("div", { class: "actions" }, ...actions));
}

export function errorBox(message) {
  return h("div", { class: "alert alert-error", role: "alert" }, message);
}

export function loading() {
  return h("p", { class: "muted loading" }, "Loading…");
}
