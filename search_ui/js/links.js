// Managing links by hand (an editor key): link and unlink an asset and a product, and choose
// a product's primary image for every channel or for one. The product page and the asset
// page each add one panel from here; after a change the page reloads itself (`onChange`), so
// what it shows is what search now shows.
import { api, ApiError, isAbort } from "./api.js";
import { assetHref, productHref, thumbnail } from "./cards.js";
import { h, valueText } from "./dom.js";

// The outcome of the last change, shown again once the page has reloaded after it.
let lastOutcome = { target: "", text: "" };

const EDITOR_NEEDED = "Changing links needs an editor key (or an admin key). A viewer or reviewer key can see links but not change them.";

/** The message for a failed change: the server's detail, and what to do about a role refusal. */
function failure(err) {
  if (err && (err.name === "KeyCancelled" || (err instanceof ApiError && (err.status === 401 || err.status === 403)))) {
    return `${EDITOR_NEEDED}${err instanceof ApiError && err.detail ? ` (${err.detail})` : ""}`;
  }
  return err && err.detail ? String(err.detail) : String((err && err.message) || err);
}

/** Run one change; say what happened in `status`, then let the page reload. */
async function change(status, doing, call, onChange) {
  status.className = "link-status muted";
  status.textContent = `${doing}…`;
  try {
    await call();
    status.textContent = `${doing}: done.`;
    lastOutcome = { target: status.dataset.target, text: status.textContent };
    if (onChange) await onChange();
  } catch (err) {
    if (isAbort(err)) return;
    status.className = "link-status error";
    status.textContent = failure(err);
  }
}

/** The panel's status line: the outcome of the last change to this target, else a hint. */
function statusLine(target) {
  const text = lastOutcome.target === target ? lastOutcome.text : "Editors can link, unlink and choose the primary image here.";
  return h("p", { class: "link-status muted", dataset: { target }, attrs: { role: "status", "aria-live": "polite" }, text });
}

function howBadge(how) {
  return h("span", { class: `badge ${how === "manual" ? "badge-ok" : ""}`, text: valueText(how || "linked") });
}

function skuOf(link) {
  return String(link && typeof link === "object" ? link.sku : link);
}

/** The product page's panel: each linked asset with how it was linked, whether it is the
 * primary image (for every channel or for a channel), and buttons to change that; a search
 * for assets to link. */
