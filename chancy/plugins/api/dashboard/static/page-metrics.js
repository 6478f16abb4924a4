// Metrics: the stored metric names by category, then charts of one prefix at a resolution.

import { fetchMetrics, get } from "./api.js";
import { card, formatNumber, h, mount, pageHeader } from "./dom.js";
import { bucketMs, resolutionSelect, timeChart, toSeries, windowFor } from "./charts.js";
import { handleError, href } from "./ui.js";

let resolution = "5min";
const MAX_CHARTS = 24;

/** {category: [name]} from upstream's listing or from a plain list of keys. */
export function categories(listing) {
  if (listing && listing.categories) return listing.categories;
  const keys = Array.isArray(listing)
    ? listing.map((m) => (typeof m === "string" ? m : m.key))
    : Object.keys((listing && (listing.metrics || listing)) || {});
  const out = {};
  for (const key of keys) {
    const [category, name] = String(key).split(":");
    if (name === undefined) continue;
    (out[category] ||= []);
    if (!out[category].includes(name)) out[category].push(name);
  }
  return out;
}

function sidebar(cats, selected) {
  return h("nav", { class: "metric-list card", "aria-label": "Metrics" },
    Object.keys(cats).sort().map((category) => h("div", { class: "metric-group" },
      h("h3", null, category),
      h("ul", null, [...cats[category]].sort().map((name) => {
        const key = `${category}:${name}`;
        return h("li", null, h("a", { href: href(`metrics/${encodeURIComponent(key)}`), class: key === selected ? "active" : null, "data-metric": key }, name));
      })))));
}

function metricChart(key, metric) {
  const unit = key.endsWith("execution_time") ? "s" : "";
  const histogram = metric.type === "histogram";
  const series = histogram
    ? [{ name: "avg", points: toSeries(metric.data, "avg") }, { name: "max", points: toSeries(metric.data, "max") }]
    : [{ name: key, points: toSeries(metric.data) }];
  const latest = series[0].points[series[0].points.length - 1];
  return h("div", { class: "metric", "data-metric-key": key },
    h("h3", null, h("span", { class: "mono" }, key), " ", h("span", { class: "badge badge-tag" }, metric.type || "?"),
      latest ? h("span", { class: "muted" }, ` latest ${formatNumber(latest.v)}${unit}`) : null),
    timeChart(series, {
      unit, title: key, window: windowFor(resolution), bucketMs: metric.type === "counter" ? bucketMs(resolution) : null,
    }));
}

export async function render(ctx) {
  const listing = await get("metrics", null, ctx.signal);
  if (!ctx.active) return;
  const cats = categories(listing);
  // Without a choice, show the overall job outcomes (or the first metric there is).
  const first = Object.keys(cats).sort()[0];
  const selected = ctx.params.key
    || (cats.global && cats.global.includes("status") ? "global:status" : first && `${first}:${cats[first][0]}`)
    || null;
  const chartArea = h("div", { class: "metric-charts" });

  async function draw() {
    if (!selected) {
      mount(chartArea, h("p", { class: "muted" }, Object.keys(cats).length
        ? "Pick a metric on the left to chart it."
        : "No metrics recorded yet: they appear once workers have run jobs."));
      return;
    }
    const metrics = await fetchMetrics(selected, resolution, ctx.signal);
    if (!ctx.active) return;
    const keys = Object.keys(metrics).sort();
    mount(chartArea,
      keys.length ? keys.slice(0, MAX_CHARTS).map((k) => metricChart(k, metrics[k])) : h("p", { class: "muted" }, "No data in this window."),
      keys.length > MAX_CHARTS ? h("p", { class: "muted" }, `Showing ${MAX_CHARTS} of ${keys.length}; pick a narrower metric.`) : null);
  }

  mount(ctx.main,
    pageHeader("Metrics", resolutionSelect(resolution, (r) => { resolution = r; draw().catch((e) => handleError(e, ctx)); })),
    h("div", { class: "metrics-layout" }, sidebar(cats, selected), card(selected, chartArea)));
  await draw();
  ctx.every(15000, () => { if (!document.hidden) draw().catch((e) => handleError(e, ctx)); });
}
