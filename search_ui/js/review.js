// The review queue: suggested tags grouped by tag ("are these all 'leather'?"), decided
// from the keyboard. j/k move, a/r accept/reject, Shift+A accepts the whole group, u undoes.
// Decisions show at once and are rolled back if the server refuses them.
import { api, isAbort, query } from "./api.js";
import { assetHref, productHref, thumbnail } from "./cards.js";
import { h } from "./dom.js";
import { emptyBox, errorBox, loadingBox, toast } from "./status.js";
import { tagLabels } from "./taxonomy.js";

const PAGE = 120;
const WORDS = { accept: "accepted", reject: "rejected" };

/** The page's items grouped by tag, in the order the queue ranks them; `groups` in the
 * answer carries each tag's count over the whole queue. */
function groupsOf(body) {
  const totals = new Map((Array.isArray(body.groups) ? body.groups : []).map((g) => [String(g.tag), Number(g.count) || 0]));
  const groups = new Map();
  for (const item of Array.isArray(body.items) ? body.items : []) {
    const tag = String(item.tag);
    if (!groups.has(tag)) groups.set(tag, []);
    groups.get(tag).push(item);
  }
  return [...groups.entries()].map(([tag, items]) => ({ tag, items, total: totals.get(tag) ?? items.length }));
}

