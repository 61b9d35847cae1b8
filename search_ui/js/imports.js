// Imports: upload a product export or images, watch the upload and then the processing
// (GET /api/jobs/{id}) with labelled progress, counts and rejected rows as they come, and
// the recent jobs. Files dropped on this page go into the form they are dropped on, never
// into an image search.
import { ApiError, api, upload } from "./api.js";
import { assetHref, productHref } from "./cards.js";
import { h } from "./dom.js";
import { errorBox } from "./status.js";

const POLL_MS = 700;
const FINAL = new Set(["succeeded", "failed", "cancelled"]);

function fileField(id, labelText, { multiple = false, accept = "", hint = "" } = {}) {
  const input = h("input", { type: "file", id, name: id, multiple, accept, required: true, attrs: { "aria-describedby": `${id}-hint` } });
  return [h("label", { htmlFor: id, text: labelText }), input, h("p", { class: "help", id: `${id}-hint`, text: hint })];
}

function rejectsTable(rejects, final) {
  if (!rejects.length) return h("p", { class: "muted", text: final ? "Nothing was rejected." : "No rejected rows so far." });
  return h("div", { class: "table-wrap", tabIndex: 0, attrs: { role: "region", "aria-label": "Rejected rows" } }, h("table", { class: "table rejects" },
    h("caption", { text: `Rejected${final ? "" : " so far"} (${rejects.length})` }),
    h("thead", {}, h("tr", {}, ["Line", "File", "Field", "Reason"].map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", {}, rejects.slice(0, 500).map((r) => h("tr", {},
      h("td", { text: r.line ?? "—" }), h("td", { text: r.file ?? "—" }), h("td", { text: r.field ?? "—" }), h("td", { text: r.reason ?? "" }))))));
}

const HOW_LABELS = { manual: "by hand", manifest: "by the manifest", image_ref: "named by the product's export", filename_rule: "by the file name" };

/** What the job's linking did (`job.links`): links made and how, suggested links with a way
 * to the review queue, and file names that fit several products. Nothing for jobs without. */
function linksTable(links) {
  const counts = links?.counts || {};
  const rows = [
    ...(links?.linked || []).map((e) => ["linked", e]),
    ...(links?.suggested || []).map((e) => ["suggested", e]),
    ...(links?.ambiguous || []).map((e) => ["ambiguous", e]),
  ];
  if (!rows.length) return null;
  const total = Object.values(counts).reduce((a, b) => a + Number(b || 0), 0);
  const outcome = (kind, e) => {
    if (kind === "linked") return h("td", { text: `Linked ${HOW_LABELS[e.how] || e.how || ""}`.trim() });
    if (kind === "suggested") {
      return h("td", {}, h("a", { href: `?view=review&tag=${encodeURIComponent(`link:${e.sku}`)}`, text: "Suggested: review it" }),
        h("span", { class: "muted", text: ` (${e.reason || ""})` }));
    }
    return h("td", { text: `Not linked: fits ${(e.candidates || []).join(", ")}` });
  };
  const product = (kind, e) => (kind === "ambiguous" ? h("td", { text: "—" })
    : h("td", {}, h("a", { href: productHref(e.sku), text: e.sku })));
  return h("div", { class: "table-wrap", tabIndex: 0, attrs: { role: "region", "aria-label": "Links" } }, h("table", { class: "table links" },
    h("caption", { text: `Links (${total}${rows.length < total ? `, first ${rows.length} listed` : ""})` }),
    h("thead", {}, h("tr", {}, ["File", "Product", "Outcome"].map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", {}, rows.map(([kind, e]) => h("tr", { class: `link-${kind}` },
      h("td", {}, e.asset_id ? h("a", { href: assetHref(e.asset_id), text: e.file ?? e.asset_id }) : (e.file ?? "—")), product(kind, e), outcome(kind, e))))));
}

function stateBadge(state) {
  const tone = state === "succeeded" ? "badge-ok" : state === "failed" ? "badge-bad" : "badge-warn";
  return h("span", { class: `badge ${tone}`, text: state || "unknown" });
}

