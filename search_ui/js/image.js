// Find by image: drop or paste an image anywhere (or pick one) -> POST /api/search/image;
// "more like this" -> GET /api/assets/{id}/similar. Both show similar assets first, with
// filters and facets and near-duplicates grouped (image_results.js), and the products
// they belong to below them.
import { api, isAbort, query } from "./api.js";
import { productHref, thumbnail } from "./cards.js";
import { h } from "./dom.js";
import { ImageResults, imageParams } from "./image_results.js";
import { parse } from "./state.js";
import { emptyBox, errorBox, loadingBox, toast } from "./status.js";

const MAX_MB = 50;

/** Products to show beside the assets: the answer's own list, or the SKUs the assets link to. */
function productsOf(body, hits) {
  const own = body && !Array.isArray(body) && body.products;
  if (Array.isArray(own) && own.length) {
    return own.map((p) => ({ sku: String(p.sku ?? p.id ?? p.key ?? ""), title: p.title || p.name || "", thumbnail: p.thumbnail })).filter((p) => p.sku);
  }
  const seen = new Map();
  for (const hit of hits) {
    for (const link of Array.isArray(hit.product_skus) ? hit.product_skus : []) {
      const sku = String(typeof link === "object" && link ? link.sku : link);
      if (sku && !seen.has(sku)) seen.set(sku, { sku, title: "", thumbnail: null });
    }
  }
  return [...seen.values()];
}

function productList(body) {
  return (hits) => {
    const products = productsOf(body, hits);
    if (!products.length) return null;
    return h("section", { class: "panel related-products", attrs: { "aria-labelledby": "related-title" } },
      h("h2", { id: "related-title", text: "Products they belong to" }),
      h("ul", { class: "product-list" }, products.slice(0, 24).map((p) => h("li", {},
        h("a", { href: productHref(p.sku), class: "product-link" },
          p.thumbnail ? thumbnail(p.thumbnail, "", "mini-img") : null,
          h("span", { text: p.title ? `${p.title} (${p.sku})` : p.sku }))))));
  };
}

/** The view for an image the user dropped. The image (as sent) and each answer are kept in
 * history.state, so Back and Forward redraw without sending it again, and a filter sends
 * the same image again with the filters in the URL. */
export class ImageView {
  constructor(root, nav) {
    this.root = root;
    this.nav = nav;
    this.results = new ImageResults((state) => {
      const saved = history.state && history.state.imageSearch;
      if (saved && saved.query) submit(saved, state, nav, () => this.update(parse()));
      else toast("Drop the image again to filter its results.", { error: true });
    });
  }

  update(state) {
    const saved = history.state && history.state.imageSearch;
    if (!saved) {
      this.root.replaceChildren(h("h1", { text: "Find by image" }),
        emptyBox("Drop or paste an image anywhere on the page.", "Or use the “Find by image” button at the top to pick a file."));
      return;
    }
    const head = h("div", { class: "view-head" },
      saved.preview ? h("img", { class: "query-img", alt: "The image you searched with", src: saved.preview }) : null,
      h("div", {}, h("h1", { text: "Similar to your image" }), h("p", { class: "muted", text: saved.name || "" })));
    if (saved.pending) this.root.replaceChildren(head, loadingBox("Looking for similar images…"));
    else if (saved.error) this.root.replaceChildren(head, errorBox(saved.error));
    else {
      this.root.replaceChildren(head, this.results.element);
      this.results.render(state, saved.body, productList(saved.body));
    }
  }

  unmount() {
    this.results.toggleSidebar(false);
  }
}

export class SimilarView {
  constructor(root, nav) {
    this.root = root;
    this.controller = null;
    this.results = new ImageResults((state) => nav(state));
  }

  async update(state) {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    const id = state.similar;
    const head = h("div", { class: "view-head" },
      thumbnail(`/api/assets/${encodeURIComponent(id)}/renditions/thumbnail`, "", "query-img"),
      h("div", {}, h("h1", { text: "More like this" }),
        h("p", {}, "Assets similar to ", h("a", { href: `?asset=${encodeURIComponent(id)}`, text: id }))));
    if (this.root.firstChild?.classList?.contains("view-head")) this.root.firstChild.replaceWith(head);
    else this.root.replaceChildren(head, loadingBox("Finding similar assets…"));
    try {
      const params = { ...imageParams(state), group: "true" };
      const body = await api(`/api/assets/${encodeURIComponent(id)}/similar${query(params)}`, { signal: controller.signal });
      if (controller.signal.aborted) return;
      this.root.replaceChildren(head, this.results.element);
      await this.results.render(state, body, productList(body));
    } catch (err) {
      if (!isAbort(err)) this.root.replaceChildren(head, errorBox(err, () => this.update(state)));
    }
  }

  unmount() {
    this.controller?.abort();
    this.results.toggleSidebar(false);
  }
}

function firstImage(list) {
  for (const item of list || []) {
    const file = item.kind === "file" ? item.getAsFile() : item;
    if (file && /^image\//.test(file.type)) return file;
  }
  return null;
}

function preview(file) {
  // A small data: URL survives in history.state (a blob: URL would die with the page).
  return new Promise((resolve) => {
    const img = new Image();
    const url = URL.createObjectURL(file);
    img.onload = () => {
      const scale = Math.min(1, 160 / Math.max(img.width, img.height));
      const canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(img.width * scale));
      canvas.height = Math.max(1, Math.round(img.height * scale));
      canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
      URL.revokeObjectURL(url);
      resolve(canvas.toDataURL("image/jpeg", 0.8));
    };
    img.onerror = () => { URL.revokeObjectURL(url); resolve(null); };
    img.src = url;
  });
}

