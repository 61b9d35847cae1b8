// The product page: image, facts, attributes, variants (choosing one swaps the image),
// linked assets and completeness per channel with what is missing.
import { api, isAbort } from "./api.js";
import { assetStrip, productHref } from "./cards.js";
import { formatDate, formatPrice, h, safeUrl, valueText } from "./dom.js";
import { productLinksPanel } from "./links.js";
import { errorBox, loadingBox } from "./status.js";

/** The best picture of an asset for a large preview. */
export function previewUrl(asset) {
  if (!asset) return null;
  const names = Object.keys(asset.renditions || {});
  const id = encodeURIComponent(asset.id);
  for (const wanted of ["preview", "large", "medium", "web"]) {
    if (names.includes(wanted)) return `/api/assets/${id}/renditions/${wanted}`;
  }
  if (String(asset.media_type || "").startsWith("image/") && ["image/jpeg", "image/png", "image/webp", "image/gif"].includes(asset.media_type)) return safeUrl(asset.file) || `/api/assets/${id}/file`;
  return safeUrl(asset.thumbnail);
}

export function definitionList(rows) {
  const items = rows.filter(([, v]) => v !== undefined && v !== null && v !== "");
  if (!items.length) return null;
  return h("dl", { class: "facts" }, items.map(([k, v]) => [h("dt", { text: k }), h("dd", {}, v instanceof Node ? v : valueText(v))]));
}

function attributesTable(attributes) {
  const entries = Object.entries(attributes || {}).filter(([k]) => !k.startsWith("_"));
  if (!entries.length) return h("p", { class: "muted", text: "No attributes." });
  return h("table", { class: "table" },
    h("caption", { class: "visually-hidden", text: "Attributes" }),
    h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "Attribute" }), h("th", { scope: "col", text: "Value" }))),
    h("tbody", {}, entries.map(([k, v]) => h("tr", {}, h("th", { scope: "row", text: k.replace(/_/g, " ") }), h("td", { text: valueText(v) })))));
}

/** "attributes.color" -> "color (attribute)": the server's missing-item keys, readable. */
function missingLabel(key) {
  const text = valueText(key);
  const [kind, ...rest] = text.split(".");
  if (kind === "attributes" && rest.length) return `${rest.join(".")} (attribute)`;
  if (kind === "locales" && rest.length >= 2) return `${rest.slice(1).join(".")} in ${rest[0]}`;
  return text;
}

function channelDetail(data) {
  const rows = [];
  const images = data.images && typeof data.images === "object" ? data.images : null;
  if (images) rows.push(["Images", `${valueText(images.have)} of ${valueText(images.need)}${images.rule ? ` (${images.rule})` : ""}`]);
  const locales = data.locales && typeof data.locales === "object" ? Object.entries(data.locales) : [];
  if (locales.length) {
    rows.push(["Locales", locales.map(([loc, info]) => `${loc} ${Math.round((Number(info && info.ratio) || 0) * 100)}%`).join(" · ")]);
  }
  return definitionList(rows);
}

function completeness(product) {
  const channels = Object.entries(product.completeness || {});
  if (!channels.length) return h("p", { class: "muted", text: product.completeness === undefined ? "Completeness is not shown to this key." : "No channel rules apply to this product." });
  return h("ul", { class: "completeness" }, channels.map(([channel, info]) => {
    const data = info && typeof info === "object" ? info : {};
    const ratio = Math.max(0, Math.min(1, Number(data.ratio ?? (data.ready ? 1 : 0)) || 0));
    const missing = Array.isArray(data.missing) ? data.missing : [];
    return h("li", { class: `channel ${data.ready ? "ready" : "not-ready"}`, dataset: { channel } },
      h("div", { class: "channel-head" },
        h("strong", { text: channel }),
        h("span", { class: `badge ${data.ready ? "badge-ok" : "badge-warn"}`, text: data.ready ? "Ready" : "Not ready" }),
        h("span", { class: "muted", text: `${Math.round(ratio * 100)}% complete` })),
      h("progress", { max: 1, value: ratio, attrs: { "aria-label": `${channel} completeness` } }),
      missing.length
        ? h("div", { class: "missing" }, h("span", { class: "muted", text: "Missing: " }), h("ul", { class: "inline-list" }, missing.map((m) => h("li", { text: missingLabel(m) }))))
        : h("p", { class: "muted", text: "Nothing missing." }),
      channelDetail(data));
  }));
}

export class ProductView {
  constructor(root) {
    this.root = root;
    this.controller = null;
  }

