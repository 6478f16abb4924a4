// The fields of a queue, shared by the "declare" form and the edit form.

import { h } from "./dom.js";

export const EXECUTORS = [
  "chancy.executors.process.ProcessExecutor",
  "chancy.executors.thread.ThreadedExecutor",
  "chancy.executors.asyncex.AsyncExecutor",
  "chancy.executors.sub.SubInterpreterExecutor",
];

const NUMBERS = ["concurrency", "polling_interval", "rate_limit", "rate_limit_window"];

export function queueFields(q) {
  const executors = EXECUTORS.includes(q.executor) || !q.executor ? EXECUTORS : [q.executor, ...EXECUTORS];
  const number = (name, label, hint, step = "1") =>
    h("label", null, label,
      h("input", { name, type: "number", min: step === "1" ? "1" : "0.1", step, value: q[name] ?? "", placeholder: hint }));
  return [
    h("div", { class: "form-row" },
      number("concurrency", "Concurrency", "executor default"),
      number("polling_interval", "Polling interval (s)", "5", "any")),
    h("div", { class: "form-row" },
      number("rate_limit", "Rate limit (jobs)", "none"),
      number("rate_limit_window", "per window (s)", "none")),
    h("label", null, "Executor",
      h("select", { name: "executor" },
        executors.map((e) => h("option", { value: e, selected: e === (q.executor || EXECUTORS[0]) }, e)))),
    h("label", null, "Tags (comma separated patterns)",
      h("input", { name: "tags", value: (q.tags || [".*"]).join(", ") })),
    h("label", null, "Executor options (JSON)",
      h("textarea", { name: "executor_options", rows: 2, class: "mono" }, JSON.stringify(q.executor_options || {}))),
    h("label", { class: "inline" },
      h("input", { name: "eager_polling", type: "checkbox", checked: Boolean(q.eager_polling) }), " Eager polling"),
  ];
}

/** The form's values; with `original`, only the fields that changed (for PATCH). */
export function readQueueForm(form, original) {
  const values = {};
  for (const name of NUMBERS) {
    const raw = form.elements[name].value.trim();
    values[name] = raw === "" ? null : Number(raw);
  }
  values.executor = form.elements.executor.value;
  values.tags = form.elements.tags.value.split(",").map((t) => t.trim()).filter(Boolean);
  const options = form.elements.executor_options.value.trim() || "{}";
  try {
    values.executor_options = JSON.parse(options);
  } catch {
    throw new Error("Executor options must be a JSON object, e.g. {\"maximum_jobs_per_worker\": 100}.");
  }
  values.eager_polling = form.elements.eager_polling.checked;
  if (!original || !Object.keys(original).length) return values;
  const changed = {};
  for (const [key, value] of Object.entries(values)) {
    const before = key === "tags" ? [...(original.tags || [])].sort() : original[key] ?? null;
    const after = key === "tags" ? [...value].sort() : value;
    if (JSON.stringify(before) !== JSON.stringify(after)) changed[key] = value;
  }
  return changed;
}
