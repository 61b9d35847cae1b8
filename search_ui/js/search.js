// The search page: a box with results as you type, the mode switch, type tabs, the facet
// sidebar, sort, a grid of cards and paging. It reads everything from the URL state and
// changes the state only through `nav`, so the back button replays every step.
import { api, isAbort, query } from "./api.js";
import { grid } from "./cards.js";
import { selectAssets } from "./selection.js";
import { clear, h } from "./dom.js";
import { FACETS } from "./facets.js";
import { FilterSidebar } from "./filter_sidebar.js";
import { MAX_OFFSET, PAGE_SIZE } from "./state.js";
import { errorBox, emptyBox } from "./status.js";
import { tagLabels } from "./taxonomy.js";

const DEBOUNCE_MS = 220;
const SUGGEST_MS = 120;
const SUGGESTION_KINDS = { category: "Category", brand: "Brand" };
const TYPE_LABELS = { product: "Products", asset: "Assets", all: "All" };
const MODE_LABELS = { hybrid: "Hybrid", keyword: "Keyword", semantic: "Describe (semantic)" };
const SORT_LABELS = {
  relevance: "Relevance", price: "Price: low to high", "-price": "Price: high to low",
  newest: "Newest", name: "Name", popular: "Most used",
};

export function searchRequest(state) {
  const params = {
    q: state.q, type: state.type, mode: state.mode, sort: state.sort, page: state.page, size: PAGE_SIZE,
    facets: (FACETS[state.type] || []).join(","), facet_size: 50,
  };
  for (const [field, values] of Object.entries(state.filters)) params[`filter.${field}`] = values;
  for (const [field, text] of Object.entries(state.ranges)) params[`range.${field}`] = text;
  return `/api/search${query(params)}`;
}

export class SearchView {
  constructor(root, nav) {
    this.nav = nav;
    this.state = null;
    this.controller = null;
    this.timer = null;
    this.typing = false;
    this.build(root);
  }

  build(root) {
    this.input = h("input", {
      type: "search", id: "q", name: "q", autocomplete: "off", spellcheck: false,
      placeholder: "Search or describe it: “red running shoe on white”",
      attrs: { "aria-describedby": "q-help", list: "q-suggestions" },
      on: { input: () => { this.onType(); this.suggestSoon(); } },
    });
    this.suggestions = h("datalist", { id: "q-suggestions" });
    const form = h("form", { class: "searchbar", attrs: { role: "search" }, on: { submit: (e) => { e.preventDefault(); this.commitQuery(true); } } },
      h("label", { htmlFor: "q", class: "visually-hidden", text: "Search products and assets" }),
      this.input, this.suggestions,
      h("button", { type: "submit", class: "primary", text: "Search" }));
    this.modes = h("fieldset", { class: "segmented", attrs: { "aria-describedby": "q-help" } },
      h("legend", { class: "visually-hidden", text: "Search mode" }),
      Object.entries(MODE_LABELS).map(([mode, text]) => h("label", { class: "segment" },
        h("input", { type: "radio", name: "mode", value: mode, on: { change: () => this.nav({ ...this.state, mode, page: 1 }) } }),
        h("span", { text }))));
    this.tabs = h("div", { class: "tabs", attrs: { role: "group", "aria-label": "Show" } },
      Object.entries(TYPE_LABELS).map(([type, text]) => h("button", {
        type: "button", class: "tab", dataset: { type }, text,
        on: { click: () => this.nav({ ...this.state, type, page: 1, filters: {}, ranges: {} }) },
      })));
    this.sort = h("select", { id: "sort", on: { change: () => this.nav({ ...this.state, sort: this.sort.value, page: 1 }) } },
      Object.entries(SORT_LABELS).map(([value, text]) => h("option", { value, text })));
    this.status = h("p", { class: "result-status", attrs: { role: "status", "aria-live": "polite" } });
    this.results = h("div", { class: "results-body" });
    this.pager = h("nav", { class: "pager", attrs: { "aria-label": "Pages" } });
    // On a phone the filters open as a drawer over the results; its footer closes it.
    this.filters = new FilterSidebar();
    root.replaceChildren(
      h("section", { class: "search-head" },
        h("h1", { class: "visually-hidden", text: "Search" }),
        form,
        h("div", { class: "search-controls" }, this.modes, this.tabs),
        h("p", { id: "q-help", class: "help", text: "Results update as you type. Drop or paste an image anywhere to find similar ones." })),
      h("div", { class: "layout" },
        this.filters.skipLink,
        this.filters.element,
        h("section", { class: "results", id: "results", attrs: { "aria-label": "Results", tabindex: "-1" } },
          h("div", { class: "results-bar" }, this.status, this.filters.button,
            h("label", { htmlFor: "sort", class: "sort-label" }, "Sort ", this.sort)),
          this.results, this.pager)));
  }

  /** Completions under the box (GET /api/suggest): titles, then categories and brands. */
  suggestSoon() {
    clearTimeout(this.suggestTimer);
    this.suggestTimer = setTimeout(async () => {
      const q = this.input.value;
      this.suggestController?.abort();
      if (!q.trim()) { this.suggestions.replaceChildren(); return; }
      const controller = new AbortController();
      this.suggestController = controller;
      try {
        const body = await api(`/api/suggest${query({ q })}`, { signal: controller.signal });
        if (controller.signal.aborted || this.input.value !== q) return;
        const seen = new Set();
        const options = [];
        for (const s of Array.isArray(body.suggestions) ? body.suggestions : []) {
          const text = String(s.text || "");
          if (!text || seen.has(text)) continue;
          seen.add(text);
          options.push(h("option", { value: text, label: s.kind === "product" ? "" : SUGGESTION_KINDS[s.kind] || "" }));
        }
        this.suggestions.replaceChildren(...options);
      } catch (err) {
        if (!isAbort(err)) this.suggestions.replaceChildren(); // suggestions are a help, never an error
      }
    }, SUGGEST_MS);
  }

