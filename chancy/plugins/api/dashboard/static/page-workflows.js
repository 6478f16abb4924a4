// Workflows, newest first, with their state.

import { badge, h, timeEl } from "./dom.js";
import { href } from "./ui.js";
import { listPage } from "./widgets.js";

export function render(ctx) {
  return listPage(ctx, {
    title: "Workflows",
    path: "workflows",
    empty: "No workflows.",
    rowAttrs: (w) => ({ "data-workflow": String(w.id) }),
    columns: [
      { label: "Name", cell: (w) => h("a", { href: href(`workflows/${w.id}`), class: "workflow-name" }, w.name) },
      { label: "State", cell: (w) => badge(w.state) },
      { label: "Created", cell: (w) => timeEl(w.created_at) },
      { label: "Updated", cell: (w) => timeEl(w.updated_at) },
      { label: "ID", cell: (w) => h("span", { class: "mono muted" }, String(w.id)) },
    ],
  });
}
