// The asset page's "Inherited from products" panel: what search also finds the asset by,
// taken from its linked (listed) products with no review, each value beside the product
// it came from. Category and colour link to asset search filtered by that inherited facet.
import { productHref } from "./cards.js";
import { h, valueText } from "./dom.js";

function assetSearchHref(field, value) {
  const usp = new URLSearchParams({ type: "asset", mode: "keyword" });
  usp.append(`filter.${field}`, value);
  return `?${usp}`;
}

function values(list, field) {
  const items = (Array.isArray(list) ? list : []).map((v) => valueText(v)).filter(Boolean);
  if (!items.length) return h("span", { class: "muted", text: "—" });
  return h("ul", { class: "inline-list" }, items.map((v) => h("li", {},
    field ? h("a", { href: assetSearchHref(field, v), title: `Assets inheriting ${v}`, text: v }) : v)));
}

function row(item) {
  const sku = valueText(item.sku);
  const cell = (label, ...content) => h("td", { dataset: { label } }, ...content);
  return h("tr", { class: "inherited-row", dataset: { sku } },
    h("th", { scope: "row" }, h("a", { href: productHref(sku), text: item.name ? `${item.name}` : sku }), h("div", { class: "muted", text: sku })),
    cell("Categories", values(item.categories, "inherited_category")),
    cell("Colours", values(item.colors, "inherited_color")),
    cell("Materials", values(item.materials)),
    cell("Tags", values(item.tags)));
}

/** The panel for an asset view (`GET /api/assets/{id}`'s `inherited`), as a section element. */
export function inheritedPanel(asset) {
  const list = Array.isArray(asset && asset.inherited) ? asset.inherited : [];
  const body = list.length
    ? h("table", { class: "table stack inherited" },
      h("thead", {}, h("tr", {}, ["Product", "Categories", "Colours", "Materials", "Tags"].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, list.map(row)))
    : h("p", { class: "muted", text: "Nothing inherited: no linked product is listed." });
  return h("section", { class: "panel inherited-panel" },
    h("h2", { text: "Inherited from products" }),
    h("p", { class: "muted", text: "Search also finds this asset by these values of its linked products (no review needed)." }),
    body);
}
