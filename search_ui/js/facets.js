// The facet sidebar: active filters as removable chips, ranges, and one group of
// checkboxes per facet with counts. Counts are disjunctive (the server's facet counts
// ignore the facet's own selection), so choosing a second brand widens the results.
import { h } from "./dom.js";
import { rangeBounds } from "./state.js";

export const FACETS = {
  product: ["category", "brand", "color", "size", "material", "tags", "channels", "ready_for"],
  asset: ["tags", "inherited_category", "inherited_color", "colors", "background", "orientation", "media_type", "rights_status", "collections", "product_skus"],
  all: ["type", "tags", "category", "brand", "colors", "background", "media_type"],
};

export const RANGES = {
  product: [{ field: "price", label: "Price", step: "0.01" }],
  asset: [{ field: "width", label: "Width (px)", step: "1" }, { field: "height", label: "Height (px)", step: "1" }],
  all: [{ field: "price", label: "Price", step: "0.01" }, { field: "width", label: "Width (px)", step: "1" }, { field: "height", label: "Height (px)", step: "1" }],
};

const LABELS = {
  category: "Category", brand: "Brand", color: "Colour", size: "Size", material: "Material", tags: "Tags",
  channels: "Channel", ready_for: "Ready for", colors: "Colours", background: "Background", orientation: "Orientation",
  media_type: "File type", rights_status: "Rights", collections: "Collection", type: "Type", product_skus: "Product",
  price: "Price", width: "Width", height: "Height", status: "Status", currency: "Currency",
  inherited_category: "Product category", inherited_color: "Product colour", inherited_material: "Product material",
};

const COLLAPSED = 6;

export function label(field) {
  return LABELS[field] || field.replace(/_/g, " ");
}

function chips(state, handlers, labels) {
  const items = [];
  for (const [field, values] of Object.entries(state.filters)) {
    for (const value of values) {
      const shown = (field === "tags" && labels.get(value)) || value;
      items.push(h("li", {}, h("button", {
        type: "button", class: "chip", dataset: { focusKey: `chip:${field}:${value}` },
        attrs: { "aria-label": `Remove filter ${label(field)}: ${shown}` },
        on: { click: () => handlers.toggle(field, value) },
      }, h("span", { text: `${label(field)}: ${shown}` }), h("span", { class: "chip-x", attrs: { "aria-hidden": "true" }, text: "×" }))));
    }
  }
  for (const [field, text] of Object.entries(state.ranges)) {
    const [lo, hi] = rangeBounds(text);
    const words = lo && hi ? `${lo}–${hi}` : lo ? `≥ ${lo}` : `≤ ${hi}`;
    items.push(h("li", {}, h("button", {
      type: "button", class: "chip", dataset: { focusKey: `chip-range:${field}` },
      attrs: { "aria-label": `Remove range ${label(field)} ${words}` },
      on: { click: () => handlers.range(field, "", "") },
    }, h("span", { text: `${label(field)}: ${words}` }), h("span", { class: "chip-x", attrs: { "aria-hidden": "true" }, text: "×" }))));
  }
  if (!items.length) return null;
  return h("section", { class: "active-filters", attrs: { "aria-label": "Active filters" } },
    h("ul", { class: "chips" }, items),
    h("button", { type: "button", class: "link-button", text: "Clear all filters", on: { click: handlers.clearAll } }));
}

function rangeGroup(state, spec, handlers) {
  const [lo, hi] = rangeBounds(state.ranges[spec.field]);
  const id = `range-${spec.field}`;
  const min = h("input", { type: "number", id: `${id}-min`, name: "min", value: lo, step: spec.step, min: "0", inputMode: "decimal" });
  const max = h("input", { type: "number", id: `${id}-max`, name: "max", value: hi, step: spec.step, min: "0", inputMode: "decimal" });
  return h("form", {
    class: "facet range", dataset: { field: spec.field },
    on: { submit: (e) => { e.preventDefault(); handlers.range(spec.field, min.value, max.value); } },
  },
  h("fieldset", {},
    h("legend", { text: spec.label }),
    h("div", { class: "range-row" },
      h("label", { htmlFor: `${id}-min`, class: "range-label", text: "Min" }), min,
      h("label", { htmlFor: `${id}-max`, class: "range-label", text: "Max" }), max,
      h("button", { type: "submit", class: "small", text: "Apply", attrs: { "aria-label": `Apply ${spec.label} range` } }))));
}

