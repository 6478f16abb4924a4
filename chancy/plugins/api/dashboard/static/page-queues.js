// Queues: state, tags, settings and a throughput sparkline each; a form to declare one.

import { AuthRequired, asList, fetchMetrics, get, hasPlugin, post } from "./api.js";
import { badge, card, dataTable, h, mount, pageHeader } from "./dom.js";
import { sparkline, toSeries, windowFor } from "./charts.js";
import { flash, handleError, href } from "./ui.js";
import { queueFields, readQueueForm } from "./page-queue-form.js";

export function executorName(path) {
  return String(path || "").split(".").pop();
}

export function rateLimit(q) {
  return q.rate_limit ? `${q.rate_limit} per ${q.rate_limit_window}s` : "—";
}

function createForm(ctx, reload) {
  const error = h("div", { class: "alert alert-error", hidden: true });
  const form = h("form", { class: "queue-form", "data-testid": "new-queue" });
  form.append(h("label", null, "Name", h("input", { name: "name", required: true })), ...queueFields({}), error,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Create queue")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    try {
      const body = readQueueForm(form, {});
      body.name = form.elements.name.value.trim();
      await post("queues", body);
      flash(`Queue ${body.name} created.`, "success");
      await reload();
    } catch (e) {
      if (e instanceof AuthRequired) return handleError(e, ctx);
      error.textContent = e.message;
      error.hidden = false;
    }
  });
  return h("details", { class: "card collapsible" }, h("summary", null, "Declare a queue"), form);
}

export async function render(ctx) {
  const withMetrics = await hasPlugin("metrics");
  const listArea = h("div");

  async function load() {
    const queues = asList(await get("queues", null, ctx.signal), "queues");
    if (!ctx.active) return;
    const sparks = new Map();
    const columns = [
      { label: "Name", cell: (q) => h("a", { href: href(`queues/${encodeURIComponent(q.name)}`), class: "queue-name" }, q.name) },
      { label: "State", cell: (q) => badge(q.state) },
      { label: "Tags", cell: (q) => h("span", { class: "tags" }, (q.tags || []).map((t) => badge(t, "tag"))) },
      { label: "Concurrency", class: "num", cell: (q) => String(q.concurrency ?? "default") },
      { label: "Executor", cell: (q) => h("span", { class: "mono", title: q.executor }, executorName(q.executor)) },
      { label: "Rate limit", cell: rateLimit },
      withMetrics ? { label: "Throughput (1h)", cell: (q) => {
        const slot = h("span", { class: "spark-slot" }, sparkline([], { label: `${q.name} throughput` }));
        sparks.set(q.name, slot);
        return slot;
      } } : null,
    ].filter(Boolean);
    mount(listArea, dataTable(columns, queues, { empty: "No queues declared yet.", rowAttrs: (q) => ({ "data-queue": q.name }) }));
    for (const [name, slot] of sparks) {
      const key = `queue:${name}:throughput`;
      fetchMetrics(key, "1min", ctx.signal).then((metrics) => {
        const metric = metrics[key];
        if (ctx.active) slot.replaceChildren(sparkline(toSeries(metric ? metric.data : []), { label: `${name} throughput`, window: windowFor("1min") }));
      }).catch(() => {});
    }
  }

  mount(ctx.main, pageHeader("Queues"), card(null, listArea), createForm(ctx, load));
  await load();
  ctx.every(10000, () => { if (!document.hidden) load().catch((e) => handleError(e, ctx)); });
}
