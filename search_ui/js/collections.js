// Collections: the Collections page (the tree, a collection's contents a page at a time,
// rename, delete, new collections, download as zip) and the pieces other pages use: the
// asset page's "Collections" panel and "Add to collection" for a search selection.
import { api, download, query } from "./api.js";
import { grid } from "./cards.js";
import { h } from "./dom.js";
import { getKey } from "./key.js";
import { emptyBox, errorBox, loadingBox, toast } from "./status.js";

export const CONTENTS_PAGE = 24;

/** Every collection, flattened in tree order, each with its depth. */
export async function fetchCollections(signal) {
  const body = await api("/api/collections", { signal });
  const flat = [];
  const walk = (nodes, depth) => {
    for (const node of Array.isArray(nodes) ? nodes : []) {
      flat.push({ ...node, depth });
      walk(node.children, depth + 1);
    }
  };
  walk(body.collections, 0);
  return { tree: Array.isArray(body.collections) ? body.collections : [], flat };
}

/** A <select> of collections by path; `blank` adds a first option with value "". */
export function collectionSelect(flat, { id, blank = null, selected = "" } = {}) {
  return h("select", { id, name: "collection" },
    blank !== null ? h("option", { value: "", text: blank }) : null,
    flat.map((c) => h("option", { value: c.id, text: c.path, selected: c.id === selected })));
}

export async function changeMembers(collectionId, { add = [], remove = [] }) {
  const body = await api(`/api/collections/${encodeURIComponent(collectionId)}/assets`, { method: "POST", auth: true, json: { add, remove } });
  const failed = (body.results || []).filter((r) => !r.ok);
  return { body, failed };
}

export async function createCollection(name, parent) {
  return api("/api/collections", { method: "POST", auth: true, json: { name, parent: parent || null } });
}

/** A "Remove" button that takes asset `assetId` out of the collection, says `done` and calls
 * `then()`; on a refusal it says why and can be pressed again. */
function removeButton(collectionId, assetId, { label, done, then, className = "" }) {
  const button = h("button", {
    type: "button", class: `small ${className}`.trim(), text: "Remove", attrs: { "aria-label": label },
    on: { click: async () => {
      button.disabled = true;
      try {
        await changeMembers(collectionId, { remove: [assetId] });
        toast(done);
        then();
      } catch (err) {
        toast(`Not removed: ${err.detail || err.message}`, { error: true });
        button.disabled = false;
      }
    } },
  });
  return button;
}

/** Add `ids` to the collection picked in `select` (or to a new one named in `nameInput`). */
export async function addPicked(select, nameInput, ids) {
  let target = select.value;
  let path = select.selectedOptions[0] ? select.selectedOptions[0].textContent : "";
  const name = nameInput ? nameInput.value.trim() : "";
  if (name) {
    const made = await createCollection(name, null);
    target = made.id;
    path = made.path;
  }
  if (!target) throw new Error("Pick a collection or name a new one.");
  const { body, failed } = await changeMembers(target, { add: ids });
  const added = (body.results || []).filter((r) => r.ok && r.changed).length;
  return { path, added, failed };
}

/** The asset page's Collections panel: where it is, remove it, add it to another. */
export function assetCollectionsPanel(asset, onChange) {
  const body = h("div", { class: "asset-collections" }, loadingBox("Loading collections…"));
  fetchCollections().then(({ flat }) => {
    const byPath = new Map(flat.map((c) => [c.path, c]));
    const mine = Array.isArray(asset.collections) ? asset.collections : [];
    const list = mine.length
      ? h("ul", { class: "member-list" }, mine.map((path) => {
        const c = byPath.get(path);
        return h("li", {},
          c ? h("a", { href: collectionHref(c.id), text: path }) : h("span", { text: path }),
          c ? removeButton(c.id, asset.id, { label: `Remove from ${path}`, done: `Removed from “${path}”.`, then: onChange }) : null);
      }))
      : h("p", { class: "muted", text: "In no collection." });
    const others = flat.filter((c) => !mine.includes(c.path));
    const select = collectionSelect(others, { id: "add-to-collection", blank: others.length ? "Choose a collection" : "No other collections" });
    const name = h("input", { type: "text", id: "new-collection-name", name: "new-collection", maxLength: 200, placeholder: "or a new collection’s name" });
    const form = h("form", { class: "add-collection", on: { submit: async (e) => {
      e.preventDefault();
      try {
        const { path, failed } = await addPicked(select, name, [asset.id]);
        if (failed.length) throw new Error(failed[0].error);
        toast(`Added to “${path}”.`);
        onChange();
      } catch (err) {
        toast(`Not added: ${err.detail || err.message}`, { error: true });
      }
    } } },
    h("label", { htmlFor: "add-to-collection", text: "Add to collection" }), select,
    h("label", { htmlFor: "new-collection-name", class: "visually-hidden", text: "New collection name" }), name,
    h("button", { type: "submit", text: "Add" }));
    body.replaceChildren(list, form);
  }).catch((err) => body.replaceChildren(errorBox(err)));
  return body;
}

