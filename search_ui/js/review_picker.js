// The review queue's picker: tag, target type, source and a confidence range, as real form
// controls whose values live in the URL (the view redraws from it). Counts come from the
// queue's own `groups` and `sources`, so every option says how many are open.
import { h } from "./dom.js";

const SOURCES = { clip: "image model (CLIP)", learned: "learned from decisions", rule: "rules", product: "from the product", text: "from the text", catalog: "from the catalog" };

export const number = (n) => Number(n || 0).toLocaleString("en");

/** Words for the filter a state picks ("tag “white background” · images"), or "" for none. */
export function describeFilter(state, labels) {
  const parts = [];
  if (state.tag) parts.push(`tag “${labels.get(state.tag) || state.tag}”`);
  if (state.target_type) parts.push(state.target_type === "asset" ? "images" : "products");
  if (state.source) parts.push(`source ${SOURCES[state.source] || state.source}`);
  if (state.min_confidence || state.max_confidence) {
    const pct = (v, d) => `${Math.round(Number(v === "" ? d : v) * 100)}%`;
    parts.push(`confidence ${pct(state.min_confidence, 0)}–${pct(state.max_confidence, 1)}`);
  }
  return parts.join(" · ");
}

function select(name, label, value, options) {
  const id = `pick-${name}`;
  const control = h("select", { id, name },
    options.map(([v, text]) => h("option", { value: v, text, selected: v === value })));
  return h("div", { class: "pick" }, h("label", { attrs: { for: id }, text: label }), control);
}

function confidence(name, label, value) {
  const id = `pick-${name}`;
  return h("div", { class: "pick pick-number" },
    h("label", { attrs: { for: id }, text: label }),
    h("input", { id, name, type: "number", min: "0", max: "100", step: "5", inputMode: "numeric", value: value === "" ? "" : String(Math.round(Number(value) * 100)) }),
    h("span", { class: "unit", attrs: { "aria-hidden": "true" }, text: "%" }));
}

/**
 * The picker form. `body` is the queue's first answer (groups, sources); `onChange` gets
 * the new filter values (tag, target_type, source, min_confidence, max_confidence).
 */
export function pickerForm(state, body, labels, onChange) {
  const groups = Array.isArray(body.groups) ? body.groups : [];
  const sources = Array.isArray(body.sources) ? body.sources : [];
  const tagOptions = [["", `All tags (${number(body.open_total ?? body.total)} open)`],
    ...groups.map((g) => [String(g.tag), `${labels.get(String(g.tag)) || g.tag} (${number(g.count)})`])];
  if (state.tag && !groups.some((g) => String(g.tag) === state.tag)) tagOptions.push([state.tag, `${labels.get(state.tag) || state.tag} (none open)`]);
  const sourceOptions = [["", "All sources"], ...sources.map((s) => [String(s.source), `${SOURCES[s.source] || s.source} (${number(s.count)})`])];
  if (state.source && !sources.some((s) => String(s.source) === state.source)) sourceOptions.push([state.source, `${state.source} (none open)`]);
  const form = h("form", { class: "review-picker", attrs: { "aria-label": "Choose suggestions to review" } },
    select("tag", "Tag", state.tag, tagOptions),
    select("target_type", "On", state.target_type, [["", "Images and products"], ["asset", "Images"], ["product", "Products"]]),
    select("source", "Source", state.source, sourceOptions),
    h("fieldset", { class: "pick-range" }, h("legend", { text: "Confidence" }),
      confidence("min_confidence", "From", state.min_confidence),
      confidence("max_confidence", "to", state.max_confidence)),
    h("button", { type: "submit", class: "small", text: "Apply" }),
    h("button", { type: "button", class: "small link-button", text: "Clear", on: { click: () => onChange({ tag: "", target_type: "", source: "", min_confidence: "", max_confidence: "" }) } }));
  const values = () => {
    const data = new FormData(form);
    const conf = (name) => {
      const text = String(data.get(name) ?? "").trim();
      const n = Number(text);
      return text === "" || !Number.isFinite(n) ? "" : String(Math.min(100, Math.max(0, n)) / 100);
    };
    return {
      tag: String(data.get("tag") || ""), target_type: String(data.get("target_type") || ""), source: String(data.get("source") || ""),
      min_confidence: conf("min_confidence"), max_confidence: conf("max_confidence"),
    };
  };
  form.addEventListener("submit", (e) => { e.preventDefault(); onChange(values()); });
  for (const el of form.querySelectorAll("select")) el.addEventListener("change", () => onChange(values()));
  return form;
}
