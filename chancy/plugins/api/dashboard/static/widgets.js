// Pieces shared by pages: a confirmation dialog and the refreshing list page.

import { asList, get } from "./api.js";
import { card, dataTable, h, mount, pageHeader } from "./dom.js";
import { handleError } from "./ui.js";

/** Ask before a destructive action; resolves true when confirmed. */
export function confirmDialog(message, confirmLabel = "Confirm") {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "confirm" },
      h("form", { method: "dialog" },
        h("p", null, message),
        h("div", { class: "actions" },
          h("button", { value: "cancel", "data-action": "dialog-cancel" }, "Cancel"),
          h("button", { value: "ok", class: "danger", "data-action": "dialog-confirm" }, confirmLabel))));
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok");
      dialog.remove();
    });
    document.body.appendChild(dialog);
    dialog.showModal();
  });
}

/**
 * A page that is one refreshing table of an API listing (workers, crons, workflows).
 * `columns` and `options` are dataTable's; `sort` orders the rows before drawing.
 */
export async function listPage(ctx, { title, path, columns, every = 10000, sort, ...options }) {
  const area = h("div");
  async function load() {
    const rows = asList(await get(path, null, ctx.signal), path);
    if (!ctx.active) return;
    if (sort) rows.sort(sort);
    mount(area, dataTable(columns, rows, options));
  }
  mount(ctx.main, pageHeader(title), card(null, area));
  await load();
  ctx.every(every, () => { if (!document.hidden) load().catch((e) => handleError(e, ctx)); });
}