/** Category paths as a tree: top levels first, and the children of a chosen path
 * under it, each named by its last segment. */
function categoryTree(values, selected) {
  const open = new Set();
  for (const path of selected) {
    const parts = path.split("/");
    for (let i = 1; i <= parts.length; i += 1) open.add(parts.slice(0, i).join("/"));
  }
  const parent = (path) => path.split("/").slice(0, -1).join("/");
  const shown = values.filter((v) => !v.value.includes("/") || open.has(parent(v.value)));
  const byParent = new Map();
  for (const v of shown) {
    const key = parent(v.value);
    if (!byParent.has(key)) byParent.set(key, []);
    byParent.get(key).push(v);
  }
  const out = [];
  const walk = (key, depth) => {
    for (const v of byParent.get(key) || []) {
      out.push({ ...v, depth, label: v.value.split("/").pop() });
      walk(v.value, depth + 1);
    }
  };
  walk("", 0);
  return out;
}

function valueGroup(field, values, state, handlers, expanded, labels) {
  const selected = new Set(state.filters[field] || []);
  // A selected value the server did not count (0 hits under the other filters) still shows, so it can be removed.
  let shown = [...values];
  for (const v of selected) if (!shown.some((x) => x.value === v)) shown.push({ value: v, count: 0, selected: true });
  if (field === "category") shown = categoryTree(shown, selected);
  if (field === "tags") shown = shown.map((v) => (labels.has(v.value) ? { ...v, label: labels.get(v.value) } : v));
  if (!shown.length) return null;
  const open = expanded.has(field);
  const visible = open ? shown : shown.slice(0, Math.max(COLLAPSED, shown.findLastIndex((v) => selected.has(v.value)) + 1));
  const list = h("ul", { class: "facet-values" }, visible.map((item, i) => {
    const id = `facet-${field}-${i}`;
    const checked = selected.has(item.value) || item.selected === true;
    return h("li", { class: item.depth ? `depth-${Math.min(item.depth, 4)}` : null, dataset: { value: item.value, count: String(item.count) } },
      h("input", {
        type: "checkbox", id, checked, dataset: { focusKey: `facet:${field}:${item.value}`, value: item.value },
        on: { change: () => handlers.toggle(field, item.value) },
      }),
      h("label", { htmlFor: id, class: "facet-label", title: item.label ? item.value : null },
        h("span", { class: "facet-value", text: item.label || item.value }),
        h("span", { class: "count" }, String(item.count), h("span", { class: "visually-hidden", text: " results" }))));
  }));
  const more = shown.length > visible.length || open
    ? h("button", {
      type: "button", class: "link-button", dataset: { focusKey: `more:${field}` },
      attrs: { "aria-expanded": String(open) },
      text: open ? "Show fewer" : `Show ${shown.length - visible.length} more`,
      on: { click: () => handlers.expand(field) },
    })
    : null;
  return h("fieldset", { class: "facet", dataset: { field } }, h("legend", { text: label(field) }), list, more);
}

/** Render the sidebar content into `root`, keeping focus on the control the user was on. */
export function renderFacets(root, state, facets, handlers, expanded, labels = new Map()) {
  const focusKey = document.activeElement && root.contains(document.activeElement) ? document.activeElement.dataset.focusKey : null;
  const groups = (FACETS[state.type] || []).map((field) => valueGroup(field, (facets && facets[field]) || [], state, handlers, expanded, labels));
  root.replaceChildren(...[
    h("h2", { class: "sidebar-title", text: "Filters", tabIndex: -1 }),
    chips(state, handlers, labels),
    ...(RANGES[state.type] || []).map((spec) => rangeGroup(state, spec, handlers)),
    ...groups,
    groups.every((g) => !g) ? h("p", { class: "muted", text: "No filters for these results." }) : null,
  ].filter(Boolean));
  if (focusKey) {
    const again = [...root.querySelectorAll("[data-focus-key]")].find((el) => el.dataset.focusKey === focusKey);
    if (again) again.focus();
    else root.querySelector("h2")?.focus?.();
  }
}
