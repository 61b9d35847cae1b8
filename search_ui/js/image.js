// Find by image: drop or paste an image anywhere (or pick one) -> POST /api/search/image;
// "more like this" -> GET /api/assets/{id}/similar. Both show similar assets first and
// the products they belong to beside them.
import { api, isAbort } from "./api.js";
import { grid, productHref, thumbnail } from "./cards.js";
import { h } from "./dom.js";
import { emptyBox, errorBox, loadingBox, toast } from "./status.js";

const MAX_MB = 50;

/** The list of hits in a similarity answer, whatever the envelope calls it. */
function hitsOf(body) {
  const list = Array.isArray(body) ? body : body && (body.hits || body.items || body.assets || body.similar || body.results);
  return (Array.isArray(list) ? list : []).map((hit) => ({ type: "asset", ...hit, id: String(hit.id ?? hit.asset_id ?? "") }))
    .filter((hit) => hit.id);
}

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

function productList(products) {
  if (!products.length) return null;
  return h("section", { class: "panel related-products", attrs: { "aria-labelledby": "related-title" } },
    h("h2", { id: "related-title", text: "Products they belong to" }),
    h("ul", { class: "product-list" }, products.slice(0, 24).map((p) => h("li", {},
      h("a", { href: productHref(p.sku), class: "product-link" },
        p.thumbnail ? thumbnail(p.thumbnail, "", "mini-img") : null,
        h("span", { text: p.title ? `${p.title} (${p.sku})` : p.sku }))))));
}

function results(body) {
  const hits = hitsOf(body);
  if (!hits.length) return [emptyBox("No similar images found.", "Try another picture, or search by words instead.")];
  return [
    h("p", { class: "result-status", attrs: { role: "status" }, text: `${hits.length} similar asset${hits.length === 1 ? "" : "s"}, most similar first` }),
    grid(hits, { showScore: true }),
    productList(productsOf(body, hits)),
  ];
}

/** The view for an image the user dropped. Its answer is kept in history.state, so
 * Back and Forward redraw it without sending the image again. */
export class ImageView {
  constructor(root) {
    this.root = root;
  }

  update() {
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
    else this.root.replaceChildren(head, ...results(saved.body));
  }

  unmount() {}
}

export class SimilarView {
  constructor(root) {
    this.root = root;
    this.controller = null;
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
    this.root.replaceChildren(head, loadingBox("Finding similar assets…"));
    try {
      const body = await api(`/api/assets/${encodeURIComponent(id)}/similar?k=24&group=true`, { signal: controller.signal });
      this.root.replaceChildren(head, ...results(body));
    } catch (err) {
      if (!isAbort(err)) this.root.replaceChildren(head, errorBox(err, () => this.update(state)));
    }
  }

  unmount() {
    this.controller?.abort();
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

/** Send an image and show the answer in the image view (`redraw` repaints the current view). */
export async function searchByImage(file, nav, redraw) {
  if (file.size > MAX_MB * 1024 * 1024) {
    toast(`That image is larger than ${MAX_MB} MB.`, { error: true });
    return;
  }
  const name = file.name || "pasted image";
  const small = await preview(file);
  const token = `${Date.now()}-${Math.random()}`;
  nav({ view: "image" }, { historyState: { imageSearch: { pending: true, preview: small, name, token } } });
  const form = new FormData();
  form.append("file", file, file.name || "pasted-image.png");
  form.append("k", "24");
  let saved;
  try {
    const body = await api("/api/search/image", { method: "POST", form });
    saved = { body, preview: small, name };
  } catch (err) {
    if (isAbort(err)) return;
    saved = { error: { status: err.status, detail: err.detail || err.message }, preview: small, name };
  }
  // Only write the answer into the entry it belongs to (the user may have moved on).
  if (history.state && history.state.imageSearch && history.state.imageSearch.token === token) {
    history.replaceState({ imageSearch: saved }, "", location.href);
    redraw();
  }
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