const KEEP_BYTES = 1.5 * 1024 * 1024; // a file up to this is kept (and re-sent) as it is

function readDataUrl(blob) {
  return new Promise((resolve) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => resolve(null);
    reader.readAsDataURL(blob);
  });
}

/** The image as it is sent and kept for filtering: the file itself when small, else at
 * most 512 px on its longest side (the server reads no more) as a JPEG. */
async function queryImage(file) {
  if (file.size <= KEEP_BYTES) return readDataUrl(file);
  return new Promise((resolve) => {
    const img = new Image();
    const url = URL.createObjectURL(file);
    img.onload = () => {
      const scale = Math.min(1, 512 / Math.max(img.width, img.height));
      const canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(img.width * scale));
      canvas.height = Math.max(1, Math.round(img.height * scale));
      canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
      URL.revokeObjectURL(url);
      resolve(canvas.toDataURL("image/jpeg", 0.92));
    };
    img.onerror = () => { URL.revokeObjectURL(url); resolve(null); };
    img.src = url;
  });
}

function dataUrlBlob(dataUrl) {
  // Decoded here: the page's CSP lets fetch() reach only the API, not data: URLs.
  const [head, b64] = dataUrl.split(",", 2);
  const type = (/^data:([^;,]+)/.exec(head) || [])[1] || "application/octet-stream";
  return new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], { type });
}

/** Send the kept image with the filters of `state`; the answer goes into the history entry
 * made for it (only if the user is still there). */
async function submit(base, state, nav, redraw, file = null) {
  const token = `${Date.now()}-${Math.random()}`;
  const kept = { query: base.query, preview: base.preview, name: base.name };
  nav({ ...state, view: "image" }, { historyState: { imageSearch: { ...kept, pending: true, token } } });
  const form = new FormData();
  form.append("file", file || dataUrlBlob(base.query), base.name || "pasted-image.png");
  for (const [key, value] of Object.entries(imageParams(state))) {
    for (const v of Array.isArray(value) ? value : [value]) form.append(key, v);
  }
  let saved;
  try {
    saved = { ...kept, body: await api("/api/search/image", { method: "POST", form }) };
  } catch (err) {
    if (isAbort(err)) return;
    saved = { ...kept, error: { status: err.status, detail: err.detail || err.message } };
  }
  if (history.state && history.state.imageSearch && history.state.imageSearch.token === token) {
    history.replaceState({ imageSearch: saved }, "", location.href);
    redraw();
  }
}

/** Send an image and show the answer in the image view (`redraw` repaints the current view). */
export async function searchByImage(file, nav, redraw) {
  if (file.size > MAX_MB * 1024 * 1024) {
    toast(`That image is larger than ${MAX_MB} MB.`, { error: true });
    return;
  }
  const name = file.name || "pasted image";
  const [small, kept] = await Promise.all([preview(file), queryImage(file)]);
  // A picture the browser cannot redraw (a TIFF) is sent as it is, once: it cannot be filtered.
  await submit({ query: kept, preview: small, name }, { view: "image", filters: {}, ranges: {} }, nav, redraw, kept ? null : file);
}

/** Drop or paste an image anywhere; a visible overlay while dragging. */
export function installImageDrop(nav, redraw) {
  const overlay = document.getElementById("drop-overlay");
  let depth = 0;
  // A view that takes files itself (Imports) marks <main data-drop-files>: drops and pastes stay there.
  const ownedByView = () => Boolean(document.getElementById("main")?.dataset.dropFiles);
  const hasFiles = (e) => e.dataTransfer && [...e.dataTransfer.types].includes("Files") && !ownedByView();
  document.addEventListener("dragenter", (e) => { if (!hasFiles(e)) return; depth += 1; overlay.hidden = false; });
  document.addEventListener("dragleave", () => { depth = Math.max(0, depth - 1); if (!depth) overlay.hidden = true; });
  document.addEventListener("dragover", (e) => { if (hasFiles(e)) e.preventDefault(); });
  document.addEventListener("drop", (e) => {
    depth = 0;
    overlay.hidden = true;
    if (!e.dataTransfer || ownedByView()) return;
    const file = firstImage(e.dataTransfer.items && e.dataTransfer.items.length ? e.dataTransfer.items : e.dataTransfer.files);
    if (!file) {
      if (e.dataTransfer.files && e.dataTransfer.files.length) { e.preventDefault(); toast("That is not an image.", { error: true }); }
      return;
    }
    e.preventDefault();
    searchByImage(file, nav, redraw);
  });
  document.addEventListener("paste", (e) => {
    if (ownedByView()) return;
    const file = firstImage(e.clipboardData && e.clipboardData.files);
    if (!file) return;
    e.preventDefault();
    searchByImage(file, nav, redraw);
  });
  const input = document.getElementById("image-input");
  document.getElementById("image-button").addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    const file = firstImage(input.files);
    input.value = "";
    if (file) searchByImage(file, nav, redraw);
    else toast("Pick an image file.", { error: true });
  });
}
