// Image results ("find by image", "more like this"): the facet sidebar of the search page
// (facets.js) over the image's nearest assets, and a grid in which near-duplicates that
// the API collapsed into one hit open as "+N similar". Filters live in the URL as on the
// search page (filter.<field>, range.<field>); the views decide how to fetch again.
import { assetHref, grid, thumbnail } from "./cards.js";
import { h } from "./dom.js";
import { FACETS } from "./facets.js";
import { FilterSidebar } from "./filter_sidebar.js";
import { emptyBox } from "./status.js";
import { tagLabels } from "./taxonomy.js";

export const IMAGE_K = 60; // the nearest assets that form the match set the facets count

/** The request parameters of an image search or "more like this" for a state. */
export function imageParams(state) {
  const params = { k: String(IMAGE_K), facets: FACETS.asset.join(","), facet_size: "50" };
  for (const [field, values] of Object.entries(state.filters || {})) params[`filter.${field}`] = values;
  for (const [field, text] of Object.entries(state.ranges || {})) params[`range.${field}`] = text;
  return params;
}

function collapsedList(hit, id) {
  return h("ul", { class: "collapsed-list", id, hidden: true, attrs: { "aria-label": `Near-duplicates of ${hit.title || hit.id}` } },
    (hit.collapsed || []).map((item) => h("li", {},
      h("a", { href: assetHref(item.id), class: "collapsed-item" },
        thumbnail(item.thumbnail, "", "mini-img"),
        h("span", { text: `${item.title || item.id}${typeof item.score === "number" ? ` · similarity ${item.score.toFixed(3)}` : ""}` })))));
}

/** "+N similar" on a card whose hit holds collapsed near-duplicates; opens their list in place. */
function addCollapsed(cardEl, hit, index) {
  const count = Number(hit.collapsed_count) || 0;
  if (!count) return;
  const id = `collapsed-${index}`;
  const list = collapsedList(hit, id);
  const label = (open) => (open ? `Hide ${count} similar` : `+${count} similar`);
  const button = h("button", {
    type: "button", class: "link-button collapsed-toggle", text: label(false),
    attrs: { "aria-expanded": "false", "aria-controls": id, title: "Near-duplicates of this image, grouped into one result" },
    on: {
      click: () => {
        const open = list.hidden;
        list.hidden = !open;
        button.setAttribute("aria-expanded", String(open));
        button.textContent = label(open);
      },
    },
  });
  cardEl.classList.add("card-group");
  cardEl.querySelector(".card-body")?.append(button, list);
}

/** The two-column layout (filters, results) of an image view, redrawn by `render`. */
export class ImageResults {
  /** `go(state)` moves to a state with other filters (the view fetches it). */
  constructor(go) {
    this.go = go;
    this.filters = new FilterSidebar();
    this.status = h("p", { class: "result-status", attrs: { role: "status", "aria-live": "polite" } });
    this.body = h("div", { class: "results-body" });
    this.element = h("div", { class: "layout image-layout" },
      this.filters.skipLink,
      this.filters.element,
      h("section", { class: "results", id: "results", attrs: { "aria-label": "Results", tabindex: "-1" } },
        h("div", { class: "results-bar" }, this.status, this.filters.button),
        this.body));
  }

  /** Open or close the filters' drawer (see FilterSidebar.toggle). */
  toggleSidebar(force) {
    this.filters.toggle(force);
  }

  async render(state, body, extra = null) {
    const labels = await tagLabels().catch(() => new Map());
    const hits = Array.isArray(body && body.hits) ? body.hits.map((hit) => ({ type: "asset", ...hit, id: String(hit.id) })) : [];
    const total = Number(body && body.total) || 0;
    const assets = Number(body && body.total_assets) || total;
    const grouped = assets > total ? ` · ${assets - total} near-duplicate${assets - total === 1 ? "" : "s"} grouped` : "";
    const count = `${total} similar image${total === 1 ? "" : "s"}`;
    this.status.textContent = `${count}${grouped}, most similar first`;
    this.status.dataset.total = String(total);
    this.status.dataset.state = "done";
    const view = { ...state, type: "asset" };
    this.filters.render(state, body, { go: (change) => this.go(change(state)), count, labels, view });
    if (!hits.length) {
      const filtered = Object.keys(state.filters || {}).length || Object.keys(state.ranges || {}).length;
      this.body.replaceChildren(filtered
        ? emptyBox("No similar images with these filters.", "Remove a filter to see more.")
        : emptyBox("No similar images found.", "Try another picture, or search by words instead."));
      return;
    }
    const cards = grid(hits, { showScore: true });
    [...cards.children].forEach((el, i) => addCollapsed(el, hits[i], i));
    this.body.replaceChildren(cards, ...(extra ? [extra(hits)] : []));
  }
}
