// Navigation and feedback helpers shared by the pages.

import { AuthRequired, resetConfiguration } from "./api.js";
import { errorBox, h, mount } from "./dom.js";

export function href(path) {
  return `#/${path}`;
}

export function navigate(path) {
  location.hash = href(path);
}

/** A short message at the top of the page (action results). */
export function flash(message, kind = "info") {
  const area = document.getElementById("flash");
  const note = h("div", { class: `alert alert-${kind}`, role: "status" }, message,
    h("button", { class: "link close", "aria-label": "Dismiss", onclick: () => note.remove() }, "×"));
  area.replaceChildren(note);
  setTimeout(() => note.remove(), 6000);
}

/** What a page does with a failed request: log in again, or show the message. */
export function handleError(error, ctx) {
  if (ctx && !ctx.active) return;
  if (error instanceof AuthRequired) {
    resetConfiguration();
    navigate("login");
    return;
  }
  if (error && error.name === "AbortError") return;
  const main = document.getElementById("main");
  mount(main, errorBox(error && error.message ? error.message : String(error)));
}

