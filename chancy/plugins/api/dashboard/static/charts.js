// Inline SVG charts: a sparkline for table rows and a time-series chart with axes.
//
// Points are {t: Date, v: number}. Colours come from CSS variables, so both themes work.

import { formatNumber, formatTime, h, svg } from "./dom.js";

/** Metric points from the API ({timestamp, value}) as sorted {t, v}; histograms use `pick`. */
export function toSeries(data, pick = "avg") {
  const points = [];
  for (const point of data || []) {
    const t = new Date(point.timestamp);
    let v = point.value;
    if (v && typeof v === "object") v = v[pick] ?? v.avg ?? v.sum ?? v.count;
    if (Number.isNaN(t.getTime()) || typeof v !== "number") continue;
    points.push({ t, v });
  }
  return points.sort((a, b) => a.t - b.t);
}

export const RESOLUTION_SECONDS = { "1min": 60, "5min": 300, "1hour": 3600, "1day": 86400 };

/** The time span the API serves by default for a resolution: its newest 60 buckets. */
export function windowFor(resolution, buckets = 60) {
  const width = bucketMs(resolution);
  const end = Math.ceil(Date.now() / width) * width;
  return { start: end - buckets * width, end };
}

export function bucketMs(resolution) {
  return (RESOLUTION_SECONDS[resolution] || 300) * 1000;
}

export function sparkline(points, { width = 120, height = 28, label = "trend", window } = {}) {
  const box = svg("svg", {
    class: "sparkline", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label,
  });
  if (!points.length) {
    box.appendChild(svg("line", { x1: 0, y1: height - 1, x2: width, y2: height - 1, class: "spark-empty" }));
    return box;
  }
  const max = Math.max(...points.map((p) => p.v), 1);
  const t0 = window ? window.start : points[0].t.getTime();
  const span = Math.max((window ? window.end : points[points.length - 1].t.getTime()) - t0, 1);
  const xy = points.map((p) => [
    points.length === 1 && !window ? width / 2 : ((p.t.getTime() - t0) / span) * (width - 2) + 1,
    height - 2 - (p.v / max) * (height - 4),
  ]);
  const line = xy.map(([x, y], i) => `${i ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`).join("");
  const area = `${line}L${xy[xy.length - 1][0].toFixed(1)},${height}L${xy[0][0].toFixed(1)},${height}Z`;
  box.appendChild(svg("path", { d: area, class: "spark-area" }));
  box.appendChild(svg("path", { d: line, class: "spark-line" }));
  const total = points.reduce((s, p) => s + p.v, 0);
  box.appendChild(svg("title", null, `${label}: ${formatNumber(total)} in ${points.length} buckets`));
  return box;
}

function niceMax(value) {
  if (value <= 0) return 1;
  const exp = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (value <= step * exp) return step * exp;
  }
  return 10 * exp;
}

function shortTime(d, spanMs) {
  if (spanMs > 2 * 86400000) return d.toLocaleDateString(undefined, { month: "short", day: "numeric" });
  return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

/**
 * A time-series chart: series is [{name, points}], drawn as lines with markers.
 * `unit` is appended to the axis labels (e.g. "s"); `window` ({start, end} in ms) fixes
 * the time axis, so a metric with few buckets still shows where in the window they fall.
 * With `bucketMs`, the first series is drawn as bars of that width (for counters).
 */
export function timeChart(series, { width = 960, height = 240, unit = "", title = "", window, bucketMs } = {}) {
  const pad = { l: 48, r: 12, t: 12, b: 26 };
  if (window) {
    const inside = (p) => p.t.getTime() >= window.start && p.t.getTime() <= window.end;
    series = series.map((s) => ({ ...s, points: s.points.filter(inside) }));
  }
  const all = series.flatMap((s) => s.points);
  const root = svg("svg", {
    class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title || "chart",
  });
  if (!all.length) {
    root.appendChild(svg("text", { x: width / 2, y: height / 2, class: "chart-empty", "text-anchor": "middle" },
      "No data in this window yet"));
    return h("div", { class: "chart-wrap" }, root);
  }
  const tMin = window ? window.start : Math.min(...all.map((p) => p.t.getTime()));
  const tMax = window ? window.end : Math.max(...all.map((p) => p.t.getTime()));
  const span = Math.max(tMax - tMin, 1);
  const vMax = niceMax(Math.max(...all.map((p) => p.v)));
  const plotW = width - pad.l - pad.r;
  const plotH = height - pad.t - pad.b;
  const x = (t) => pad.l + (tMax === tMin ? plotW / 2 : ((t.getTime() - tMin) / span) * plotW);
  const y = (v) => pad.t + plotH - (v / vMax) * plotH;

  for (let i = 0; i <= 4; i++) {
    const v = (vMax / 4) * i;
    root.appendChild(svg("line", { x1: pad.l, x2: width - pad.r, y1: y(v), y2: y(v), class: "grid" }));
    root.appendChild(svg("text", { x: pad.l - 6, y: y(v) + 4, "text-anchor": "end", class: "axis" },
      `${formatNumber(v)}${unit}`));
  }
  const ticks = window ? 5 : Math.min(5, all.length);
  for (let i = 0; i < ticks; i++) {
    const t = new Date(tMin + (span * i) / Math.max(ticks - 1, 1));
    root.appendChild(svg("text", { x: x(t), y: height - 8, "text-anchor": "middle", class: "axis" },
      shortTime(t, span)));
  }
  if (bucketMs) {
    // Counters: one bar per bucket (a bucket without samples is a zero, not a gap to bridge).
    const barW = Math.max((plotW * bucketMs) / span - 1, 1.5);
    for (const p of series[0].points) {
      root.appendChild(svg("rect", {
        x: x(p.t), y: y(p.v), width: barW, height: Math.max(y(0) - y(p.v), 0), class: "bar series-0",
      }, svg("title", null, `${series[0].name}: ${formatNumber(p.v)}${unit} at ${formatTime(p.t)}`)));
    }
    return h("div", { class: "chart-wrap" }, root);
  }
  series.forEach((s, index) => {
    const pts = [...s.points].sort((a, b) => a.t - b.t);
    if (!pts.length) return;
    const d = pts.map((p, i) => `${i ? "L" : "M"}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join("");
    root.appendChild(svg("path", { d, class: `series series-${index % 6}` }));
    for (const p of pts) {
      root.appendChild(svg("circle", { cx: x(p.t), cy: y(p.v), r: 2.5, class: `dot series-${index % 6}` },
        svg("title", null, `${s.name}: ${formatNumber(p.v)}${unit} at ${formatTime(p.t)}`)));
    }
  });
  const legend = series.length > 1
    ? h("ul", { class: "legend" }, series.map((s, i) => h("li", { class: `series-${i % 6}` }, s.name)))
    : null;
  return h("div", { class: "chart-wrap" }, root, legend);
}

export const RESOLUTIONS = ["1min", "5min", "1hour", "1day"];

/** A <select> of metric resolutions calling onChange(resolution). */
export function resolutionSelect(current, onChange) {
  const select = h("select", { class: "resolution", "aria-label": "Resolution", onchange: (e) => onChange(e.target.value) },
    RESOLUTIONS.map((r) => h("option", { value: r, selected: r === current }, r)));
  return h("label", { class: "inline" }, "Resolution ", select);
}
