// The review queue: every open suggestion, most uncertain first, paged by the API's cursor
// (so "Load the next suggestions" never repeats one), narrowed by a picker whose state is
// in the URL. Decided from the keyboard (j/k move, a/r accept/reject, x select, Shift+A
// accepts the current tag's loaded items, u undoes) or in bulk: a selection is ONE request
// to POST /api/review/bulk, and its undo ONE request to POST /api/review/undo.
import { ROLE_HELP, api, isAbort, query } from "./api.js";
import { assetHref, productHref, thumbnail } from "./cards.js";
import { h } from "./dom.js";
import { askKey } from "./key.js";
import { describeFilter, number, pickerForm } from "./review_picker.js";
import { REVIEW_FIELDS } from "./state.js";
import { emptyBox, errorBox, loadingBox, toast } from "./status.js";
import { tagLabels } from "./taxonomy.js";

const PAGE = 60;
const WORDS = { accept: "accepted", reject: "rejected" };
const STATUS = { accepted: "accept", rejected: "reject" };

const keyOf = (item) => `${item.target && item.target.type}:${item.target && item.target.id}|${item.tag}`;

function isTyping(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

function filterOf(state) {
  const out = { tag: state.tag };
  for (const name of REVIEW_FIELDS) out[name] = state[name];
  return out;
}

export class ReviewView {
  constructor(root, nav) {
    this.root = root;
    this.nav = nav;
    this.items = []; // in queue order: { target, tag, ..., status, selected, el }
    this.seen = new Set();
    this.current = 0;
    this.undoStack = [];
    this.labels = new Map();
    this.chain = Promise.resolve();
    this.decided = 0;
    this.total = 0;
    this.openTotal = 0;
    this.cursor = null;
    this.onKey = (e) => this.key(e);
    this.onResize = () => this.stickBelowTopbar();
    document.addEventListener("keydown", this.onKey);
    window.addEventListener("resize", this.onResize);
  }

  async update(state) {
    this.state = state;
    this.filter = filterOf(state);
    this.root.replaceChildren(h("h1", { text: "Review queue" }), loadingBox("Loading suggestions…"));
    try {
      const [body, labels] = await Promise.all([
        api(`/api/review/queue${query({ ...this.filter, group: "tag", limit: PAGE })}`, { auth: true }), tagLabels()]);
      this.labels = labels;
      this.render(body);
    } catch (err) {
      if (!isAbort(err)) this.root.replaceChildren(h("h1", { text: "Review queue" }), this.refusal(err));
    }
  }

  /** Why the queue cannot be shown; a key of too small a role (or none) is explained. */
  refusal(err) {
    if (err && (err.status === 403 || err.name === "KeyCancelled")) {
      const again = () => askKey(`The review queue needs a reviewer key. ${ROLE_HELP}`).then(() => this.update(this.state), () => {});
      return h("div", { class: "state state-error", attrs: { role: "alert" } },
        h("p", { class: "state-title", text: "This page needs a reviewer key" }),
        h("p", { class: "state-detail", text: `${err.status === 403 ? `${err.detail}. ` : ""}${ROLE_HELP}` }),
        h("button", { type: "button", text: "Use another key", on: { click: again } }));
    }
    return errorBox(err, () => this.update(this.state));
  }

  render(body) {
    this.items = [];
    this.seen = new Set();
    this.undoStack = [];
    this.decided = 0;
    this.total = Number(body.total) || 0;
    this.openTotal = Number(body.open_total ?? body.total) || 0;
    this.counter = h("p", { class: "progress-text", attrs: { role: "status", "aria-live": "polite" } });
    this.bar = h("progress", { max: 1, value: 0, attrs: { "aria-label": "Review progress" } });
    this.list = h("ul", { class: "review-items", attrs: { "aria-label": "Open suggestions" } });
    this.foot = h("div", { class: "review-foot" });
    this.selectAll = h("input", { type: "checkbox", id: "select-all", on: { change: () => this.selectShown(this.selectAll.checked) } });
    this.acceptSelected = h("button", { type: "button", class: "small accept", text: "Accept selected", on: { click: () => this.decide(this.selection(), "accept") } });
    this.rejectSelected = h("button", { type: "button", class: "small reject", text: "Reject selected", on: { click: () => this.decide(this.selection(), "reject") } });
    const describe = describeFilter(this.state, this.labels);
    this.root.replaceChildren(
      h("h1", { text: "Review queue" }),
      pickerForm(this.state, body, this.labels, (filter) => this.nav({ view: "review", ...filter })),
      h("div", { class: "review-head" },
        h("div", { class: "review-progress" }, this.counter, this.bar),
        h("div", { class: "bulk-bar", attrs: { role: "group", "aria-label": "Bulk decisions" } },
          h("label", { class: "check", attrs: { for: "select-all" } }, this.selectAll, " Select all shown"),
          this.acceptSelected, this.rejectSelected,
          h("button", { type: "button", class: "small", text: "Accept all shown", on: { click: () => this.decide(this.openItems(), "accept") } }),
          h("button", { type: "button", class: "small", text: "Undo", attrs: { "aria-keyshortcuts": "u" }, on: { click: () => this.undo() } }))),
      h("details", { class: "keys" }, h("summary", { text: "Keyboard shortcuts" }),
        h("dl", { class: "facts" }, [["j / k", "next / previous"], ["a", "accept"], ["r", "reject"], ["x", "select or unselect"], ["Shift+A", "accept every loaded open item with this tag"], ["u", "undo the last decision"]]
          .map(([k, v]) => [h("dt", {}, h("kbd", { text: k })), h("dd", { text: v })]))),
      describe ? h("p", { class: "muted filter-line", text: `Showing open suggestions for ${describe}.` }) : "",
      this.list,
      this.foot);
    this.stickBelowTopbar();
    this.append(body);
    if (!this.items.length) this.list.replaceWith(this.doneBox());
    this.updateCounter();
    if (this.items.length) this.move(0, { focus: true });
  }

  /** The sticky counter sits just below the (sticky) top bar, whatever its height. */
  stickBelowTopbar() {
    const bar = document.querySelector(".topbar");
    this.root.style.setProperty("--sticky-top", `${bar ? bar.getBoundingClientRect().height : 0}px`);
  }

  /** Add a page's items (none repeated), and the cursor to the next page. */
  append(body) {
    this.cursor = body.cursor || null;
    for (const raw of Array.isArray(body.items) ? body.items : []) {
      const key = keyOf(raw);
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      const item = { ...raw, status: "pending", selected: false };
      item.el = this.itemElement(item);
      this.items.push(item);
      this.list.append(item.el);
    }
    this.paintFoot();
  }

  paintFoot() {
    const shown = h("p", { class: "muted", text: `${number(this.items.length)} of ${number(this.total)} loaded` });
    const more = this.cursor
      ? h("button", { type: "button", text: "Load the next suggestions", on: { click: () => this.loadMore() } })
      : this.items.length ? h("p", { class: "muted", text: "That is every open suggestion for this choice." }) : null;
    this.foot.replaceChildren(shown, more);
  }

  async loadMore({ focusFirst = true } = {}) {
    if (!this.cursor || this.loading) return;
    this.loading = true;
    const first = this.items.length;
    try {
      this.append(await api(`/api/review/queue${query({ ...this.filter, limit: PAGE, cursor: this.cursor })}`, { auth: true }));
      if (focusFirst && this.items.length > first) this.move(first, { focus: true });
    } catch (err) {
      if (!isAbort(err)) toast(`Could not load more: ${err.detail || err.message}`, { error: true });
    } finally {
      this.loading = false;
    }
  }

  /** The true "done" message for this choice, and how many remain elsewhere. */
  doneBox() {
    const describe = describeFilter(this.state, this.labels);
    const elsewhere = Math.max(0, this.openTotal - (this.total - this.decided));
    if (!describe) {
      return h("div", { class: "review-done" }, emptyBox("Every suggested tag has been decided.", "New images and imports bring new suggestions."));
    }
    return h("div", { class: "review-done" },
      emptyBox(`No open suggestions for ${describe}.`,
        elsewhere ? `${number(elsewhere)} open suggestion${elsewhere === 1 ? "" : "s"} remain elsewhere.` : "Nothing is open elsewhere either: every suggested tag has been decided."),
      elsewhere ? h("button", { type: "button", text: "Review all open suggestions", on: { click: () => this.nav({ view: "review" }) } }) : null);
  }

  itemElement(item) {
    const type = item.target && item.target.type;
    const id = String(item.target && item.target.id);
    const href = type === "product" ? productHref(id) : assetHref(id);
    const thumb = item.thumbnail || (type === "asset" ? `/api/assets/${encodeURIComponent(id)}/renditions/thumbnail` : null);
    const tagText = this.labels.get(item.tag) || item.tag;
    const label = item.title || item.filename || (type === "product" ? id : `${type || "item"} ${id.slice(0, 8)}`);
    const state = h("span", { class: "decision", text: "open" });
    const checkId = `sel-${this.items.length}-${Math.random().toString(36).slice(2, 7)}`;
    const check = h("input", { type: "checkbox", id: checkId, class: "select", tabIndex: -1, on: { change: () => { item.selected = check.checked; this.paintSelection(); } } });
    const el = h("li", {
      class: "review-item", tabIndex: -1,
      dataset: { targetType: type || "", targetId: id, tag: item.tag },
      attrs: { "aria-label": `${label}: ${tagText}? open` },
      on: { click: (e) => { if (!(e.target instanceof HTMLButtonElement) && !(e.target instanceof HTMLInputElement) && !(e.target.closest && e.target.closest("a, label"))) this.move(this.items.indexOf(item), { focus: true }); } },
    },
    h("div", { class: "review-thumb" }, thumbnail(thumb, type || "", "review-img")),
    h("div", { class: "review-body" },
      h("p", { class: "review-tag" }, h("q", { class: "tag-name", title: item.tag, text: tagText }), "?"),
      h("a", { href, class: "review-title", tabIndex: -1, text: label, title: id }),
      h("p", { class: "muted", text: [type === "product" ? "product" : "image", item.source, typeof item.confidence === "number" ? `${Math.round(item.confidence * 100)}%` : null].filter(Boolean).join(" · ") }),
      item.evidence ? h("p", { class: "review-evidence small-text", text: `Because ${item.evidence}` }) : null,
      h("label", { class: "check small-text", attrs: { for: checkId } }, check, " Select"),
      state),
    h("div", { class: "review-actions" },
      h("button", { type: "button", class: "small accept", tabIndex: -1, text: "Accept", attrs: { "aria-label": `Accept ${tagText} for ${label}` }, on: { click: () => this.decide([item], "accept") } }),
      h("button", { type: "button", class: "small reject", tabIndex: -1, text: "Reject", attrs: { "aria-label": `Reject ${tagText} for ${label}` }, on: { click: () => this.decide([item], "reject") } })));
    item.stateEl = state;
    item.check = check;
    item.label = label;
    return el;
  }

  paint(item) {
    item.el.classList.toggle("is-accepted", item.status === "accept");
    item.el.classList.toggle("is-rejected", item.status === "reject");
    item.el.classList.toggle("is-saving", Boolean(item.saving));
    item.el.dataset.status = item.status;
    const by = item.decidedBy && item.status !== "pending" && !item.saving ? ` by ${item.decidedBy}` : "";
    item.stateEl.textContent = item.status === "pending" ? "open" : `${item.already ? "already " : ""}${WORDS[item.status]}${by}${item.saving ? " (saving…)" : ""}`;
    item.check.disabled = item.status !== "pending";
    if (item.status !== "pending" && item.selected) {
      item.selected = false;
      item.check.checked = false;
    }
    item.el.setAttribute("aria-label", `${item.label}: ${this.labels.get(item.tag) || item.tag}? ${item.stateEl.textContent}`);
  }

  openItems() {
    return this.items.filter((i) => i.status === "pending" && !i.saving);
  }

  selection() {
    return this.items.filter((i) => i.selected && i.status === "pending");
  }

  selectShown(on) {
    for (const item of this.openItems()) {
      item.selected = on;
      item.check.checked = on;
    }
    this.paintSelection();
  }

  paintSelection() {
    const n = this.selection().length;
    this.acceptSelected.textContent = n ? `Accept ${n} selected` : "Accept selected";
    this.rejectSelected.textContent = n ? `Reject ${n} selected` : "Reject selected";
    this.acceptSelected.disabled = this.rejectSelected.disabled = n === 0;
    const open = this.openItems().length;
    this.selectAll.checked = open > 0 && n === open;
    this.selectAll.indeterminate = n > 0 && n < open;
  }

  updateCounter() {
    const open = Math.max(0, this.total - this.decided);
    this.counter.textContent = `${number(this.decided)} of ${number(this.total)} decided · ${number(open)} open`;
    this.bar.value = this.total ? this.decided / this.total : 0;
    this.paintSelection();
    const finished = this.items.length > 0 && !this.cursor && this.items.every((i) => i.status !== "pending" && !i.saving);
    const shown = this.foot.querySelector(".review-done");
    if (finished && !shown) this.foot.append(this.doneBox());
    else if (!finished && shown) shown.remove();
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
    const down = () => (this.current === this.items.length - 1 && this.cursor ? this.loadMore() : this.move(this.current + 1, { focus: true }));
    const act = {
      j: down,
      ArrowDown: down,
      k: () => this.move(this.current - 1, { focus: true }),
      ArrowUp: () => this.move(this.current - 1, { focus: true }),
      a: () => (e.shiftKey
        ? this.decide(this.openItems().filter((i) => i.tag === item.tag), "accept")
        : this.decide([item], "accept")),
      r: () => this.decide([item], "reject"),
      x: () => {
        if (item.status !== "pending") return;
        item.selected = !item.selected;
        item.check.checked = item.selected;
        this.paintSelection();
      },
      u: () => this.undo(),
    }[keyName];
    if (!act) return;
    e.preventDefault();
    act();
  }

  /** Show the decisions now, send them as ONE request, and roll back any the server refuses.
   * The batch goes on the undo stack at once, so `u` right after undoes it (once saved). */
  decide(items, decision) {
    items = items.filter((i) => !i.saving && i.status !== decision);
    if (!items.length) return Promise.resolve();
    const entries = items.map((item) => ({ item, before: item.status, beforeBy: item.decidedBy, entry: null }));
    for (const item of items) {
      if (item.status === "pending") this.decided += 1;
      item.status = decision;
      item.saving = true;
      this.paint(item);
    }
    this.updateCounter();
    this.move(this.nextOpen(this.items.indexOf(items[items.length - 1])), { focus: true });
    const batch = { entries, decision };
    this.undoStack.push(batch);
    // One batch at a time: an undo must find its batch's audit entries already written.
    batch.settled = this.chain.then(() => this.send(batch));
    this.chain = batch.settled;
    return batch.settled;
  }

  async send(batch) {
    const { entries, decision } = batch;
    // A decided item changed its mind (accept after reject) goes through the single-item API.
    const payload = { decision, items: entries.map(({ item }) => ({ target: item.target, tag: item.tag })) };
    let results = [];
    let failure = null;
    try {
      const fresh = entries.every(({ before }) => before === "pending");
      if (fresh) {
        const body = await api("/api/review/bulk", { method: "POST", json: payload, auth: true });
        results = Array.isArray(body && body.results) ? body.results : [];
      } else {
        await this.sendUndo({ entries: entries.filter((e) => e.before !== "pending").map((e) => ({ ...e, item: e.item, entry: e.item.entry })) }, { quiet: true, repaint: false });
        const body = await api("/api/review/bulk", { method: "POST", json: payload, auth: true });
        results = Array.isArray(body && body.results) ? body.results : [];
      }
    } catch (err) {
      failure = err.detail || err.message;
    }
    const refused = [];
    entries.forEach((entry, index) => {
      const { item, before } = entry;
      const result = results[index];
      item.saving = false;
      item.already = false;
      if (result && result.outcome === "decided") {
        entry.entry = result.entry;
        item.entry = result.entry;
        item.decidedBy = result.decided_by;
      } else if (result && result.outcome === "already_decided") {
        item.status = STATUS[result.status] || decision; // someone else decided it: show theirs
        item.decidedBy = result.decided_by;
        item.already = true;
      } else {
        refused.push(result ? result.error || result.outcome : failure || "refused");
        item.status = before;
        if (before === "pending") this.decided -= 1;
      }
      this.paint(item);
    });
    batch.entries = entries.filter((e) => e.entry !== null);
    if (!batch.entries.length) this.undoStack = this.undoStack.filter((b) => b !== batch);
    this.updateCounter();
    const saved = batch.entries.length;
    const already = entries.filter((e) => e.item.already).length;
    if (refused.length) {
      toast(`${refused.length} decision${refused.length === 1 ? "" : "s"} not saved: ${refused[0]}`, { error: true });
    } else if (already) {
      toast(`${saved} ${WORDS[decision]}; ${already} had already been decided by someone else`);
    } else {
      const tag = entries[0].item.tag;
      toast(saved === 1 ? `“${this.labels.get(tag) || tag}” ${WORDS[decision]}` : `${saved} tags ${WORDS[decision]}`);
    }
  }

  /** Undo the last batch, in turn with the decisions being sent. */
  undo() {
    const batch = this.undoStack.pop();
    if (!batch) {
      toast("Nothing to undo.");
      return Promise.resolve();
    }
    this.chain = this.chain.then(() => this.sendUndo(batch));
    return this.chain;
  }

  /** Show the batch open again at once, undo it in ONE request, and show decided again
   * whatever the server could not undo. */
  async sendUndo(batch, { quiet = false, repaint = true } = {}) {
    const entries = batch.entries.filter((e) => e.entry !== null && e.entry !== undefined);
    if (!entries.length) {
      if (!quiet) toast("Nothing to undo.");
      return;
    }
    const was = entries.map(({ item }) => item.status);
    if (repaint) {
      for (const { item } of entries) {
        if (item.status !== "pending") this.decided -= 1;
        item.status = "pending";
        item.decidedBy = null;
        this.paint(item);
      }
      this.updateCounter();
      this.move(this.items.indexOf(entries[0].item), { focus: true });
    }
    let results = [];
    let failure = null;
    try {
      const body = await api("/api/review/undo", { method: "POST", auth: true, json: { entry_ids: entries.map((e) => e.entry) } });
      results = Array.isArray(body && body.results) ? body.results : [];
    } catch (err) {
      failure = err.detail || err.message;
    }
    const kept = [];
    entries.forEach((entry, index) => {
      const result = results[index];
      if (result && (result.outcome === "undone" || result.outcome === "already_undone")) {
        entry.item.entry = null;
        return;
      }
      kept.push({ entry, error: result ? result.error || result.outcome : failure });
      if (repaint) {
        entry.item.status = was[index];
        this.decided += 1;
        this.paint(entry.item);
      }
    });
    if (repaint) this.updateCounter();
    if (kept.length) {
      if (repaint) this.undoStack.push({ entries: kept.map((k) => k.entry), decision: batch.decision });
      toast(`${kept.length} not undone: ${kept[0].error || "refused"}`, { error: true });
    } else if (!quiet) {
      toast(`Undone: ${entries.length} decision${entries.length === 1 ? "" : "s"}`);
    }
  }

  unmount() {
    document.removeEventListener("keydown", this.onKey);
    window.removeEventListener("resize", this.onResize);
  }
}
