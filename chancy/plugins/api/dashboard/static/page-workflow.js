// One workflow: its DAG, drawn by ../dag.js, and a table of steps.

import { get } from "./api.js";
import { renderDag } from "./dag.js";
import { badge, card, dataTable, field, h, kvTable, mount, pageHeader, shortId, stateBadge, timeEl } from "./dom.js";
import { handleError, href } from "./ui.js";

/** Steps as a list whatever the server sent (upstream: a mapping by step id). */
export function stepList(workflow) {
  const steps = workflow.steps || {};
  const list = Array.isArray(steps) ? steps : Object.entries(steps).map(([id, s]) => ({ step_id: id, ...s }));
  return list.map((s) => ({
    id: s.step_id,
    deps: s.dependencies || [],
    state: s.state || null,
    jobId: s.job_id || null,
    func: field(s.job, "func", "f") || null,
    queue: field(s.job, "queue", "q") || null,
  }));
}

export async function render(ctx) {
  const id = ctx.params.id;
  async function draw() {
    const workflow = await get(`workflows/${encodeURIComponent(id)}`, null, ctx.signal);
    if (!ctx.active) return;
    const steps = stepList(workflow);
    const dag = renderDag(steps.map((s) => ({ ...s, href: s.jobId ? href(`job/${s.jobId}`) : null })), { label: workflow.name });
    mount(ctx.main,
      h("p", { class: "crumbs" }, h("a", { href: href("workflows") }, "← Workflows")),
      pageHeader(workflow.name, badge(workflow.state)),
      card("Graph", h("div", { class: "dag-wrap" }, dag),
        h("p", { class: "legend-states muted" }, "Box colour = the state of the step's job; a step waits until all its arrows' sources succeed.")),
      h("div", { class: "grid two" },
        card("Steps", dataTable([
          { label: "Step", cell: (s) => h("span", { class: "mono" }, s.id) },
          { label: "Function", cell: (s) => h("span", { class: "mono func" }, s.func || "—") },
          { label: "Depends on", cell: (s) => (s.deps.length ? s.deps.join(", ") : "—") },
          { label: "State", cell: (s) => stateBadge(s.state) },
          { label: "Job", cell: (s) => (s.jobId ? h("a", { href: href(`job/${s.jobId}`), class: "mono" }, shortId(s.jobId)) : h("span", { class: "muted" }, "not pushed")) },
        ], steps, { empty: "This workflow has no steps.", rowAttrs: (s) => ({ "data-step": s.id }) })),
        card("Workflow", kvTable([
          ["ID", h("span", { class: "mono" }, String(workflow.id))],
          ["State", badge(workflow.state)],
          ["Steps", String(steps.length)],
          ["Created", timeEl(workflow.created_at)],
          ["Updated", timeEl(workflow.updated_at)],
        ]))));
    return workflow;
  }
  let workflow = await draw();
  ctx.every(3000, async () => {
    if (!workflow || ["completed", "failed"].includes(workflow.state) || document.hidden) return;
    try {
      workflow = await draw();
    } catch (e) {
      handleError(e, ctx);
    }
  });
}