export function collectionHref(id, page = 1) {
  return `?${new URLSearchParams({ view: "collections", collection: id, ...(page > 1 ? { page: String(page) } : {}) })}`;
}

function treeList(nodes, selected) {
  if (!nodes.length) return null;
  return h("ul", { class: "tree" }, nodes.map((node) => h("li", {},
    h("a", { href: collectionHref(node.id), attrs: { "aria-current": node.id === selected ? "page" : false } },
      h("span", { class: "tree-name", text: node.name }), h("span", { class: "count", text: String(node.count ?? 0) })),
    treeList(Array.isArray(node.children) ? node.children : [], selected))));
}

export class CollectionsView {
  constructor(root, nav) {
    this.root = root;
    this.nav = nav;
    this.controller = null;
  }

  async update(state) {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    this.state = state;
    this.root.replaceChildren(h("h1", { text: "Collections" }), loadingBox("Loading collections…"));
    try {
      const { tree, flat } = await fetchCollections(controller.signal);
      if (controller.signal.aborted) return;
      const current = flat.find((c) => c.id === state.collection) || null;
      this.render(tree, flat, current);
      if (current) await this.loadContents(current, state.page, controller.signal);
    } catch (err) {
      if (err && err.name === "AbortError") return;
      this.root.replaceChildren(h("h1", { text: "Collections" }), errorBox(err, () => this.update(state)));
    }
  }

  refresh() {
    this.update(this.state);
  }

  render(tree, flat, current) {
    this.contents = h("div", { class: "collection-contents" });
    const side = h("nav", { class: "collection-tree panel", attrs: { "aria-label": "Collection tree" } },
      h("h2", { text: "All collections" }),
      treeList(tree, current && current.id) || h("p", { class: "muted", text: "No collections yet." }),
      this.createForm(flat, current));
    const mainPart = current
      ? h("section", { class: "collection-main", attrs: { "aria-labelledby": "collection-title" } },
        h("h2", { id: "collection-title", class: "collection-title", text: current.path }),
        h("div", { class: "collection-actions" },
          this.downloadLink(current),
          this.renameForm(current), this.deleteControl(current)),
        this.contents)
      : h("section", { class: "collection-main" }, emptyBox("Pick a collection.", "Its assets appear here; add assets from an asset's page or from a selection of search results."));
    this.root.replaceChildren(h("h1", { text: "Collections" }), h("div", { class: `collections-layout${current ? " has-current" : ""}` }, side, mainPart));
  }

  /** "Download as zip": a plain link without a key (the browser streams it to disk), else
   * fetched with the key (`download`), so the zip holds what the caller may see. */
  downloadLink(current) {
    const href = `/api/collections/${encodeURIComponent(current.id)}/download`;
    const link = h("a", { class: "button", href, download: "", text: "Download as zip" });
    link.addEventListener("click", async (e) => {
      if (!getKey()) return;
      e.preventDefault();
      if (link.getAttribute("aria-busy") === "true") return;
      link.setAttribute("aria-busy", "true");
      link.textContent = "Preparing zip…";
      try {
        await download(href, `${current.name}.zip`);
      } catch (err) {
        toast(`Not downloaded: ${err.detail || err.message}`, { error: true });
      } finally {
        link.removeAttribute("aria-busy");
        link.textContent = "Download as zip";
      }
    });
    return link;
  }