export function productLinksPanel(product, onChange) {
  const sku = String(product.sku);
  const status = statusLine(`product:${sku}`);
  const assets = Array.isArray(product.assets) ? product.assets : [];
  const primaries = product.primary_images && typeof product.primary_images === "object" ? product.primary_images : {};
  const channels = Array.isArray(product.channels) ? product.channels.map(String) : [];
  const primaryOf = (id) => Object.entries(primaries).filter(([, a]) => a === id).map(([c]) => (c ? c : "every channel"));
  const path = `/api/products/${encodeURIComponent(sku)}/primary-image`;
  const rows = assets.filter((a) => (a.product_skus || []).some((l) => skuOf(l) === sku)).map((a) => {
    const link = (a.product_skus || []).find((l) => skuOf(l) === sku) || {};
    const channel = h("select", { attrs: { "aria-label": `Channel for ${a.filename || a.id}` } },
      h("option", { value: "", text: "every channel" }), channels.map((c) => h("option", { value: c, text: c })));
    const primary = primaryOf(a.id);
    return h("tr", { dataset: { asset: a.id } },
      h("td", { dataset: { label: "Image" } }, h("a", { href: assetHref(a.id), class: "link-thumb", tabIndex: -1, attrs: { "aria-label": `Open ${a.title || a.filename || a.id}` } }, thumbnail(a.thumbnail, a.media_type, "tile-img"))),
      h("td", { dataset: { label: "File" } }, h("a", { href: assetHref(a.id), text: a.title || a.filename || a.id })),
      h("td", { dataset: { label: "Linked by" } }, howBadge(link.how)),
      h("td", { dataset: { label: "Primary" } }, primary.length ? h("span", { class: "badge badge-product", text: `primary: ${primary.join(", ")}` }) : h("span", { class: "muted", text: "—" })),
      h("td", { dataset: { label: "Actions" } }, h("div", { class: "link-actions" },
        channel,
        h("button", { type: "button", class: "small", text: "Set primary", on: { click: () => change(status, `Making ${a.filename || a.id} the primary image`, () => api(path, { method: "PUT", json: { asset_id: a.id, channel: channel.value || null }, auth: true }), onChange) } }),
        h("button", { type: "button", class: "small", text: "Unlink", on: { click: () => change(status, `Unlinking ${a.filename || a.id}`, () => api(`/api/assets/${encodeURIComponent(a.id)}/links/${encodeURIComponent(sku)}`, { method: "DELETE", auth: true }), onChange) } }))));
  });
  const table = rows.length
    ? h("table", { class: "table stack link-table" },
      h("thead", {}, h("tr", {}, ["Image", "File", "Linked by", "Primary", "Actions"].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, rows))
    : h("p", { class: "muted", text: "No assets are linked to this product yet." });
  return h("section", { class: "panel links-panel", dataset: { sku } },
    h("h2", { text: "Manage links" }), table, findAndLink(sku, status, onChange), status);
}

/** A search for assets by word, each hit with a Link button. */
function findAndLink(sku, status, onChange) {
  const input = h("input", { type: "search", attrs: { placeholder: "Find assets to link (file name, words)", "aria-label": "Find assets to link" } });
  const results = h("ul", { class: "asset-strip link-results" });
  const find = async (event) => {
    event.preventDefault();
    const q = input.value.trim();
    if (!q) return;
    try {
      const body = await api(`/api/search?${new URLSearchParams({ q, type: "asset", mode: "keyword", size: "8" })}`);
      const hits = Array.isArray(body.hits) ? body.hits : [];
      results.replaceChildren(...(hits.length ? hits.map((hit) => h("li", {},
        h("div", { class: "asset-tile" }, thumbnail(hit.thumbnail, hit.media_type, "tile-img"), h("span", { class: "tile-title", text: hit.title || hit.filename || hit.id }),
          hit.filename && hit.filename !== hit.title ? h("span", { class: "muted small-text", text: hit.filename }) : null,
          h("button", { type: "button", class: "small", text: "Link", on: { click: () => change(status, `Linking ${hit.filename || hit.id} to ${sku}`, () => api(`/api/assets/${encodeURIComponent(hit.id)}/links`, { method: "POST", json: { sku }, auth: true }), onChange) } }))))
        : [h("li", { class: "muted", text: "No assets found." })]));
    } catch (err) {
      if (!isAbort(err)) results.replaceChildren(h("li", { class: "error", text: failure(err) }));
    }
  };
  return h("div", {}, h("form", { class: "link-find", on: { submit: find } }, input, h("button", { type: "submit", class: "small", text: "Find" })), results);
}

/** The asset page's panel: the products this asset is linked to, with how and an Unlink
 * button each, and a form to link it to another product by SKU. */
export function assetLinksPanel(asset, onChange) {
  const id = String(asset.id);
  const status = statusLine(`asset:${id}`);
  const links = Array.isArray(asset.product_skus) ? asset.product_skus : [];
  const list = links.length
    ? h("ul", { class: "plain-list" }, links.map((link) => {
      const sku = skuOf(link);
      return h("li", { dataset: { sku } }, h("a", { href: productHref(sku), text: sku }), " ", howBadge(link && link.how), " ",
        h("button", { type: "button", class: "small", text: "Unlink", on: { click: () => change(status, `Unlinking ${sku}`, () => api(`/api/assets/${encodeURIComponent(id)}/links/${encodeURIComponent(sku)}`, { method: "DELETE", auth: true }), onChange) } }));
    }))
    : h("p", { class: "muted", text: "Not linked to any product." });
  const input = h("input", { type: "text", attrs: { placeholder: "SKU, e.g. ASH-000004", "aria-label": "SKU to link" } });
  const form = h("form", { class: "link-find", on: { submit: (e) => {
    e.preventDefault();
    const sku = input.value.trim();
    if (sku) change(status, `Linking to ${sku}`, () => api(`/api/assets/${encodeURIComponent(id)}/links`, { method: "POST", json: { sku }, auth: true }), onChange);
  } } }, input, h("button", { type: "submit", class: "small", text: "Link to product" }));
  return h("section", { class: "panel links-panel", dataset: { asset: id } }, h("h2", { text: "Manage links" }), list, form, status);
}
