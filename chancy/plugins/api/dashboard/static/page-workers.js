// Workers: which queues each serves, its tags, heartbeat and the leader badge.

import { badge, h, timeEl } from "./dom.js";
import { href } from "./ui.js";
import { listPage } from "./widgets.js";

export function render(ctx) {
  return listPage(ctx, {
    title: "Workers",
    path: "workers",
    empty: "No worker is running.",
    rowAttrs: (w) => ({ "data-worker": w.worker_id }),
    columns: [
      { label: "Worker", cell: (w) => h("span", { class: "mono worker-id" }, w.worker_id,
        w.is_leader ? [" ", badge("Leader", "leader")] : null) },
      { label: "Queues", cell: (w) => h("span", { class: "tags" },
        (w.queues || []).map((q) => h("a", { href: href(`queues/${encodeURIComponent(q)}`), class: "badge badge-tag" }, q))) },
      { label: "Tags", cell: (w) => h("span", { class: "tags" }, (w.tags || []).map((t) => badge(t, "tag"))) },
      { label: "Last seen", cell: (w) => timeEl(w.last_seen) },
      { label: "Expires", cell: (w) => timeEl(w.expires_at) },
    ],
  });
}
