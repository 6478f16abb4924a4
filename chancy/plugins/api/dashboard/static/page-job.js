// One job: every field, its errors with tracebacks, and retry / cancel / delete.

import { del, get, post } from "./api.js";
import {
  badge, card, codeBlock, field, formatTime, h, kvTable, mount, pageHeader, prettyJson, timeEl,
} from "./dom.js";
import { flash, handleError, href, navigate, reportError } from "./ui.js";
import { confirmDialog } from "./widgets.js";

const ACTIVE = new Set(["pending", "running", "retrying"]);

function limitsTable(limits) {
  const list = Array.isArray(limits) ? limits : [];
  if (!list.length) return h("span", { class: "muted" }, "None");
  return kvTable(list.map((l) => [String(field(l, "key", "type", "t") ?? "?"), String(field(l, "value", "v") ?? "")]),
    { class: "kv limits" });
}

function errorsCard(errors) {
  const list = Array.isArray(errors) ? errors : [];
  if (!list.length) return null;
  return card(`Errors (${list.length})`,
    list.map((e, i) => {
      const attempt = typeof e === "object" && e !== null ? e.attempt : i;
      const text = typeof e === "object" && e !== null ? (e.traceback ?? prettyJson(e)) : String(e);
      return h("details", { class: "error", open: i === list.length - 1, "data-attempt": String(attempt) },
        h("summary", null, `Attempt ${Number(attempt) + 1}`, h("span", { class: "muted" }, ` — ${lastLine(text)}`)),
        codeBlock(text, "traceback"));
    }));
}

function lastLine(text) {
  const lines = String(text).trim().split("\n");
  return lines[lines.length - 1].slice(0, 160);
}

export async function render(ctx) {
  const id = ctx.params.id;
  let job = await get(`jobs/${encodeURIComponent(id)}`, null, ctx.signal);
  if (!ctx.active) return;

  async function act(label, call) {
    try {
      await call();
      flash(`${label}: done.`, "success");
      job = await get(`jobs/${encodeURIComponent(id)}`, null, ctx.signal);
      draw();
    } catch (e) {
      reportError(e, ctx);
    }
  }

  function draw() {
    const state = job.state;
    const func = field(job, "func", "f");
    const buttons = [
      h("button", { class: "primary", "data-action": "retry", disabled: state === "running",
        onclick: () => act("Retry", () => post(`jobs/${encodeURIComponent(id)}/retry`)) }, "Retry"),
      h("button", { "data-action": "cancel", disabled: !ACTIVE.has(state),
        onclick: () => act("Cancel", () => post(`jobs/${encodeURIComponent(id)}/cancel`)) }, "Cancel"),
      h("button", { class: "danger", "data-action": "delete",
        onclick: async () => {
          if (!(await confirmDialog(`Delete job ${id}? This cannot be undone.`, "Delete"))) return;
          try {
            await del(`jobs/${encodeURIComponent(id)}`);
            flash("Job deleted.", "success");
            navigate(`jobs/${state}`);
          } catch (e) {
            reportError(e, ctx);
          }
        } }, "Delete"),
    ];
    const overview = kvTable([
      ["ID", h("span", { class: "mono" }, String(job.id))],
      ["Function", h("span", { class: "mono func" }, func)],
      ["Queue", h("a", { href: href(`queues/${encodeURIComponent(job.queue)}`) }, job.queue)],
      ["State", badge(state)],
      ["Attempts", `${job.attempts ?? 0} of ${job.max_attempts ?? 1}`],
      ["Priority", String(job.priority ?? 0)],
      ["Unique key", job.unique_key ? h("span", { class: "mono" }, job.unique_key) : null],
      ["Taken by", job.taken_by ? h("span", { class: "mono" }, job.taken_by) : null],
    ], { "data-testid": "job-overview" });
    const times = kvTable([
      ["Created", timeRow(job.created_at)],
      ["Scheduled", timeRow(job.scheduled_at)],
      ["Started", timeRow(job.started_at)],
      ["Completed", timeRow(job.completed_at)],
    ]);
    const hasResult = Object.prototype.hasOwnProperty.call(job, "result") && job.result !== null;
    mount(ctx.main,
      h("p", { class: "crumbs" }, h("a", { href: href(`jobs/${state}`) }, `← ${state} jobs`)),
      pageHeader(func || "Job", ...buttons),
      h("div", { class: "grid two" }, card("Job", overview), card("Times", times)),
      h("div", { class: "grid two" },
        card("Arguments", codeBlock(prettyJson(field(job, "kwargs", "k") ?? {}), "kwargs")),
        card("Meta", codeBlock(prettyJson(field(job, "meta", "m") ?? {}), "meta"))),
      h("div", { class: "grid two" },
        card("Limits", limitsTable(field(job, "limits", "l"))),
        hasResult ? card("Result", codeBlock(prettyJson(job.result), "result")) : null),
      errorsCard(job.errors));
  }

  draw();
  // Follow a job that is still moving (e.g. after Retry) until it settles.
  ctx.every(2000, async () => {
    if (!ACTIVE.has(job.state) || document.hidden) return;
    try {
      job = await get(`jobs/${encodeURIComponent(id)}`, null, ctx.signal);
      if (ctx.active) draw();
    } catch (e) {
      handleError(e, ctx);
    }
  });
}

function timeRow(value) {
  if (!value) return h("span", { class: "muted" }, "—");
  return h("span", null, formatTime(value), " ", h("span", { class: "muted" }, "(", timeEl(value), ")"));
}
