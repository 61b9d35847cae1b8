// The asset page: preview, renditions, metadata, tags with source and status, rights
// with expiry, versions, near-duplicates and linked products; and acting on it: accept or
// reject suggested tags, edit title, description and rights, add to and remove from
// collections (asset_edit.js, collections.js).
import { api, isAbort } from "./api.js";
import { editPanel, tagDecisionButtons } from "./asset_edit.js";
import { assetCollectionsPanel } from "./collections.js";
import { assetStrip, productHref, similarHref } from "./cards.js";
import { append, clear, formatBytes, formatDate, h, safeUrl, valueText } from "./dom.js";
import { inheritedPanel } from "./inherited.js";
import { definitionList, previewUrl } from "./product.js";
import { errorBox, loadingBox } from "./status.js";
import { tagLabels } from "./taxonomy.js";
import { assetLinksPanel } from "./links.js";

function section(title, ...body) {
  return h("section", { class: "panel" }, h("h2", { text: title }), ...body);
}

function tagList(tags, labels, decide = null) {
  if (!tags.length) return h("p", { class: "muted", text: "No tags yet." });
  const cell = (label, ...content) => h("td", { dataset: { label } }, ...content);
  const heads = ["Tag", "Status", "Source", "Confidence", "Decided", ...(decide ? ["Decide"] : [])];
  return h("table", { class: "table stack" },
    h("thead", {}, h("tr", {}, heads.map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", {}, tags.map((t) => h("tr", { class: "tag-row", dataset: { status: t.status || "accepted" } },
      h("th", { scope: "row", title: t.name, text: labels.get(t.name) || t.name }),
      cell("Status", h("span", { class: `badge badge-${t.status === "accepted" ? "ok" : t.status === "rejected" ? "bad" : "warn"}`, text: t.status || "accepted" })),
      cell("Source", [t.source, t.model].filter(Boolean).join(" · ") || "—"),
      cell("Confidence", typeof t.confidence === "number" ? `${Math.round(t.confidence * 100)}%` : "—"),
      cell("Decided", t.decided_by ? `${t.decided_by}, ${formatDate(t.decided_at)}` : "—"),
      decide ? cell("Decide", t.status === "suggested" ? decide(t, labels.get(t.name) || t.name) : "—") : null))));
}

function rights(asset) {
  const r = asset.rights || {};
  const status = asset.rights_status || (r.expires_at ? "" : "valid");
  const badge = status ? h("span", { class: `badge badge-${status === "valid" ? "ok" : status === "expired" ? "bad" : "warn"}`, text: status }) : null;
  return definitionList([
    ["Status", badge], ["License", r.license], ["Credit", r.credit],
    ["Expires", r.expires_at ? formatDate(r.expires_at) : "never"], ["Channels", Array.isArray(r.channels) && r.channels.length ? r.channels : "all"],
  ]);
}

function renditions(asset) {
  // Keys with a dot are the store's bookkeeping (e.g. a preset's stamp), not renditions.
  const names = Object.keys(asset.renditions || {}).filter((name) => !name.includes("."));
  const id = encodeURIComponent(asset.id);
  const links = [
    h("li", {}, h("a", { href: safeUrl(asset.file) || `/api/assets/${id}/file`, download: "", text: "Original" }), ` ${asset.media_type || ""} · ${formatBytes(asset.bytes)}`),
    ...names.map((name) => h("li", {}, h("a", { href: `/api/assets/${id}/renditions/${encodeURIComponent(name)}`, download: "", text: name }))),
  ];
  return h("ul", { class: "plain-list" }, links);
}

function metadata(asset) {
  const entries = Object.entries(asset.metadata || {});
  if (!entries.length) return h("p", { class: "muted", text: "No embedded metadata." });
  return h("table", { class: "table" },
    h("tbody", {}, entries.map(([k, v]) => h("tr", {}, h("th", { scope: "row", text: k }), h("td", { text: valueText(v) })))));
}

function versions(asset) {
  const list = Array.isArray(asset.versions) ? asset.versions : [];
  if (!list.length) return h("p", { class: "muted", text: "One version." });
  return h("ol", { class: "plain-list" }, list.map((v) => h("li", {},
    h("code", { text: String(v.sha256 || "").slice(0, 12) }), ` ${formatDate(v.uploaded_at)}`, v.by ? ` by ${v.by}` : "")));
}

function links(asset) {
  const list = Array.isArray(asset.product_skus) ? asset.product_skus : [];
  const names = new Map((Array.isArray(asset.products) ? asset.products : []).map((p) => [String(p.sku), p.name]));
  if (!list.length) return h("p", { class: "muted", text: "Not linked to any product." });
  return h("ul", { class: "plain-list" }, list.map((link) => {
    const sku = valueText(typeof link === "object" && link ? link.sku : link);
    return h("li", {}, h("a", { href: productHref(sku), text: names.get(sku) ? `${names.get(sku)} (${sku})` : sku }), link && link.how ? h("span", { class: "muted", text: ` (${valueText(link.how)})` }) : null);
  }));
}

