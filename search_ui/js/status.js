// Empty, error and loading states, and short announcements.
import { h } from "./dom.js";

/** An error as a box with the server's `detail` and, when given, a retry button. */
export function errorBox(err, retry) {
  const detail = err && (err.detail || err.message) ? String(err.detail || err.message) : "Something went wrong.";
  const notFound = Boolean(err && err.status === 404);
  const title = notFound ? "Not found" : err && err.status === 0 ? "Offline" : "Something went wrong";
  return h("div", { class: "state state-error", attrs: { role: "alert" } },
    h("p", { class: "state-title", text: title }),
    h("p", { class: "state-detail", text: detail }),
    notFound ? h("a", { class: "button-link", href: "./", text: "Back to search" }) : null,
    retry && !notFound ? h("button", { type: "button", text: "Try again", on: { click: retry } }) : null);
}

export function emptyBox(title, hint) {
  return h("div", { class: "state state-empty" },
    h("p", { class: "state-title", text: title }),
    hint ? h("p", { class: "state-detail", text: hint }) : null);
}

export function loadingBox(text = "Loading…") {
  return h("div", { class: "state state-loading", attrs: { role: "status" } }, h("span", { class: "spinner", attrs: { "aria-hidden": "true" } }), h("span", { text }));
}

let toastTimer = null;

/** A short message in the page's live region (errors are announced at once). */
export function toast(message, { error = false } = {}) {
  const el = document.getElementById("toast");
  if (!el) return;
  el.textContent = String(message);
  el.classList.toggle("toast-error", error);
  el.setAttribute("aria-live", error ? "assertive" : "polite");
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, error ? 8000 : 3500);
}
