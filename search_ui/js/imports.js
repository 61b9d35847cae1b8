// Imports: upload a product export or images with a progress bar, then follow the job
// (GET /api/jobs/{id}) and show its counts and every rejected row with the reason.
import { api, upload } from "./api.js";
import { h } from "./dom.js";
import { errorBox } from "./status.js";

const POLL_MS = 700;
const FINAL = new Set(["succeeded", "failed", "cancelled"]);

function fileField(id, labelText, { multiple = false, accept = "", hint = "" } = {}) {
  const input = h("input", { type: "file", id, name: id, multiple, accept, required: true, attrs: { "aria-describedby": `${id}-hint` } });
  return [h("label", { htmlFor: id, text: labelText }), input, h("p", { class: "help", id: `${id}-hint`, text: hint })];
}

function rejectsTable(rejects) {
  if (!rejects.length) return h("p", { class: "muted", text: "Nothing was rejected." });
  return h("div", { class: "table-wrap" }, h("table", { class: "table rejects" },
    h("caption", { text: `Rejected (${rejects.length})` }),
    h("thead", {}, h("tr", {}, ["Line", "File", "Field", "Reason"].map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", {}, rejects.slice(0, 500).map((r) => h("tr", {},
      h("td", { text: r.line ?? "—" }), h("td", { text: r.file ?? "—" }), h("td", { text: r.field ?? "—" }), h("td", { text: r.reason ?? "" }))))));
}

/** A job report: state, progress, counts and rejects, redrawn on each poll. */
function report(job) {
  const counts = job.counts || {};
  const rejects = Array.isArray(job.rejects) ? job.rejects : [];
  const dead = Array.isArray(job.dead_letters) ? job.dead_letters : [];
  const progress = Math.max(0, Math.min(1, Number(job.progress) || (FINAL.has(job.state) ? 1 : 0)));
  return h("div", { class: `job job-${job.state}` },
    h("p", {}, h("strong", { text: `Job ${job.id ?? ""}` }), " ", h("span", { class: `badge ${job.state === "succeeded" ? "badge-ok" : job.state === "failed" ? "badge-bad" : "badge-warn"}`, text: job.state || "unknown" })),
    h("progress", { max: 1, value: progress, attrs: { "aria-label": "Processing" } }),
    h("dl", { class: "facts counts" }, ["received", "indexed", "rejected", "duplicates"].map((k) => [h("dt", { text: k }), h("dd", { text: String(counts[k] ?? 0) })])),
    job.error ? h("p", { class: "state-detail", text: String(job.error) }) : null,
    rejectsTable(rejects),
    dead.length ? h("p", { class: "muted", text: `${dead.length} item(s) failed to process and were set aside.` }) : null);
}

export class ImportsView {
  constructor(root) {
    this.root = root;
    this.stopped = false;
  }

  update() {
    this.root.replaceChildren(
      h("h1", { text: "Imports" }),
      h("p", { class: "help", text: "Uploading needs an editor API key; you will be asked for it once." }),
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
        ...fileField("asset-files", "Images, PDFs or a zip", { multiple: true, accept: "image/*,.pdf,.zip", hint: "File names that contain a SKU are linked to that product." }),
      ], (form) => {
        const data = new FormData();
        for (const file of form.querySelector("#asset-files").files) data.append("files", file);
        return data;
      }));
  }

  form(name, title, path, fields, collect) {
    const bar = h("progress", { max: 1, value: 0, hidden: true, attrs: { "aria-label": `${title} upload` } });
    const out = h("div", { class: "job-out", attrs: { "aria-live": "polite" } });
    const submit = h("button", { type: "submit", class: "primary", text: "Upload" });
    const form = h("form", { class: "panel upload", id: `${name}-form` }, h("h2", { text: title }));
    form.append(...fields(form), submit, bar, out);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      submit.disabled = true;
      bar.hidden = false;
      bar.value = 0;
      out.replaceChildren(h("p", { class: "muted", text: "Uploading…" }));
      try {
        const job = await upload(path, collect(form), (share) => { bar.value = share; });
        bar.value = 1;
        await this.follow(job, out);
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
      job = await api(`/api/jobs/${encodeURIComponent(job.id)}`);
      out.replaceChildren(report(job));
    }
  }

  unmount() {
    this.stopped = true;
  }
}
