// Jobs by state, searchable by function and queue, refreshed every few seconds.

import { asList, get, post } from "./api.js";
import { badge, dataTable, field, h, loading, mount, pageHeader, shortId, timeEl } from "./dom.js";
import { flash, handleError, href, reportError } from "./ui.js";

export const STATES = ["pending", "running", "succeeded", "failed", "retrying"];
const REFRESH_MS = 5000;
const PAGE = 100;

// Kept between visits so the search survives going to a job and back.
const filters = { func: "", queue: "", auto: true };

function timeColumn(state) {
  if (state === "running") return ["Started", (j) => timeEl(j.started_at)];
  if (state === "succeeded" || state === "failed") return ["Completed", (j) => timeEl(j.completed_at)];
  return ["Scheduled", (j) => timeEl(j.scheduled_at ?? j.created_at)];
}

/** Open the jobs page filtered to one queue (from a queue's page). */
export function showQueue(name) {
  filters.queue = name;
  filters.func = "";
}

export async function render(ctx) {
  const state = STATES.includes(ctx.params.state) ? ctx.params.state : "pending";
  const selected = new Set();
  let rows = [];
  let exhausted = false;

  const tableArea = h("div", { class: "table-area" }, loading());
  const count = h("span", { class: "muted count" });
  const funcInput = h("input", {
    type: "search", placeholder: "Search by function…", value: filters.func, list: "job-functions",
    "aria-label": "Search by function", name: "func",
  });
  const functionList = h("datalist", { id: "job-functions" });
  const queueSelect = h("select", { "aria-label": "Queue", name: "queue" }, h("option", { value: "" }, "All queues"));
  const auto = h("input", { type: "checkbox", checked: filters.auto, name: "auto-refresh" });
  const actions = h("div", { class: "batch-actions", hidden: true },
    h("span", { class: "muted" }, "Selected: "),
    ...["retry", "cancel", "purge"].map((action) =>
      h("button", { class: action === "purge" ? "danger small" : "small", "data-action": action,
        onclick: () => batch(action) }, { retry: "Retry", cancel: "Cancel", purge: "Delete" }[action])));

  async function batch(action) {
    const ids = [...selected];
    if (!ids.length) return;
    try {
      const result = await post("jobs", { action, ids });
      const done = result && typeof result.completed === "number" ? result.completed : ids.length;
      const skipped = result && result.skipped ? `, ${result.skipped} skipped (wrong state)` : "";
      flash(`${action}: ${done} of ${ids.length} job(s) done${skipped}.`, "success");
      selected.clear();
      await load(false);
    } catch (e) {
      reportError(e, ctx);
    }
  }

  function updateActions() {
    actions.hidden = selected.size === 0;
  }

  const [label, timeCell] = timeColumn(state);
  const columns = [
    { label: "", class: "check", cell: (j) => h("input", {
      type: "checkbox", "aria-label": `Select job ${j.id}`, checked: selected.has(String(j.id)),
      onchange: (e) => { e.target.checked ? selected.add(String(j.id)) : selected.delete(String(j.id)); updateActions(); },
    }) },
    { label: "Job", cell: (j) => h("a", { href: href(`job/${j.id}`), class: "mono", title: String(j.id) }, shortId(j.id)) },
    { label: "Function", cell: (j) => h("a", { href: href(`job/${j.id}`), class: "func" }, field(j, "func", "f")) },
    { label: "Queue", cell: (j) => h("a", { href: href(`queues/${encodeURIComponent(j.queue)}`) }, j.queue) },
    { label: "Attempts", class: "num", cell: (j) => `${j.attempts ?? 0} / ${j.max_attempts ?? 1}` },
    { label: "Priority", class: "num", cell: (j) => String(j.priority ?? 0) },
    { label, cell: timeCell },
    { label: "State", cell: (j) => badge(j.state) },
  ];

  function draw() {
    const table = dataTable(columns, rows, {
      empty: filters.func || filters.queue ? `No ${state} jobs match this search.` : `No ${state} jobs.`,
      rowAttrs: (j) => ({ "data-job-id": String(j.id) }),
    });
    const more = !exhausted && rows.length
      ? h("button", { class: "more", onclick: () => load(true) }, "Load more")
      : null;
    mount(tableArea, table, more);
    count.textContent = rows.length ? `${rows.length}${exhausted ? "" : "+"} shown` : "";
  }

  async function load(append) {
    const params = { state, func: filters.func, queue: filters.queue, limit: PAGE };
    if (append && rows.length) params.before = rows[rows.length - 1].id;
    const page = asList(await get("jobs", params, ctx.signal), "jobs");
    if (!ctx.active) return;
    if (append) {
      rows = rows.concat(page);
      exhausted = page.length < PAGE;
    } else {
      rows = page;
      exhausted = page.length < PAGE;
    }
    draw();
  }

  let debounce = null;
  funcInput.addEventListener("input", () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => { filters.func = funcInput.value.trim(); load(false).catch((e) => handleError(e, ctx)); }, 250);
  });
  queueSelect.addEventListener("change", () => { filters.queue = queueSelect.value; load(false).catch((e) => handleError(e, ctx)); });
  auto.addEventListener("change", () => { filters.auto = auto.checked; });

  const tabs = h("nav", { class: "tabs", "aria-label": "Job states" },
    STATES.map((s) => h("a", { href: href(`jobs/${s}`), class: s === state ? "active" : null, "data-state": s }, s)));

  mount(ctx.main,
    pageHeader("Jobs", h("label", { class: "inline" }, auto, " Auto-refresh")),
    tabs,
    h("div", { class: "toolbar" }, funcInput, functionList, queueSelect, count, actions),
    tableArea);

  await load(false);
  ctx.every(REFRESH_MS, () => {
    // Refreshing shows the newest page again, so it pauses while older pages are loaded.
    if (filters.auto && !document.hidden && rows.length <= PAGE) load(false).catch((e) => handleError(e, ctx));
  });

  // Suggestions are a convenience: the page works without them.
  get("queues").then((queues) => {
    for (const q of asList(queues, "queues")) {
      queueSelect.appendChild(h("option", { value: q.name, selected: q.name === filters.queue }, q.name));
    }
  }).catch(() => {});
  get("jobs/functions").then((funcs) => {
    for (const f of asList(funcs, "functions")) {
      functionList.appendChild(h("option", { value: typeof f === "string" ? f : field(f, "func", "name") }));
    }
  }).catch(() => {});
}
