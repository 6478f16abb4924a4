// The serving process and the cluster's configuration: versions, this worker, the plugins.

import { get } from "./api.js";
import { badge, card, codeBlock, dataTable, h, kvTable, mount, pageHeader, prettyJson } from "./dom.js";

export async function render(ctx) {
  const [system, plugins] = await Promise.all([get("system", null, ctx.signal), get("plugins", null, ctx.signal)]);
  if (!ctx.active) return;
  const worker = system.worker || {};
  const known = new Set(["worker", "chancy_version", "python_version", "postgres_version", "prefix", "hostname", "pid"]);
  const rest = Object.entries(system).filter(([key]) => !known.has(key));
  mount(ctx.main,
    pageHeader("System"),
    h("div", { class: "grid two" },
      card("Versions", kvTable([
        ["chancy", system.chancy_version ?? "—"],
        ["Python", system.python_version ?? "—"],
        ["PostgreSQL", system.postgres_version ?? "—"],
        ["Table prefix", h("span", { class: "mono" }, system.prefix ?? "—")],
      ], { "data-testid": "system-versions" })),
      card("This dashboard's worker", kvTable([
        ["Worker", h("span", { class: "mono" }, worker.worker_id ?? "—", worker.is_leader ? [" ", badge("Leader", "leader")] : null)],
        ["Host", `${system.hostname ?? "?"} (pid ${system.pid ?? "?"})`],
        ["Queues", (worker.queues || []).join(", ") || "—"],
        ["Tags", h("span", { class: "tags" }, (worker.tags || []).map((t) => badge(t, "tag")))],
      ]))),
    card("Plugins", dataTable([
      { label: "Plugin", cell: (p) => h("span", { class: "mono" }, p.name ?? String(p)) },
      { label: "Identifier", cell: (p) => h("span", { class: "mono muted" }, p.identifier ?? "—") },
      { label: "Depends on", cell: (p) => (p.dependencies || []).join(", ") || "—" },
      { label: "Tables", cell: (p) => h("span", { class: "mono small" }, (p.tables || []).join(", ") || "—") },
    ], Array.isArray(plugins) ? plugins : [], { empty: "No plugins.", rowAttrs: (p) => ({ "data-plugin": p.identifier }) })),
    rest.length ? card("More", codeBlock(prettyJson(Object.fromEntries(rest)))) : null);
}