/** A job report: state, labelled progress, counts and rejects, redrawn on each poll. */
function report(job) {
  const counts = job.counts || {};
  const rejects = Array.isArray(job.rejects) ? job.rejects : [];
  const dead = Array.isArray(job.dead_letters) ? job.dead_letters : [];
  const final = FINAL.has(job.state);
  const progress = Math.max(0, Math.min(1, Number(job.progress) || (final ? 1 : 0)));
  const done = Number(counts.indexed || 0) + Number(counts.rejected || 0) + Number(counts.duplicates || 0);
  const received = Number(counts.received || 0);
  const label = final ? `Processing ${job.state}: ${done} of ${received} handled`
    : `Processing: ${done} of ${received || "?"} handled (${Math.round(progress * 100)} %)`;
  const id = `job-progress-${job.id ?? "new"}`;
  return h("div", { class: `job job-${job.state}` },
    h("p", {}, h("strong", { text: job.kind === "ingest_assets" ? "Asset ingest" : "Product import" }), " ", stateBadge(job.state)),
    h("label", { htmlFor: id, class: "progress-label", text: label }),
    h("progress", { id, max: 1, value: progress }),
    h("dl", { class: "facts counts" }, ["received", "indexed", "rejected", "duplicates"].map((k) => [h("dt", { text: k }), h("dd", { text: String(counts[k] ?? 0) })])),
    job.error ? h("p", { class: "state-detail", text: String(job.error) }) : null,
    rejectsTable(rejects, final),
    final ? linksTable(job.links) : null,
    dead.length ? h("p", { class: "muted", text: `${dead.length} item(s) failed to process and were set aside.` }) : null);
}

const KIND_LABELS = { import_products: "Products", ingest_assets: "Assets", check_index: "Index check", reindex: "Reindex" };

function jobFile(job) {
  const params = job.params || {};
  if (params.file && typeof params.file === "object" && params.file.name) return String(params.file.name);
  if (typeof params.count === "number") return `${params.count} file${params.count === 1 ? "" : "s"}`;
  return "—";
}

function when(text) {
  const date = new Date(String(text || ""));
  return Number.isNaN(date.getTime()) ? "—" : date.toLocaleString();
}

function historyTable(jobs) {
  if (!jobs.length) return h("p", { class: "muted", text: "No imports yet." });
  return h("div", { class: "table-wrap", tabIndex: 0, attrs: { role: "region", "aria-label": "Recent jobs" } }, h("table", { class: "table jobs" },
    h("caption", { text: "Recent jobs" }),
    h("thead", {}, h("tr", {}, ["When", "Kind", "File", "Who", "State", "Received", "Indexed", "Rejected"].map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", {}, jobs.map((job) => {
      const counts = job.counts || {};
      return h("tr", {},
        h("td", { text: when(job.created_at) }), h("td", { text: KIND_LABELS[job.kind] || job.kind || "—" }), h("td", { text: jobFile(job) }),
        h("td", { text: job.created_by_name || job.created_by || "—" }), h("td", {}, stateBadge(job.state)),
        h("td", { text: String(counts.received ?? 0) }), h("td", { text: String(counts.indexed ?? 0) }), h("td", { text: String(counts.rejected ?? 0) }));
    }))));
}

export class ImportsView {
  constructor(root) {
    this.root = root;
    this.stopped = false;
    root.dataset.dropFiles = "forms"; // the page-wide image drop stays out of this view
    this.onDrop = (e) => {
      if (e.defaultPrevented || !e.dataTransfer || !e.dataTransfer.files.length) return;
      e.preventDefault(); // a drop beside the forms must not open the file in the tab
      this.toast.textContent = "Drop files onto the product or asset form.";
    };
    this.onDragOver = (e) => { if (e.dataTransfer && [...e.dataTransfer.types].includes("Files")) e.preventDefault(); };
    document.addEventListener("drop", this.onDrop);
    document.addEventListener("dragover", this.onDragOver);
  }

