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
  note.dataset.at = String(Date.now());
  area.replaceChildren(note);
  setTimeout(() => note.remove(), 6000);
}

/** Drop messages of earlier pages; one flashed just now (an action that navigates) stays. */
export function clearStaleFlash() {
  for (const note of document.querySelectorAll("#flash .alert")) {
    if (Date.now() - Number(note.dataset.at || 0) > 1000) note.remove();
  }
}

/** Show the page again from scratch (after an action that changed what it shows). */
export function reload() {
  window.dispatchEvent(new HashChangeEvent("hashchange"));
}

/** A failed action (retry, pause ...): log in again, or say why in a message; the page stays. */
export function reportError(error, ctx) {
  if (ctx && !ctx.active) return;
  if (error instanceof AuthRequired || (error && error.name === "AbortError")) {
    handleError(error, ctx);
    return;
  }
  flash(error && error.message ? error.message : String(error), "error");
}

/** A page that could not load: log in again, or show the message instead of the page. */
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

