// The page shell: one view at a time, chosen by the URL; links and form changes go
// through `nav`, which writes the URL (pushState) and redraws; Back/Forward redraw
// through popstate.
import { AssetView } from "./asset.js";
import { CollectionsView } from "./collections.js";
import { focusHeading } from "./dom.js";
import { ImageView, SimilarView, installImageDrop } from "./image.js";
import { ImportsView } from "./imports.js";
import { installKeyDialog } from "./key.js";
import { showModelNotice } from "./notice.js";
import { ProductView } from "./product.js";
import { ReviewView } from "./review.js";
import { SearchView } from "./search.js";
import { format, parse, searchDefaults } from "./state.js";

const VIEWS = {
  search: SearchView, product: ProductView, asset: AssetView, similar: SimilarView,
  image: ImageView, review: ReviewView, imports: ImportsView, collections: CollectionsView,
};
const TITLES = { search: "Search", product: "Product", asset: "Asset", similar: "More like this", image: "Find by image", review: "Review queue", imports: "Imports", collections: "Collections" };

const main = document.getElementById("main");
let current = null; // { name, view }

function render(state, { moveFocus = false } = {}) {
  if (!current || current.name !== state.view) {
    current?.view.unmount();
    main.replaceChildren();
    current = { name: state.view, view: new VIEWS[state.view](main, nav) };
    moveFocus = moveFocus && state.view !== "search";
  } else {
    moveFocus = false;
  }
  document.title = `${TITLES[state.view]} · Discovery`;
  for (const link of document.querySelectorAll(".main-nav a")) {
    if (link.dataset.view === state.view) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  const done = current.view.update(state);
  if (moveFocus) Promise.resolve(done).then(() => focusHeading(main));
}

/** Go to a state: a new history entry (or a replaced one), then draw it. */
export function nav(partial, { replace = false, historyState = null } = {}) {
  const state = { ...searchDefaults(), ...partial };
  const url = format(state);
  const same = url === location.search || (url === location.pathname && !location.search);
  if (replace || (same && !historyState)) history.replaceState(historyState, "", url);
  else history.pushState(historyState, "", url);
  render(parse(), { moveFocus: !same });
}

function redraw() {
  render(parse());
}

// Same-page links (?product=…, ?asset=…) navigate without reloading the page.
document.addEventListener("click", (e) => {
  const link = e.target instanceof Element ? e.target.closest("a[href]") : null;
  if (!link || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || link.target) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || url.pathname !== location.pathname || link.hasAttribute("download")) return;
  e.preventDefault();
  const state = parse(url.search);
  nav(state);
});

window.addEventListener("popstate", () => render(parse(), { moveFocus: true }));

installKeyDialog();
installImageDrop(nav, redraw);
showModelNotice();
render(parse());
