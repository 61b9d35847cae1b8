// The facet sidebar of a results layout (the search page and the image views): the facets
// (facets.js), a skip link past them, and on a phone a drawer over the results opened by a
// "Filters" button and closed by "Show N results" at its foot.

import { h } from "./dom.js";
import { renderFacets } from "./facets.js";
import { setRange, toggleFilter } from "./state.js";

export class FilterSidebar {
  constructor() {
    this.expanded = new Set();
    this.element = h("aside", { class: "sidebar", id: "filters", attrs: { "aria-label": "Filters" } });
    this.showResults = h("button", { type: "button", class: "primary", text: "Show results", on: { click: () => this.toggle(false) } });
    this.drawerFoot = h("div", { class: "drawer-foot" }, this.showResults);
    this.button = h("button", {
      type: "button", class: "filter-toggle", text: "Filters",
      attrs: { "aria-controls": "filters", "aria-expanded": "false" },
      on: { click: () => this.toggle() },
    });
    this.skipLink = h("a", {
      class: "skip-link", href: "#results", text: "Skip the filters to the results",
      on: { click: (e) => { e.preventDefault(); document.getElementById("results")?.focus(); } },
    });
  }

  /** Open or close the drawer (a phone's); `false` also gives the focus back to its button. */
  toggle(force) {
    const open = typeof force === "boolean" ? force : !this.element.classList.contains("open");
    this.element.classList.toggle("open", open);
    document.body.classList.toggle("drawer-open", open);
    this.button.setAttribute("aria-expanded", String(open));
    if (!open && force === false) this.button.focus();
  }

  /**
   * Draw the facets of `body` for `state`. A click calls `go(change)`, `change` a function from
   * the caller's current state to the one with other filters (the caller navigates there);
   * `view` is the state the facets are drawn for (its `type` picks them; default `state`);
   * `count` is the results' count in words ("12 results"), shown on the drawer's button.
   */
  render(state, body, { go, count, labels = new Map(), view = state }) {
    renderFacets(this.element, view, (body && body.facets) || {}, {
      toggle: (field, value) => go((now) => toggleFilter(now, field, value)),
      range: (field, lo, hi) => go((now) => setRange(now, field, lo, hi)),
      clearAll: () => go((now) => ({ ...now, filters: {}, ranges: {}, page: 1 })),
      expand: (field) => {
        if (this.expanded.has(field)) this.expanded.delete(field); else this.expanded.add(field);
        this.render(state, body, { go, count, labels, view });
      },
    }, this.expanded, labels);
    const failed = Object.keys((body && body.facet_errors) || {});
    if (failed.length) {
      this.element.append(h("p", { class: "muted", text: `Some filters could not be counted: ${failed.join(", ")}.` }));
    }
    this.showResults.textContent = `Show ${count}`;
    this.element.append(this.drawerFoot);
  }
}