function isTyping(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

export class ReviewView {
  constructor(root, nav) {
    this.root = root;
    this.nav = nav;
    this.items = []; // flat, in display order: { target, tag, ..., status, el }
    this.current = 0;
    this.undoStack = [];
    this.labels = new Map();
    this.chain = Promise.resolve();
    this.decided = 0;
    this.total = 0;
    this.onKey = (e) => this.key(e);
    document.addEventListener("keydown", this.onKey);
  }

  async update(state) {
    this.state = state;
    this.root.replaceChildren(h("h1", { text: "Review queue" }), loadingBox("Loading suggestions…"));
    try {
      const [body, labels] = await Promise.all([api(`/api/review/queue${query({ group: "tag", tag: state.tag, limit: PAGE })}`, { auth: true }), tagLabels()]);
      this.labels = labels;
      this.render(body);
    } catch (err) {
      if (!isAbort(err)) this.root.replaceChildren(h("h1", { text: "Review queue" }), errorBox(err, () => this.update(state)));
    }
  }

  render(body) {
    const groups = groupsOf(body);
    this.items = [];
    this.undoStack = [];
    this.decided = 0;
    this.total = Number(body.total) || groups.reduce((n, g) => n + g.items.length, 0);
    this.counter = h("p", { class: "progress-text", attrs: { role: "status", "aria-live": "polite" } });
    this.bar = h("progress", { max: 1, value: 0, attrs: { "aria-label": "Review progress" } });
    const sections = groups.map((group) => {
      const items = group.items.map((raw) => {
        const item = { ...raw, status: "pending", group: group.tag };
        item.el = this.itemElement(item);
        this.items.push(item);
        return item;
      });
      return h("section", { class: "review-group", attrs: { "aria-labelledby": `g-${this.items.length}` } },
        h("div", { class: "group-head" },
          h("div", {},
            h("h2", { id: `g-${this.items.length}`, title: group.tag }, "Are these all ", h("q", { class: "tag-name", text: this.labels.get(group.tag) || group.tag }), "?"),
            h("p", { class: "muted", text: `${items.length} shown here · ${group.total} open in all` })),
          h("button", { type: "button", class: "small", text: `Accept all ${items.length} (Shift+A)`, on: { click: () => this.decide(items.filter((i) => i.status === "pending"), "accept") } })),
        h("ul", { class: "review-items", attrs: { "aria-label": `Suggested “${this.labels.get(group.tag) || group.tag}”` } }, items.map((i) => i.el)));
    });
    this.root.replaceChildren(
      h("div", { class: "review-head" },
        h("h1", { text: "Review queue" }),
        h("div", { class: "review-progress" }, this.counter, this.bar)),
      h("details", { class: "keys" }, h("summary", { text: "Keyboard shortcuts" }),
        h("dl", { class: "facts" }, [["j / k", "next / previous"], ["a", "accept"], ["r", "reject"], ["Shift+A", "accept every open item in this group"], ["u", "undo the last decision"]]
          .map(([k, v]) => [h("dt", {}, h("kbd", { text: k })), h("dd", { text: v })]))),
      ...(sections.length ? sections : [emptyBox("Nothing to review.", "Every suggested tag has been decided. New images bring new suggestions.")]),
      h("div", { class: "review-foot" }, h("button", { type: "button", text: "Load the next suggestions", on: { click: () => this.update(this.state) } })));
    this.updateCounter();
    if (this.items.length) this.move(0, { focus: true });
  }

  itemElement(item) {
    const type = item.target && item.target.type;
    const id = String(item.target && item.target.id);
    const href = type === "product" ? productHref(id) : assetHref(id);
    const thumb = item.thumbnail || (type === "asset" ? `/api/assets/${encodeURIComponent(id)}/renditions/thumbnail` : null);
    const state = h("span", { class: "decision", text: "open" });
    const label = item.title || item.filename || (type === "product" ? id : `${type || "item"} ${id.slice(0, 8)}`);
    const el = h("li", {
      class: "review-item", tabIndex: -1,
      dataset: { targetType: type || "", targetId: id, tag: item.tag },
      attrs: { "aria-label": `${label}: ${this.labels.get(item.tag) || item.tag}? open` },
      on: { click: (e) => { if (!(e.target instanceof HTMLButtonElement) && !(e.target.closest && e.target.closest("a"))) this.move(this.items.indexOf(item), { focus: true }); } },
    },
    h("div", { class: "review-thumb" }, thumbnail(thumb, type || "", "review-img")),
    h("div", { class: "review-body" },
      h("a", { href, class: "review-title", tabIndex: -1, text: label, title: id }),
      h("p", { class: "muted", text: [item.source, typeof item.confidence === "number" ? `${Math.round(item.confidence * 100)}%` : null].filter(Boolean).join(" · ") }),
      state),
    h("div", { class: "review-actions" },
      h("button", { type: "button", class: "small accept", tabIndex: -1, text: "Accept", attrs: { "aria-label": `Accept ${this.labels.get(item.tag) || item.tag}` }, on: { click: () => this.decide([item], "accept") } }),
      h("button", { type: "button", class: "small reject", tabIndex: -1, text: "Reject", attrs: { "aria-label": `Reject ${this.labels.get(item.tag) || item.tag}` }, on: { click: () => this.decide([item], "reject") } })));
  item.stateEl = state;
  item.label = label;
  return el;
  }

  paint(item) {
    item.el.classList.toggle("is-accepted", item.status === "accept");
    item.el.classList.toggle("is-rejected", item.status === "reject");
    item.el.classList.toggle("is-saving", Boolean(item.saving));
    item.el.dataset.status = item.status;
    item.stateEl.textContent = item.status === "pending" ? "open" : `${WORDS[item.status]}${item.saving ? " (saving…)" : ""}`;
    item.el.setAttribute("aria-label", `${item.label}: ${this.labels.get(item.tag) || item.tag}? ${item.stateEl.textContent}`);
  }

  updateCounter() {
    this.counter.textContent = `${this.decided} of ${this.total} decided`;
    this.bar.value = this.total ? this.decided / this.total : 0;
  }

  move(index, { focus = false } = {}) {
    if (!this.items.length) return;
    this.current = Math.max(0, Math.min(this.items.length - 1, index));
    this.items.forEach((item, i) => {
      item.el.tabIndex = i === this.current ? 0 : -1;
      if (i === this.current) item.el.setAttribute("aria-current", "true"); else item.el.removeAttribute("aria-current");
      item.el.classList.toggle("is-current", i === this.current);
    });
    const el = this.items[this.current].el;
    if (focus) el.focus({ preventScroll: true });
    el.scrollIntoView({ block: "nearest" });
  }

  nextOpen(from) {
    for (let i = from + 1; i < this.items.length; i += 1) if (this.items[i].status === "pending") return i;
    for (let i = 0; i <= from && i < this.items.length; i += 1) if (this.items[i].status === "pending") return i;
    return Math.min(from + 1, this.items.length - 1);
  }

  key(e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target) || document.querySelector("dialog[open]")) return;
    if (!this.items.length) return;
    const item = this.items[this.current];
    const keyName = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    const act = {
      j: () => this.move(this.current + 1, { focus: true }),
      ArrowDown: () => this.move(this.current + 1, { focus: true }),
      k: () => this.move(this.current - 1, { focus: true }),
      ArrowUp: () => this.move(this.current - 1, { focus: true }),
      a: () => (e.shiftKey
        ? this.decide(this.items.filter((i) => i.group === item.group && i.status === "pending"), "accept")
        : this.decide([item], "accept")),
      r: () => this.decide([item], "reject"),
      u: () => this.undo(),
    }[keyName];
    if (!act) return;
    e.preventDefault();
    act();
  }

  /** Show the decisions now, send them, and roll back any the server refuses. The batch
   * goes on the undo stack at once, so `u` right after a key press undoes it (once saved). */
  decide(items, decision) {
    items = items.filter((i) => !i.saving && i.status !== decision);
    if (!items.length) return Promise.resolve();
    const entries = items.map((item) => ({ item, before: item.status }));
    for (const item of items) {
      if (item.status === "pending") this.decided += 1;
      item.status = decision;
      item.saving = true;
      this.paint(item);
    }
    this.updateCounter();
    this.move(this.nextOpen(this.items.indexOf(items[items.length - 1])), { focus: true });
    const batch = { entries, decision, settled: null };
    this.undoStack.push(batch);
    // Sent one batch at a time, so the server sees decisions in the order they were made
    // (its undo takes back the caller's latest one).
    batch.settled = this.chain.then(() => this.send(batch));
    this.chain = batch.settled;
    return batch.settled;
  }

  async send(batch) {
    const { entries, decision } = batch;
    const payload = entries.map(({ item }) => ({ target: item.target, tag: item.tag, decision }));
    let failed = [];
    try {
      const body = await api("/api/review/decisions", { method: "POST", json: payload, auth: true });
      const results = Array.isArray(body && body.results) ? body.results : [];
      failed = results.filter((r) => r && r.ok === false).map((r) => ({ index: r.index, error: r.error }));
    } catch (err) {
      failed = entries.map((_, index) => ({ index, error: err.detail || err.message }));
    }
    const refused = new Set(failed.map((f) => f.index));
    entries.forEach(({ item, before }, index) => {
      item.saving = false;
      if (refused.has(index)) {
        item.status = before;
        if (before === "pending") this.decided -= 1;
      }
      this.paint(item);
    });
    batch.entries = entries.filter((_, index) => !refused.has(index));
    if (!batch.entries.length) this.undoStack = this.undoStack.filter((b) => b !== batch);
    this.updateCounter();
    if (failed.length) {
      toast(`${failed.length} decision${failed.length === 1 ? "" : "s"} not saved: ${failed[0].error || "refused"}`, { error: true });
    } else {
      const tag = entries[0].item.tag;
      toast(entries.length === 1 ? `“${this.labels.get(tag) || tag}” ${WORDS[decision]}` : `${entries.length} tags ${WORDS[decision]}`);
    }
  }

  /** Undo the last batch, in turn with the decisions being sent (the server takes back
   * the caller's latest decision, so the order must hold). */
  undo() {
    const batch = this.undoStack.pop();
    if (!batch) {
      toast("Nothing to undo.");
      return Promise.resolve();
    }
    this.chain = this.chain.then(() => this.sendUndo(batch));
    return this.chain;
  }

  /** Show the batch open again at once; whatever the server could not undo is shown decided again. */
  async sendUndo(batch) {
    if (!batch.entries.length) {
      toast("Nothing to undo.");
      return;
    }
    for (const { item, before } of batch.entries) {
      if (before === "pending" && item.status !== "pending") this.decided -= 1;
      item.status = before;
      this.paint(item);
    }
    this.updateCounter();
    this.move(this.items.indexOf(batch.entries[0].item), { focus: true });
    let left = batch.entries.length; // one call per decision, newest first
    try {
      while (left > 0) {
        await api("/api/review/undo", { method: "POST", auth: true, json: {} });
        left -= 1;
      }
      toast(`Undone: ${batch.entries.length} decision${batch.entries.length === 1 ? "" : "s"}`);
    } catch (err) {
      const kept = batch.entries.slice(0, left);
      for (const { item } of kept) {
        if (item.status === "pending") this.decided += 1;
        item.status = batch.decision;
        this.paint(item);
      }
      this.undoStack.push({ entries: kept, decision: batch.decision, settled: Promise.resolve() });
      this.updateCounter();
      toast(`Undo failed: ${err.detail || err.message}`, { error: true });
    }
  }

  unmount() {
    document.removeEventListener("keydown", this.onKey);
  }
}