function colours(asset) {
  const list = Array.isArray(asset.colors) ? asset.colors : [];
  if (!list.length) return null;
  return h("ul", { class: "inline-list" }, list.map((c) => h("li", { text: typeof c.share === "number" ? `${c.name} ${Math.round(c.share * 100)}%` : valueText(c.name) })));
}

function duplicatesOf(body) {
  const list = Array.isArray(body) ? body : body && (body.duplicates || body.items || body.hits);
  return (Array.isArray(list) ? list : [])
    .map((d) => ({ ...d, id: String(d.id ?? d.asset_id ?? "") }))
    .filter((d) => d.id)
    .map((d) => ({ ...d, thumbnail: d.thumbnail || `/api/assets/${encodeURIComponent(d.id)}/renditions/thumbnail` }));
}

export class AssetView {
  constructor(root) {
    this.root = root;
    this.controller = null;
  }

  async update(state) {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    this.state = state;
    const id = encodeURIComponent(state.asset);
    this.root.replaceChildren(loadingBox("Loading asset…"));
    try {
      const [asset, labels] = await Promise.all([api(`/api/assets/${id}`, { signal: controller.signal }), tagLabels()]);
      this.render(asset, labels);
      this.loadDuplicates(asset, controller.signal);
    } catch (err) {
      if (!isAbort(err)) this.root.replaceChildren(h("h1", { text: state.asset }), errorBox(err, () => this.update(state)));
    }
  }

  async loadDuplicates(asset, signal) {
    const target = this.root.querySelector(".duplicates-body");
    try {
      const body = await api(`/api/assets/${encodeURIComponent(asset.id)}/duplicates`, { signal });
      const list = duplicatesOf(body);
      target.replaceChildren(assetStrip(list, {
        empty: "No near-duplicates.",
        extra: (d) => (typeof d.distance === "number" ? h("span", { class: "muted", text: `distance ${d.distance}` }) : null),
      }));
    } catch (err) {
      if (!isAbort(err)) target.replaceChildren(errorBox(err));
    }
  }

  /** Draw the asset again after a change made on this page (scroll kept). */
  reload() {
    const y = window.scrollY;
    this.update(this.state).then(() => window.scrollTo({ top: y }));
  }

  render(asset, labels) {
    const url = previewUrl(asset);
    const title = asset.display_title || asset.title || asset.filename || asset.id;
    const tags = Array.isArray(asset.tags) ? asset.tags : [];
    const internal = Array.isArray(asset.collections); // a shopper's view has no collections
    const decide = internal && tags.some((t) => t.status === "suggested")
      ? (tag, label) => tagDecisionButtons(asset, tag, label, () => this.reload()) : null;
    append(clear(this.root), [
      h("nav", { class: "crumbs", attrs: { "aria-label": "Breadcrumb" } }, h("a", { href: "./?type=asset", text: "Assets" }), " › ", h("span", { text: title })),
      h("div", { class: "detail" },
        h("div", { class: "hero" }, url ? h("img", { class: "hero-img", src: url, alt: asset.alt || title }) : h("div", { class: "hero-img placeholder", text: asset.media_type || "No preview" })),
        h("div", { class: "detail-main" },
          h("h1", { class: "asset-title", text: title }),
          asset.description ? h("p", { class: "asset-description", text: asset.description }) : null,
          asset.alt ? h("p", { class: "muted", text: asset.alt }) : null,
          definitionList([
            ["File", asset.filename], ["Type", asset.media_type], ["Size", formatBytes(asset.bytes)],
            ["Pixels", asset.width && asset.height ? `${asset.width} × ${asset.height}${asset.orientation ? ` (${asset.orientation})` : ""}` : null],
            ["Background", asset.background], ["Colours", colours(asset)], ["Collections", asset.collections && asset.collections.length ? asset.collections : null],
            ["Updated", formatDate(asset.updated_at)],
          ]),
          h("p", {}, h("a", { class: "button", href: similarHref(asset.id), text: "More like this" })),
          internal ? editPanel(asset, () => this.reload()) : null)),
      section("Tags", tagList(tags, labels, decide)),
      internal ? section("Collections", assetCollectionsPanel(asset, () => this.reload())) : null,
      section("Rights", rights(asset)),
      section("Linked products", links(asset)),
      assetLinksPanel(asset, () => this.update({ asset: asset.id })),
      inheritedPanel(asset),
      section("Renditions", renditions(asset)),
      section("Near-duplicates", h("div", { class: "duplicates-body" }, loadingBox("Looking for near-duplicates…"))),
      section("Versions", versions(asset)),
      section("Metadata", metadata(asset)),
    ]);
  }

  unmount() {
    this.controller?.abort();
  }
}
