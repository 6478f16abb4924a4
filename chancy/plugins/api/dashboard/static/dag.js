// A small DAG renderer for workflows: layered layout, left to right, drawn as SVG.
//
// Layer of a step = 1 + the deepest layer among its dependencies. Within a layer, steps are
// ordered by the mean position of their dependencies (a few barycenter sweeps), which keeps
// edges short and mostly uncrossed for the shapes workflows usually have.

import { svg } from "./dom.js";

const NODE_W = 168;
const NODE_H = 46;
const GAP_X = 64;
const GAP_Y = 22;
const MARGIN = 16;

/** steps: [{id, deps: [id], state, href}] -> {layers: [[id]], pos: Map(id -> {x, y})} */
export function layout(steps) {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const layerOf = new Map();
  const visiting = new Set();
  const depth = (id) => {
    if (layerOf.has(id)) return layerOf.get(id);
    if (visiting.has(id)) return 0; // a cycle: the server rejects these, draw it anyway
    visiting.add(id);
    const deps = (byId.get(id)?.deps || []).filter((d) => byId.has(d));
    const layer = deps.length ? 1 + Math.max(...deps.map(depth)) : 0;
    visiting.delete(id);
    layerOf.set(id, layer);
    return layer;
  };
  steps.forEach((s) => depth(s.id));
  const layers = [];
  for (const s of steps) {
    const l = layerOf.get(s.id);
    (layers[l] ||= []).push(s.id);
  }
  const index = new Map();
  const reindex = () => layers.forEach((ids) => ids.forEach((id, i) => index.set(id, i)));
  reindex();
  for (let sweep = 0; sweep < 4; sweep++) {
    for (let l = 1; l < layers.length; l++) {
      const weight = (id) => {
        const deps = (byId.get(id).deps || []).filter((d) => index.has(d));
        return deps.length ? deps.reduce((sum, d) => sum + index.get(d), 0) / deps.length : index.get(id);
      };
      layers[l].sort((a, b) => weight(a) - weight(b) || a.localeCompare(b));
      reindex();
    }
  }
  const tallest = Math.max(...layers.map((ids) => ids.length), 1);
  const pos = new Map();
  layers.forEach((ids, l) => {
    const offset = ((tallest - ids.length) * (NODE_H + GAP_Y)) / 2;
    ids.forEach((id, i) => {
      pos.set(id, { x: MARGIN + l * (NODE_W + GAP_X), y: MARGIN + offset + i * (NODE_H + GAP_Y) });
    });
  });
  const width = MARGIN * 2 + layers.length * NODE_W + Math.max(layers.length - 1, 0) * GAP_X;
  const height = MARGIN * 2 + tallest * NODE_H + (tallest - 1) * GAP_Y;
  return { layers, pos, width, height };
}

function truncate(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The SVG picture of a workflow's steps. */
export function renderDag(steps, { label = "workflow" } = {}) {
  const { pos, width, height } = layout(steps);
  const root = svg("svg", {
    class: "dag", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${label} graph`,
  });
  root.appendChild(svg("defs", null,
    svg("marker", { id: "dag-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
      svg("path", { d: "M0,0L10,5L0,10z", class: "dag-arrow" }))));
  for (const step of steps) {
    for (const dep of step.deps || []) {
      const a = pos.get(dep);
      const b = pos.get(step.id);
      if (!a || !b) continue;
      const x1 = a.x + NODE_W;
      const y1 = a.y + NODE_H / 2;
      const x2 = b.x - 2;
      const y2 = b.y + NODE_H / 2;
      const mid = (x1 + x2) / 2;
      root.appendChild(svg("path", {
        d: `M${x1},${y1}C${mid},${y1} ${mid},${y2} ${x2},${y2}`, class: "dag-edge", "marker-end": "url(#dag-arrow)",
        "data-from": dep, "data-to": step.id,
      }));
    }
  }
  for (const step of steps) {
    const p = pos.get(step.id);
    const state = step.state || "waiting";
    const node = svg("g", { class: `dag-node state-${state}`, transform: `translate(${p.x},${p.y})`, "data-step": step.id },
      svg("rect", { width: NODE_W, height: NODE_H, rx: 8, ry: 8 }),
      svg("text", { x: 12, y: 19, class: "dag-title" }, truncate(step.id, 22)),
      svg("text", { x: 12, y: 35, class: "dag-sub" }, truncate(step.func ? `${state} · ${step.func.split(".").pop()}` : state, 26)),
      svg("title", null, `${step.id}: ${state}${step.func ? ` (${step.func})` : ""}`));
    root.appendChild(step.href ? svg("a", { href: step.href }, node) : node);
  }
  return root;
}
