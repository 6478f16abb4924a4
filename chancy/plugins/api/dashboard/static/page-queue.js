// One queue: settings, pause/resume, an edit form, metric charts and its workers.

import { ApiError, AuthRequired, asList, del, fetchMetrics, get, hasPlugin, patch, post } from "./api.js";
import { badge, card, codeBlock, dataTable, h, kvTable, mount, pageHeader, prettyJson, timeEl } from "./dom.js";
import { bucketMs, resolutionSelect, timeChart, toSeries, windowFor } from "./charts.js";
import { flash, handleError, href, navigate, reload, reportError } from "./ui.js";
import { confirmDialog } from "./widgets.js";
import { showQueue } from "./page-jobs.js";
import { queueFields, readQueueForm } from "./page-queue-form.js";
import { executorName, rateLimit } from "./page-queues.js";

let resolution = "5min";

async function chartsCard(ctx, name) {
  const area = h("div", { class: "charts" });
  async function draw() {
    const metrics = await fetchMetrics(`queue:${name}`, resolution, ctx.signal);
    if (!ctx.active) return;
    const throughput = metrics[`queue:${name}:throughput`];
    const timing = metrics[`queue:${name}:execution_time`];
    const window = windowFor(resolution);
    area.replaceChildren(
      h("h3", null, "Throughput (jobs per bucket)"),
      timeChart([{ name: "throughput", points: toSeries(throughput ? throughput.data : []) }],
        { title: `${name} throughput`, window, bucketMs: bucketMs(resolution) }),
      h("h3", null, "Execution time (average)"),
      timeChart(timing ? [{ name: "avg", points: toSeries(timing.data, "avg") }, { name: "max", points: toSeries(timing.data, "max") }] : [],
        { unit: "s", title: `${name} execution time`, window }));
  }
  await draw();
  ctx.every(15000, () => { if (!document.hidden) draw().catch(() => {}); });
  return card(null, h("div", { class: "card-head" }, h("h2", null, "Metrics"),
    resolutionSelect(resolution, (r) => { resolution = r; draw().catch((e) => handleError(e, ctx)); })), area);
}

export async function render(ctx) {
  const name = ctx.params.name;
  const queues = asList(await get("queues", null, ctx.signal), "queues");
  const queue = queues.find((q) => q.name === name);
  if (!ctx.active) return;
  if (!queue) throw new ApiError(404, `No queue named ${name}.`);
  const workers = asList(await get("workers", null, ctx.signal), "workers")
    .filter((w) => (w.queues || []).includes(name));
  const path = `queues/${encodeURIComponent(name)}`;

  const paused = queue.state === "paused";
  const resumeAt = h("input", { type: "datetime-local", name: "resume_at", "aria-label": "Resume at (optional)" });
  const pauseControls = paused
    ? h("button", { class: "primary", "data-action": "resume",
      onclick: async () => {
        try { await post(`${path}/resume`); flash(`Queue ${name} resumed.`, "success"); reload(); } catch (e) { reportError(e, ctx); }
      } }, "Resume")
    : h("span", { class: "pause-controls" },
      h("label", { class: "inline muted" }, "until ", resumeAt),
      h("button", { "data-action": "pause",
        onclick: async () => {
          const body = { resume_at: resumeAt.value ? new Date(resumeAt.value).toISOString() : null };
          try { await post(`${path}/pause`, body); flash(`Queue ${name} paused.`, "success"); reload(); } catch (e) { reportError(e, ctx); }
        } }, "Pause"));
  const purge = h("input", { type: "checkbox", name: "purge_jobs" });
  const deleteButton = h("button", { class: "danger", "data-action": "delete-queue",
    onclick: async () => {
      const what = purge.checked ? "and all its jobs " : "";
      if (!(await confirmDialog(`Delete queue ${name} ${what}? Workers stop serving it.`, "Delete"))) return;
      try {
        await del(path, purge.checked ? { purge_jobs: "true" } : null);
        flash(`Queue ${name} deleted.`, "success");
        navigate("queues");
      } catch (e) { reportError(e, ctx); }
    } }, "Delete");

  const settings = kvTable([
    ["State", badge(queue.state)],
    ["Resume at", queue.resume_at ? timeEl(queue.resume_at) : null],
    ["Concurrency", String(queue.concurrency ?? "executor default")],
    ["Executor", h("span", { class: "mono", title: queue.executor }, executorName(queue.executor))],
    ["Executor options", codeBlock(prettyJson(queue.executor_options || {}))],
    ["Tags", h("span", { class: "tags" }, (queue.tags || []).map((t) => badge(t, "tag")))],
    ["Polling interval", `${queue.polling_interval ?? 5}s${queue.eager_polling ? " (eager)" : ""}`],
    ["Rate limit", rateLimit(queue)],
  ], { "data-testid": "queue-settings" });

  const error = h("div", { class: "alert alert-error", hidden: true });
  const form = h("form", { class: "queue-form", "data-testid": "edit-queue" }, ...queueFields(queue), error,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save changes")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    try {
      const changes = readQueueForm(form, queue);
      if (!Object.keys(changes).length) { flash("Nothing changed."); return; }
      await patch(path, changes);
      flash(`Queue ${name} updated.`, "success");
      reload();
    } catch (e) {
      if (e instanceof AuthRequired) return handleError(e, ctx);
      error.textContent = e.message;
      error.hidden = false;
    }
  });

  const workerTable = dataTable([
    { label: "Worker", cell: (w) => h("span", { class: "mono" }, w.worker_id) },
    { label: "Leader", cell: (w) => (w.is_leader ? badge("leader") : "") },
    { label: "Last seen", cell: (w) => timeEl(w.last_seen) },
  ], workers, { empty: "No worker is serving this queue right now." });

  mount(ctx.main,
    h("p", { class: "crumbs" }, h("a", { href: href("queues") }, "← Queues")),
    pageHeader(name, badge(queue.state), pauseControls,
      h("a", { class: "button", href: href("jobs/pending"), onclick: () => showQueue(name) }, "Jobs"),
      h("label", { class: "inline muted" }, purge, " purge jobs"), deleteButton),
    h("div", { class: "grid two" }, card("Settings", settings), card("Edit", form)),
    card("Workers serving this queue", workerTable));
  if (await hasPlugin("metrics")) ctx.main.appendChild(await chartsCard(ctx, name));
}
