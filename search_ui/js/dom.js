// Building DOM from data. Every value from the API goes in as a text node or an
// attribute set through the DOM, never as HTML: nothing here parses markup.

/**
 * Create an element. `props`: class, text, attrs (object), dataset (object),
 * on (event -> handler), plus any writable DOM property (hidden, disabled, type, value...).
 * Children: nodes, strings (become text nodes), arrays, null/undefined/false (skipped).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = String(value);
    else if (key === "attrs") for (const [a, v] of Object.entries(value)) { if (v !== null && v !== undefined && v !== false) el.setAttribute(a, v === true ? "" : String(v)); }
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "on") for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
    else el[key] = value;
  }
  append(el, children);
  return el;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/**
 * Text with <mark> around the given [start, end) offsets. Offsets count code points
 * (as Python's str does), so text with emoji or other astral characters stays aligned.
 */
export function highlighted(text, offsets) {
  const frag = document.createDocumentFragment();
  const chars = Array.from(String(text ?? ""));
  const spans = (offsets || [])
    .map(([s, e]) => [Math.max(0, Number(s) || 0), Math.min(chars.length, Number(e) || 0)])
    .filter(([s, e]) => e > s)
    .sort((a, b) => a[0] - b[0]);
  let at = 0;
  for (const [s, e] of spans) {
    if (s < at) continue; // overlapping spans: keep the first
    if (s > at) frag.append(document.createTextNode(chars.slice(at, s).join("")));
    const mark = document.createElement("mark");
    mark.textContent = chars.slice(s, e).join("");
    frag.append(mark);
    at = e;
  }
  if (at < chars.length) frag.append(document.createTextNode(chars.slice(at).join("")));
  return frag;
}

/** The first highlight of `field` as marked text, or plain `fallback`. */
export function fieldText(highlights, fields, fallback) {
  for (const field of fields) {
    const first = highlights && Array.isArray(highlights[field]) ? highlights[field][0] : null;
    if (first && typeof first.text === "string") return highlighted(first.text, first.offsets);
  }
  return document.createTextNode(String(fallback ?? ""));
}

/** A URL from the data, usable as href/src only when it stays on this origin. */
export function safeUrl(url) {
  if (typeof url !== "string" || !url) return null;
  try {
    const parsed = new URL(url, location.href);
    return parsed.origin === location.origin ? parsed.pathname + parsed.search + parsed.hash : null;
  } catch {
    return null;
  }
}

/** A value of any JSON shape as readable text (numbers with units, lists, objects). */
export function valueText(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value)) return value.map(valueText).join(", ");
  if (typeof value === "object") {
    if ("value" in value) return [valueText(value.value), value.unit].filter(Boolean).join(" ");
    if ("original" in value) return valueText(value.original);
    if ("label" in value) return valueText(value.label);
    return Object.entries(value).map(([k, v]) => `${k}: ${valueText(v)}`).join("; ");
  }
  return String(value);
}

export function formatBytes(n) {
  const num = Number(n);
  if (!Number.isFinite(num)) return "—";
  const units = ["B", "KB", "MB", "GB"];
  let i = 0, v = num;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return `${v.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export function formatPrice(price, currency) {
  if (price === null || price === undefined || price === "") return null;
  const num = Number(price);
  if (!Number.isFinite(num)) return String(price);
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "EUR" }).format(num);
  } catch {
    return `${num.toFixed(2)} ${currency || ""}`.trim();
  }
}

export function formatDate(text) {
  if (!text) return "—";
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? String(text) : d.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

/** Move focus to a heading or region after a view change, for keyboard and screen-reader users. */
export function focusHeading(root) {
  const target = root.querySelector("h1, h2");
  if (!target) return;
  target.setAttribute("tabindex", "-1");
  target.focus({ preventScroll: false });
}