  async update(state) {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    this.root.replaceChildren(loadingBox("Loading product…"));
    try {
      const product = await api(`/api/products/${encodeURIComponent(state.product)}`, { signal: controller.signal });
      this.render(product);
    } catch (err) {
      if (!isAbort(err)) this.root.replaceChildren(h("h1", { text: state.product }), errorBox(err, () => this.update(state)));
    }
  }

  render(product) {
    const assets = Array.isArray(product.assets) ? product.assets : [];
    const byId = new Map(assets.map((a) => [a.id, a]));
    const variants = Array.isArray(product.variants) ? product.variants : [];
    // A product's own pictures: the ids it names, or the assets linked to its SKU.
    const linkedTo = (sku) => assets.filter((a) => (a.product_skus || []).some((l) => String(l && typeof l === "object" ? l.sku : l) === sku));
    const own = (p) => (p.asset_ids || []).map((id) => byId.get(id)).find(Boolean) || linkedTo(p.sku)[0];
    const image = h("div", { class: "hero" });
    const facts = h("div", { class: "variant-facts" });
    const show = (p) => {
      const asset = own(p) || own(product) || assets[0];
      const url = previewUrl(asset);
      image.replaceChildren(url ? h("img", { class: "hero-img", src: url, alt: asset.alt || asset.title || p.name || p.sku }) : h("div", { class: "hero-img placeholder", text: "No image" }));
      facts.replaceChildren(definitionList([
        ["SKU", p.sku], ["Price", formatPrice(p.price, p.currency || product.currency)],
        ...Object.entries(p === product ? {} : p.attributes || {}).filter(([k]) => !k.startsWith("_")).map(([k, v]) => [k.replace(/_/g, " "), v]),
      ]) || "");
    };
    show(product);
    const variantPicker = variants.length
      ? h("fieldset", { class: "variants" }, h("legend", { text: `Variants (${variants.length})` }),
        h("div", { class: "variant-options" },
          [product, ...variants].map((p, i) => h("label", { class: "variant" },
            h("input", { type: "radio", name: "variant", value: p.sku, checked: i === 0, on: { change: () => show(p) } }),
            h("span", { text: i === 0 ? "All / parent" : variantLabel(p) })))))
      : null;
    const tags = (product.tags || []).map((t) => h("li", { class: `tag tag-${t.status || "accepted"}`, text: t.status && t.status !== "accepted" ? `${t.name} (${t.status})` : t.name }));
    this.root.replaceChildren(
      h("nav", { class: "crumbs", attrs: { "aria-label": "Breadcrumb" } }, h("a", { href: "./", text: "Search" }), " › ",
        product.parent ? [h("a", { href: productHref(product.parent.sku), text: product.parent.name || product.parent.sku }), " › "] : null,
        h("span", { text: product.sku })),
      h("div", { class: "detail" },
        image,
        h("div", { class: "detail-main" },
          h("h1", { text: product.name || product.sku }),
          h("p", { class: "muted" }, [product.brand, ...(product.categories || [])].filter(Boolean).map(String).join(" · ")),
          definitionList([["Status", product.status], ["Channels", product.channels], ["Updated", formatDate(product.updated_at)]]),
          variantPicker, facts,
          tags.length ? h("ul", { class: "tags", attrs: { "aria-label": "Tags" } }, tags) : null,
          description(product) ? h("p", { class: "description", text: description(product) }) : null)),
      h("section", { class: "panel" }, h("h2", { text: "Attributes" }), attributesTable(product.attributes)),
      h("section", { class: "panel" }, h("h2", { text: "Completeness per channel" }), completeness(product)),
      h("section", { class: "panel" }, h("h2", { text: `Linked assets (${assets.length})` }), assetStrip(assets, { empty: "No linked assets." })),
      productLinksPanel(product, () => this.update({ product: product.sku })),
    );
  }

  unmount() {
    this.controller?.abort();
  }
}

function variantLabel(p) {
  const attrs = Object.entries(p.attributes || {}).filter(([k]) => ["color", "colour", "size", "material"].includes(k)).map(([, v]) => valueText(v));
  return attrs.length ? `${attrs.join(" / ")} (${p.sku})` : p.name || p.sku;
}

/** Plain text of the description: the stored text, or the HTML read by an inert parser (never inserted). */
function description(product) {
  if (product.description_text) return String(product.description_text);
  if (!product.description) return "";
  return new DOMParser().parseFromString(String(product.description), "text/html").body.textContent || "";
}
