// Selecting asset results on the search page: a checkbox on each asset card, and a bar
// that adds the selection to a collection in one request. The selection lasts while the
// page is open (across result pages), so assets found by several searches can be gathered.
import { addPicked, collectionSelect, fetchCollections } from "./collections.js";
import { h } from "./dom.js";
import { toast } from "./status.js";

const selected = new Map(); // asset id -> title

function fillCollections(select) {
  fetchCollections().then(({ flat }) => {
    select.replaceChildren(h("option", { value: "", text: "Choose a collection" }), ...flat.map((c) => h("option", { value: c.id, text: c.path })));
  }).catch(() => { /* the new-name field still works; the add says why if not */ });
}

function selectionBar(results) {
  const select = collectionSelect([], { id: "selection-collection", blank: "Choose a collection" });
  const name = h("input", { type: "text", id: "selection-new", maxLength: 200, placeholder: "or a new collection’s name" });
  const count = h("span", { class: "selection-count", attrs: { role: "status" } });
  const form = h("form", { class: "selection-bar", attrs: { "aria-label": "Selected assets" } },
    count,
    h("label", { htmlFor: "selection-collection", class: "visually-hidden", text: "Collection" }), select,
    h("label", { htmlFor: "selection-new", class: "visually-hidden", text: "New collection name" }), name,
    h("button", { type: "submit", class: "primary", text: "Add to collection" }),
    h("button", { type: "button", class: "link-button", text: "Clear selection", on: { click: () => { selected.clear(); sync(); } } }));
  let filled = false;
  const sync = () => {
    for (const box of results.querySelectorAll(".select-asset input")) box.checked = selected.has(box.value);
    count.textContent = `${selected.size} selected`;
    form.hidden = selected.size === 0;
    if (!form.hidden && !filled) { filled = true; fillCollections(select); }
  };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const { path, added, failed } = await addPicked(select, name, [...selected.keys()]);
      const text = failed.length ? `Added ${added} to “${path}”; ${failed.length} refused: ${failed[0].error}` : `Added ${added} to “${path}”.`;
      toast(text, { error: Boolean(failed.length) });
      selected.clear();
      name.value = "";
      filled = false;
      sync();
    } catch (err) {
      toast(`Not added: ${err.detail || err.message}`, { error: true });
    }
  });
  return { form, sync };
}

/** Put a "Select" checkbox on each asset card under `results`, and the selection bar above them. */
export function selectAssets(results) {
  const cards = results.querySelectorAll(".card-asset");
  if (!cards.length) return;
  const bar = selectionBar(results);
  for (const card of cards) {
    const id = card.dataset.id;
    const title = card.querySelector(".card-title")?.textContent || id;
    const box = h("input", { type: "checkbox", value: id, on: { change: () => {
      if (box.checked) selected.set(id, title); else selected.delete(id);
      bar.sync();
    } } });
    card.querySelector(".card-body").prepend(h("label", { class: "select-asset" }, box, h("span", { text: "Select" }, h("span", { class: "visually-hidden", text: ` ${title}` }))));
  }
  results.prepend(bar.form);
  bar.sync();
}