  onType() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.commitQuery(false), DEBOUNCE_MS);
  }

  /** Put the typed text in the URL: the first change of a typing run is a new history
   * entry, the rest replace it, so Back skips the keystrokes but not the search. */
  commitQuery(submit) {
    clearTimeout(this.timer);
    const q = this.input.value;
    if (q === this.state.q && !submit) return;
    const replace = this.typing && !submit;
    this.committing = true;
    try {
      this.nav({ ...this.state, q, page: 1 }, { replace });
    } finally {
      this.committing = false;
    }
    this.typing = !submit;
  }

  update(state) {
    const first = this.state === null;
    this.state = state;
    // While the user types, the box is the truth; any other change (a facet, Back) ends the typing run.
    if (!this.committing) {
      this.typing = false;
      this.input.value = state.q;
    }
    for (const radio of this.modes.querySelectorAll("input")) radio.checked = radio.value === state.mode;
    for (const tab of this.tabs.children) tab.setAttribute("aria-pressed", String(tab.dataset.type === state.type));
    this.sort.value = state.sort;
    if (first && !state.q) this.input.focus();
    this.run(state);
  }

  async run(state) {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    this.results.setAttribute("aria-busy", "true");
    this.status.textContent = "Searching…";
    this.status.dataset.state = "loading";
    try {
      const [body, labels] = await Promise.all([api(searchRequest(state), { signal: controller.signal }), tagLabels()]);
      if (controller.signal.aborted) return;
      this.labels = labels;
      this.render(state, body);
    } catch (err) {
      if (isAbort(err)) return;
      this.status.textContent = "The search failed.";
      this.status.dataset.state = "error";
      this.results.replaceChildren(errorBox(err, () => this.run(this.state)));
      clear(this.pager);
    } finally {
      if (this.controller === controller) this.results.removeAttribute("aria-busy");
    }
  }

  render(state, body) {
    const hits = Array.isArray(body.hits) ? body.hits : [];
    const total = Number(body.total) || 0;
    const shownFrom = (state.page - 1) * PAGE_SIZE + 1;
    const count = `${total}${body.total_is_lower_bound ? "+" : ""} result${total === 1 ? "" : "s"}`;
    this.status.textContent = hits.length ? `${count} · showing ${shownFrom}–${shownFrom + hits.length - 1}` : count;
    this.status.dataset.total = String(total);
    this.status.dataset.state = "done";
    this.filters.render(state, body, { go: (change) => this.nav(change(this.state)), count, labels: this.labels });
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    if (!hits.length && total > 0 && state.page > pages) {
      this.status.textContent = `${count} · page ${state.page} is past the last page`;
      this.results.replaceChildren(h("div", { class: "state state-empty" },
        h("p", { class: "state-title", text: `Page ${state.page} is past the end: ${count} fill ${pages} page${pages === 1 ? "" : "s"}.` }),
        h("button", { type: "button", class: "primary", text: `Go to page ${pages}`, on: { click: () => this.nav({ ...this.state, page: pages }) } }),
        " ",
        h("button", { type: "button", text: "Back to page 1", on: { click: () => this.nav({ ...this.state, page: 1 }) } })));
      clear(this.pager);
      return;
    }
    if (!hits.length) {
      const filtered = Object.keys(state.filters).length || Object.keys(state.ranges).length;
      this.results.replaceChildren(emptyBox(
        state.q ? `Nothing matches “${state.q}”${filtered ? " with these filters" : ""}.` : "Nothing here yet.",
        filtered ? "Remove a filter, or try other words." : state.mode === "keyword" ? "Try other words, or switch to Hybrid to match by meaning." : "Try other words.",
      ));
    } else {
      this.results.replaceChildren(grid(hits));
      selectAssets(this.results);
    }
    this.renderPager(state, body, hits.length, total);
  }

  renderPager(state, body, shown, total) {
    clear(this.pager);
    const reachable = Math.floor(MAX_OFFSET / PAGE_SIZE);
    const capped = Math.ceil(total / PAGE_SIZE) > reachable;
    const pages = Math.max(1, Math.min(Math.ceil(total / PAGE_SIZE), reachable));
    const hasNext = state.page < pages || (Boolean(body.cursor) && state.page < reachable);
    if (state.page === 1 && !hasNext) return;
    const go = (page) => () => { this.nav({ ...this.state, page }); window.scrollTo({ top: 0 }); };
    const button = (text, page, attrs = {}) => h("button", { type: "button", class: "page", text, on: { click: go(page) }, attrs });
    const items = [];
    items.push(button("‹ Previous", state.page - 1, { disabled: state.page <= 1, "aria-label": "Previous page" }));
    const first = Math.max(1, state.page - 2);
    const last = Math.min(pages, state.page + 2);
    for (let p = first; p <= last; p += 1) {
      items.push(button(String(p), p, { "aria-current": p === state.page ? "page" : false, "aria-label": `Page ${p}` }));
    }
    items.push(button("Next ›", state.page + 1, { disabled: !hasNext || shown === 0, "aria-label": "Next page" }));
    this.pager.append(...items, h("span", { class: "muted", text: ` of ${pages}${body.total_is_lower_bound || capped ? "+" : ""}` }));
  }

  unmount() {
    clearTimeout(this.timer);
    clearTimeout(this.suggestTimer);
    this.suggestController?.abort();
    this.controller?.abort();
  }
}
