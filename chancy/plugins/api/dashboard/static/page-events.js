// The live event stream: hub events from the worker serving this API, over a websocket.

import { eventsUrl } from "./api.js";
import { card, h, mount, pageHeader } from "./dom.js";

const KEEP = 200;

function summary(data) {
  const text = JSON.stringify(data ?? null);
  return text.length > 240 ? `${text.slice(0, 239)}…` : text;
}

export async function render(ctx) {
  const events = [];
  let paused = false;
  let socket = null;
  let retryMs = 1000;
  const status = h("span", { class: "badge badge-pending", "data-testid": "ws-status" }, "connecting");
  const filter = h("input", { type: "search", placeholder: "Filter by event name…", "aria-label": "Filter events" });
  const pauseButton = h("button", { onclick: () => {
    paused = !paused;
    pauseButton.textContent = paused ? "Resume" : "Pause";
    draw();
  } }, "Pause");
  const body = h("tbody");
  const table = h("table", { class: "data events" },
    h("thead", null, h("tr", null, h("th", null, "Time"), h("th", null, "Event"), h("th", null, "Data"))), body);

  function draw() {
    if (paused) return;
    const wanted = filter.value.trim().toLowerCase();
    const shown = events.filter((e) => !wanted || e.event.toLowerCase().includes(wanted));
    body.replaceChildren(...shown.map((e) => h("tr", { "data-event": e.event },
      h("td", { class: "nowrap" }, e.at.toLocaleTimeString()),
      h("td", null, h("span", { class: "badge badge-tag" }, e.event)),
      h("td", { class: "mono small" }, summary(e.data)))));
    if (!shown.length) body.appendChild(h("tr", null, h("td", { colspan: 3, class: "empty" }, "Waiting for events…")));
  }

  function setStatus(text, kind) {
    status.textContent = text;
    status.className = `badge badge-${kind}`;
  }

  function connect() {
    if (!ctx.active) return;
    socket = new WebSocket(eventsUrl());
    socket.addEventListener("open", () => { setStatus("live", "succeeded"); retryMs = 1000; });
    socket.addEventListener("message", (message) => {
      let parsed;
      try {
        parsed = JSON.parse(message.data);
      } catch {
        parsed = { event: "message", data: message.data };
      }
      events.unshift({ at: new Date(), event: String(parsed.event ?? "event"), data: parsed.data });
      events.length = Math.min(events.length, KEEP);
      draw();
    });
    socket.addEventListener("close", () => {
      if (!ctx.active) return;
      setStatus("disconnected, retrying", "failed");
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 30000);
    });
  }

  filter.addEventListener("input", draw);
  ctx.onLeave(() => { if (socket) socket.close(); });
  mount(ctx.main,
    pageHeader("Events", status, pauseButton),
    h("p", { class: "muted" }, "Hub events of the worker serving this dashboard, newest first (last 200)."),
    h("div", { class: "toolbar" }, filter),
    card(null, table));
  draw();
  connect();
}
