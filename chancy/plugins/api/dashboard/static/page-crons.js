// Cron schedules: expression, timezone, next and last run, and the job each pushes.

import { codeBlock, field, h, prettyJson, timeEl } from "./dom.js";
import { href } from "./ui.js";
import { listPage } from "./widgets.js";

export function render(ctx) {
  return listPage(ctx, {
    title: "Crons",
    path: "crons",
    every: 15000,
    empty: "No cron schedules.",
    sort: (a, b) => String(a.next_run).localeCompare(String(b.next_run)),
    rowAttrs: (c) => ({ "data-cron": c.unique_key }),
    columns: [
      { label: "Key", cell: (c) => h("span", { class: "mono" }, c.unique_key) },
      { label: "Function", cell: (c) => h("span", { class: "mono func" }, field(c.job, "func", "f")) },
      { label: "Queue", cell: (c) => {
        const q = field(c.job, "queue", "q");
        return q ? h("a", { href: href(`queues/${encodeURIComponent(q)}`) }, q) : "—";
      } },
      { label: "Schedule", cell: (c) => h("code", null, c.cron) },
      { label: "Timezone", cell: (c) => c.timezone || "UTC" },
      { label: "Next run", cell: (c) => timeEl(c.next_run) },
      { label: "Last run", cell: (c) => timeEl(c.last_run) },
      { label: "Arguments", cell: (c) => h("details", null, h("summary", null, "show"),
        codeBlock(prettyJson(field(c.job, "kwargs", "k") ?? {}))) },
    ],
  });
}
