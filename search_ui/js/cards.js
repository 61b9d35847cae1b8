// Result cards: a thumbnail, the title (with highlights), a few facts, and actions.
import { fieldText, formatPrice, h, highlighted, safeUrl, valueText } from "./dom.js";

export function productHref(sku) {
  return `?product=${encodeURIComponent(sku)}`;
}

export function assetHref(id) {
  return `?asset=${encodeURIComponent(id)}`;
}

export function similarHref(id) {
  return `?similar=${encodeURIComponent(id)}`;
}

/** The asset behind a thumbnail URL, so a product card can offer "more like this". */
export function assetIdFromUrl(url) {
  const match = /\/api\/assets\/([^/?#]+)\//.exec(String(url || ""));
  return match ? decodeURIComponent(match[1]) : null;
}

/** A thumbnail image, or a labelled placeholder when there is none or it fails to load. */
export function thumbnail(url, label, className = "thumb-img") {
  const src = safeUrl(url);
  const placeholder = () => h("span", { class: `${className} placeholder`, attrs: { "aria-hidden": "true" }, text: label || "No image" });
  if (!src) return placeholder();
  const img = h("img", { class: className, alt: "", loading: "lazy", decoding: "async", src });
  img.addEventListener("error", () => img.replaceWith(placeholder()), { once: true });
  return img;
}

function snippet(hit, skip) {
  for (const [field, list] of Object.entries(hit.highlights || {})) {
    if (skip.includes(field) || !Array.isArray(list) || !list.length) continue;
    const first = list[0];
    return h("p", { class: "snippet" }, h("span", { class: "snippet-field", text: `${field}: ` }), highlighted(first.text, first.offsets));
  }
  return null;
}

function productFacts(hit) {
  const facts = [];
  if (hit.brand) facts.push(String(hit.brand));
  const price = formatPrice(hit.price, hit.currency);
  if (price) facts.push(price);
  const variants = Array.isArray(hit.variants) ? hit.variants.length : 0;
  if (variants) facts.push(`${variants} variant${variants === 1 ? "" : "s"}`);
  return facts;
}

function assetFacts(hit) {
  const facts = [];
  if (hit.width && hit.height) facts.push(`${hit.width}×${hit.height}`);
  if (hit.media_type) facts.push(String(hit.media_type));
  if (hit.background) facts.push(`${hit.background} background`);
  return facts;
}

/** One search hit as a card. `score` is shown for image-similarity results. */
export function card(hit, { showScore = false } = {}) {
  const isProduct = hit.type === "product";
  const href = isProduct ? productHref(hit.id) : assetHref(hit.id);
  const title = fieldText(hit.highlights, isProduct ? ["name", "title"] : ["title", "filename"], hit.title || hit.id);
  const similarTo = isProduct ? assetIdFromUrl(hit.thumbnail) : hit.id;
  const facts = isProduct ? productFacts(hit) : assetFacts(hit);
  if (showScore && typeof hit.score === "number") facts.push(`similarity ${hit.score.toFixed(3)}`);
  const links = !isProduct && Array.isArray(hit.product_skus) && hit.product_skus.length
    ? h("p", { class: "card-links" }, "For ", hit.product_skus.slice(0, 3).map((sku, i) => [i ? ", " : "", h("a", { href: productHref(valueText(sku.sku ?? sku)), text: valueText(sku.sku ?? sku) })]))
    : null;
  return h("article", { class: `card card-${isProduct ? "product" : "asset"}`, dataset: { id: hit.id, type: hit.type } },
    h("a", { class: "thumb", href, tabIndex: -1, attrs: { "aria-hidden": "true" } }, thumbnail(hit.thumbnail, isProduct ? "No image" : hit.media_type)),
    h("div", { class: "card-body" },
      h("span", { class: `badge badge-${isProduct ? "product" : "asset"}`, text: isProduct ? "Product" : "Asset" }),
      h("h3", { class: "card-title" }, h("a", { href }, title)),
      isProduct ? h("p", { class: "card-sku", text: hit.id }) : null,
      facts.length ? h("p", { class: "card-facts", text: facts.join(" · ") }) : null,
      links,
      snippet(hit, ["name", "title", "filename"]),
      similarTo ? h("a", { class: "more-like", href: similarHref(similarTo), text: "More like this", attrs: { "aria-label": `More like this: ${hit.title || hit.id}` } }) : null,
    ),
  );
}

/** A row of small asset tiles, each its thumbnail and title linking to the asset; `empty` is
 * said when there are none; `extra(item)` adds what a tile shows under its title. */
export function assetStrip(items, { empty, extra = () => null } = {}) {
  if (!items.length) return h("p", { class: "muted", text: empty });
  return h("ul", { class: "asset-strip" }, items.map((item) => h("li", {},
    h("a", { href: assetHref(item.id), class: "asset-tile" },
      thumbnail(item.thumbnail, item.media_type, "tile-img"),
      h("span", { class: "tile-title", text: item.title || item.filename || item.id }),
      extra(item)))));
}

export function grid(hits, options) {
  return h("div", { class: "grid", attrs: { role: "list" } }, hits.map((hit) => {
    const item = card(hit, options);
    item.setAttribute("role", "listitem");
    return item;
  }));
}
