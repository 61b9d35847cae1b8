// All page state lives in the URL, so a view can be shared and the back button works.
// Search parameters use the API's own names (filter.<field>, range.<field>).

export const TYPES = ["product", "asset", "all"];
export const MODES = ["hybrid", "keyword", "semantic"];
export const SORTS = ["relevance", "price", "-price", "newest", "name", "popular"];
export const PAGE_SIZE = 24;
// How deep page numbers reach (the API's default DISCOVERY_SEARCH_MAX_OFFSET): the API
// refuses offset pages past it, so the pager offers none.
export const MAX_OFFSET = 1000;

// The review queue's picker (besides `tag`): what the queue API filters by.
export const REVIEW_FIELDS = ["target_type", "source", "min_confidence", "max_confidence"];

function reviewFilter(usp) {
  const conf = (name) => {
    const value = Number.parseFloat(usp.get(name) ?? "");
    return Number.isFinite(value) && value >= 0 && value <= 1 ? String(value) : "";
  };
  return {
    target_type: ["asset", "product"].includes(usp.get("target_type")) ? usp.get("target_type") : "",
    source: usp.get("source") || "",
    min_confidence: conf("min_confidence"),
    max_confidence: conf("max_confidence"),
  };
}

/** The state a URL describes. */
export function parse(search = location.search) {
  const usp = new URLSearchParams(search);
  const filters = {};
  const ranges = {};
  for (const [key, value] of usp) {
    if (key.startsWith("filter.") && value !== "") (filters[key.slice(7)] ||= []).includes(value) || filters[key.slice(7)].push(value);
    else if (key.startsWith("range.") && value !== "") ranges[key.slice(6)] = value;
  }
  const pick = (name, allowed, fallback) => (allowed.includes(usp.get(name)) ? usp.get(name) : fallback);
  let view = "search";
  if (usp.get("product")) view = "product";
  else if (usp.get("asset")) view = "asset";
  else if (usp.get("similar")) view = "similar";
  else if (["review", "imports", "image", "collections"].includes(usp.get("view"))) view = usp.get("view");
  return {
    view,
    q: usp.get("q") || "",
    type: pick("type", TYPES, "product"),
    mode: pick("mode", MODES, "hybrid"),
    sort: pick("sort", SORTS, "relevance"),
    page: Math.max(1, Number.parseInt(usp.get("page") || "1", 10) || 1),
    filters,
    ranges,
    product: usp.get("product") || "",
    asset: usp.get("asset") || "",
    similar: usp.get("similar") || "",
    tag: usp.get("tag") || "",
    collection: usp.get("collection") || "",
    ...reviewFilter(usp),
  };
}

/** The URL query string for a state (defaults left out, so URLs stay short). */
export function format(state) {
  const usp = new URLSearchParams();
  if (state.view === "product") usp.set("product", state.product);
  else if (state.view === "asset") usp.set("asset", state.asset);
  else if (state.view === "similar") usp.set("similar", state.similar);
  else if (state.view !== "search") usp.set("view", state.view);
  if (state.view === "review") {
    if (state.tag) usp.set("tag", state.tag);
    for (const name of REVIEW_FIELDS) if (state[name]) usp.set(name, state[name]);
  }
  if (state.view === "collections" && state.collection) usp.set("collection", state.collection);
  if (state.view === "collections" && state.collection && state.page > 1) usp.set("page", String(state.page));
  if (state.view === "search") {
    if (state.q) usp.set("q", state.q);
    if (state.type !== "product") usp.set("type", state.type);
    if (state.mode !== "hybrid") usp.set("mode", state.mode);
    if (state.sort !== "relevance") usp.set("sort", state.sort);
    for (const field of Object.keys(state.filters).sort()) for (const v of state.filters[field]) usp.append(`filter.${field}`, v);
    for (const field of Object.keys(state.ranges).sort()) usp.set(`range.${field}`, state.ranges[field]);
    if (state.page > 1) usp.set("page", String(state.page));
  }
  if (state.view === "image" || state.view === "similar") { // image results take the same filters
    for (const field of Object.keys(state.filters).sort()) for (const v of state.filters[field]) usp.append(`filter.${field}`, v);
    for (const field of Object.keys(state.ranges).sort()) usp.set(`range.${field}`, state.ranges[field]);
  }
  const text = usp.toString();
  return text ? `?${text}` : location.pathname;
}

export function searchDefaults() {
  return parse("");
}

/** A copy of `state` with a filter value added or removed; the page goes back to 1. */
export function toggleFilter(state, field, value) {
  const filters = structuredClone(state.filters);
  let values = filters[field] || [];
  if (field === "category" && !values.includes(value)) {
    // A path and its ancestors or descendants overlap (OR within a field): keep the one just chosen.
    values = values.filter((v) => !value.startsWith(`${v}/`) && !v.startsWith(`${value}/`));
  }
  filters[field] = values.includes(value) ? values.filter((v) => v !== value) : [...values, value];
  if (!filters[field].length) delete filters[field];
  return { ...state, filters, page: 1 };
}

export function setRange(state, field, lo, hi) {
  const ranges = { ...state.ranges };
  const clean = (v) => (v === "" || v === null || v === undefined || Number.isNaN(Number(v)) ? "" : String(Number(v)));
  const text = `${clean(lo)}..${clean(hi)}`;
  if (text === "..") delete ranges[field];
  else ranges[field] = text;
  return { ...state, ranges, page: 1 };
}

export function rangeBounds(text) {
  const [lo = "", hi = ""] = String(text || "").split("..");
  return [lo, hi];
}