  createForm(flat, current) {
    const name = h("input", { type: "text", id: "collection-new", name: "name", required: true, maxLength: 200 });
    const parent = collectionSelect(flat, { id: "collection-parent", blank: "(top level)", selected: current ? current.id : "" });
    return h("form", { class: "collection-form", on: { submit: async (e) => {
      e.preventDefault();
      try {
        const made = await createCollection(name.value.trim(), parent.value);
        toast(`Created “${made.path}”.`);
        this.nav({ view: "collections", collection: made.id, page: 1 });
      } catch (err) {
        toast(`Not created: ${err.detail || err.message}`, { error: true });
      }
    } } },
    h("h3", { text: "New collection" }),
    h("label", { htmlFor: "collection-new", text: "Name" }), name,
    h("label", { htmlFor: "collection-parent", text: "Inside" }), parent,
    h("button", { type: "submit", text: "Create" }));
  }

  renameForm(current) {
    const input = h("input", { type: "text", id: "collection-rename", value: current.name, required: true, maxLength: 200 });
    return h("form", { class: "inline-form", on: { submit: async (e) => {
      e.preventDefault();
      try {
        await api(`/api/collections/${encodeURIComponent(current.id)}`, { method: "PATCH", auth: true, json: { name: input.value.trim() } });
        toast("Renamed.");
        this.refresh();
      } catch (err) {
        toast(`Not renamed: ${err.detail || err.message}`, { error: true });
      }
    } } },
    h("label", { htmlFor: "collection-rename", class: "visually-hidden", text: "New name" }), input,
    h("button", { type: "submit", text: "Rename" }));
  }

  /** Delete in two steps (no browser dialog): the first press asks, the second deletes. */
  deleteControl(current) {
    const box = h("span", { class: "delete-control" });
    const ask = () => box.replaceChildren(
      h("span", { attrs: { role: "alert" }, text: `Delete “${current.path}” and its sub-collections? The assets stay. ` }),
      h("button", { type: "button", class: "danger", text: "Yes, delete", on: { click: async () => {
        try {
          await api(`/api/collections/${encodeURIComponent(current.id)}`, { method: "DELETE", auth: true });
          toast(`Deleted “${current.path}”.`);
          this.nav({ view: "collections", collection: "", page: 1 });
        } catch (err) {
          toast(`Not deleted: ${err.detail || err.message}`, { error: true });
        }
      } } }), " ",
      h("button", { type: "button", text: "Keep it", on: { click: () => idle() } }));
    const idle = () => box.replaceChildren(h("button", { type: "button", text: "Delete…", on: { click: ask } }));
    idle();
    return box;
  }

  async loadContents(current, page, signal) {
    this.contents.replaceChildren(loadingBox("Loading its assets…"));
    const offset = (page - 1) * CONTENTS_PAGE;
    const body = await api(`/api/collections/${encodeURIComponent(current.id)}/assets${query({ offset, size: CONTENTS_PAGE })}`, { signal });
    const items = Array.isArray(body.items) ? body.items : [];
    const total = Number(body.total) || 0;
    const pages = Math.max(1, Math.ceil(total / CONTENTS_PAGE));
    const status = h("p", { class: "result-status", attrs: { role: "status" }, dataset: { total: String(total) },
      text: total ? `${total} asset${total === 1 ? "" : "s"} · page ${page} of ${pages}` : "" });
    if (!items.length) {
      this.contents.replaceChildren(status, emptyBox(total ? `Page ${page} is past the end.` : "This collection holds no assets itself.",
        "Add assets from an asset's page, or select search results and use “Add to collection”."));
      return;
    }
    const cards = grid(items);
    for (const card of cards.querySelectorAll(".card")) {
      const id = card.dataset.id;
      const title = card.querySelector(".card-title")?.textContent || id;
      card.querySelector(".card-body").append(removeButton(current.id, id, {
        label: `Remove ${title} from this collection`, done: `Removed “${title}”.`, then: () => this.refresh(), className: "remove-member",
      }));
    }
    const go = (p) => () => this.nav({ view: "collections", collection: current.id, page: p });
    const pager = pages > 1 ? h("nav", { class: "pager", attrs: { "aria-label": "Pages" } },
      h("button", { type: "button", text: "‹ Previous", disabled: page <= 1, on: { click: go(page - 1) } }),
      h("span", { class: "muted", text: ` Page ${page} of ${pages} ` }),
      h("button", { type: "button", text: "Next ›", disabled: page >= pages, on: { click: go(page + 1) } })) : null;
    this.contents.replaceChildren(...[status, cards, pager].filter(Boolean));
  }

  unmount() {
    this.controller?.abort();
  }
}
