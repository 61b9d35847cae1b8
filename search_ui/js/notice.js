// A visible notice when the service runs the tiny test CLIP model (GET /readyz).
import { h } from "./dom.js";

export async function showModelNotice() {
  const el = document.getElementById("notice");
  let body;
  try {
    const response = await fetch("/readyz", { headers: { Accept: "application/json" } });
    body = await response.json();
  } catch {
    return; // readiness is informative here; search itself reports its own errors
  }
  const lines = [];
  if (body && body.clip && body.clip.tiny) {
    lines.push(body.notice ? String(body.notice) : "The tiny test CLIP model is in use: image similarity and suggested tags are not meaningful.");
  }
  if (body && body.status && body.status !== "ready") {
    const failing = Array.isArray(body.failing) ? body.failing.join(", ") : "";
    lines.push(`The service is not fully ready${failing ? ` (${failing})` : ""}.`);
  }
  if (!lines.length) return;
  el.replaceChildren(h("strong", { text: "Note: " }), ...lines.map((line) => h("span", { text: `${line} ` })));
  el.hidden = false;
}