  update() {
    this.toast = h("p", { class: "help", attrs: { role: "status", "aria-live": "polite" } });
    this.history = h("section", { class: "panel", attrs: { "aria-label": "Job history" } }, h("h2", { text: "Job history" }));
    this.root.replaceChildren(
      h("h1", { text: "Imports" }),
      h("p", { class: "help", text: "Uploading needs an editor API key; you will be asked for it once. Drop a file onto a form or pick it." }),
      this.toast,
      this.form("products", "Product file", "/api/ingest/products", (form) => [
        ...fileField("product-file", "Product export (CSV, TSV, JSONL, JSON or XLSX)", { accept: ".csv,.tsv,.jsonl,.json,.xlsx,.txt", hint: "One product per row; bad rows are reported, the rest imported." }),
        h("label", { htmlFor: "mapping", text: "Mapping (optional)" }),
        h("input", { id: "mapping", name: "mapping", type: "text", autocomplete: "off", attrs: { "aria-describedby": "mapping-hint", list: "mappings" } }),
        h("datalist", { id: "mappings" }, ["shopify", "magento2", "akeneo"].map((value) => h("option", { value }))),
        h("p", { class: "help", id: "mapping-hint", text: "The name of a column mapping (shopify, magento2, akeneo or your own); leave empty to use the file's own column names." }),
      ], (form) => {
        const data = new FormData();
        data.append("file", form.querySelector("#product-file").files[0]);
        const mapping = form.querySelector("#mapping").value.trim();
        if (mapping) data.append("mapping", mapping);
        return data;
      }),
      this.form("assets", "Images and documents", "/api/ingest/assets", () => [
        ...fileField("asset-files", "Images, PDFs or a zip", { multiple: true, accept: "image/*,.pdf,.zip", hint: "A file whose name contains a SKU is linked to that product; where the product's export names its own images, the link is suggested for review instead." }),
      ], (form) => {
        const data = new FormData();
        for (const file of form.querySelector("#asset-files").files) data.append("files", file);
        return data;
      }),
      this.history);
    this.loadHistory();
  }

  async loadHistory() {
    const body = this.history;
    try {
      const answer = await api("/api/jobs?limit=20");
      const jobs = Array.isArray(answer?.items) ? answer.items : [];
      body.replaceChildren(h("h2", { text: "Job history" }), historyTable(jobs));
    } catch (err) {
      const denied = err instanceof ApiError && (err.status === 401 || err.status === 403);
      body.replaceChildren(h("h2", { text: "Job history" }), denied
        ? h("p", { class: "muted", text: "The job history needs an editor key: it appears once you have uploaded with one." })
        : errorBox(err, () => this.loadHistory()));
    }
  }

  form(name, title, path, fields, collect) {
    const barId = `${name}-upload-progress`;
    const barLabel = h("label", { htmlFor: barId, class: "progress-label", text: "Uploading", hidden: true });
    const bar = h("progress", { id: barId, max: 1, value: 0, hidden: true });
    const out = h("div", { class: "job-out", attrs: { "aria-live": "polite" } });
    const submit = h("button", { type: "submit", class: "primary", text: "Upload" });
    const form = h("form", { class: "panel upload", id: `${name}-form` }, h("h2", { text: title }));
    form.append(...fields(form), submit, barLabel, bar, out);
    const input = form.querySelector("input[type=file]");
    form.addEventListener("dragover", (e) => { e.preventDefault(); form.classList.add("drop-target"); });
    form.addEventListener("dragleave", () => form.classList.remove("drop-target"));
    form.addEventListener("drop", (e) => {
      e.preventDefault();
      form.classList.remove("drop-target");
      if (!e.dataTransfer || !e.dataTransfer.files.length) return;
      const picked = new DataTransfer();
      for (const file of input.multiple ? e.dataTransfer.files : [e.dataTransfer.files[0]]) picked.items.add(file);
      input.files = picked.files;
      this.toast.textContent = `${picked.files.length} file(s) ready in “${title}”: press Upload.`;
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      submit.disabled = true;
      bar.hidden = false;
      barLabel.hidden = false;
      bar.value = 0;
      const shown = (share) => { bar.value = share; barLabel.textContent = `Uploading: ${Math.round(share * 100)} %`; };
      shown(0);
      out.replaceChildren();
      try {
        const job = await upload(path, collect(form), shown);
        shown(1);
        barLabel.textContent = "Uploaded";
        await this.follow(job, out);
        this.loadHistory();
      } catch (err) {
        out.replaceChildren(errorBox(err));
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }

  async follow(job, out) {
    out.replaceChildren(report(job));
    while (job && job.id && !FINAL.has(job.state) && !this.stopped) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      job = await api(`/api/jobs/${encodeURIComponent(job.id)}`, { auth: true });
      out.replaceChildren(report(job));
    }
  }

  unmount() {
    this.stopped = true;
    delete this.root.dataset.dropFiles;
    document.removeEventListener("drop", this.onDrop);
    document.removeEventListener("dragover", this.onDragOver);
  }
}
