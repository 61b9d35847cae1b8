// Acting on an asset from its page: edit its title, description and rights (an editor,
// PATCH /api/assets/{id}), and accept or reject its suggested tags (a reviewer, through the
// review decisions API). Each action asks for a key when it needs one and redraws the page.
import { api } from "./api.js";
import { h } from "./dom.js";
import { toast } from "./status.js";

let formCount = 0;

function field(id, label, control, hint) {
  control.id = id;
  if (hint) control.setAttribute("aria-describedby", `${id}-hint`);
  return h("div", { class: "edit-field" },
    h("label", { htmlFor: id, text: label }), control,
    hint ? h("p", { class: "help", id: `${id}-hint`, text: hint }) : null);
}

function dateValue(text) {
  return typeof text === "string" && /^\d{4}-\d{2}-\d{2}/.test(text) ? text.slice(0, 10) : "";
}

/** The change the form describes: only what differs from the asset. */
function changes(asset, form) {
  const value = (name) => form.elements[name].value.trim();
  const out = {};
  if (value("title") !== (asset.title || "")) out.title = value("title");
  if (value("description") !== (asset.description || "")) out.description = value("description");
  const r = asset.rights || {};
  const rights = {};
  for (const name of ["license", "credit"]) if (value(name) !== (r[name] || "")) rights[name] = value(name) || null;
  if (value("expires_at") !== dateValue(r.expires_at)) rights.expires_at = value("expires_at") || null;
  const channels = value("channels").split(",").map((c) => c.trim()).filter(Boolean);
  if (channels.join(",") !== (Array.isArray(r.channels) ? r.channels.join(",") : "")) rights.channels = channels.length ? channels : null;
  if (Object.keys(rights).length) out.rights = rights;
  return out;
}

/** Where a refused field's control is: `rights.expires_at` -> the expiry input. */
function controlFor(form, fieldName) {
  const name = String(fieldName || "").replace(/^rights\./, "");
  return form.elements[name] || null;
}

/** "Edit details": a button that opens a form for title, description and rights. */
export function editPanel(asset, onSaved) {
  formCount += 1;
  const p = `edit-${formCount}`;
  const r = asset.rights || {};
  const error = h("p", { class: "edit-error", attrs: { role: "alert" }, hidden: true });
  const save = h("button", { type: "submit", class: "primary", text: "Save changes" });
  const form = h("form", { class: "edit-form", hidden: true, attrs: { "aria-label": "Edit details", novalidate: true } },
    field(`${p}-title`, "Title", h("input", { type: "text", name: "title", value: asset.title || "", maxLength: 300, placeholder: asset.display_title || "" }),
      asset.title ? "" : "Empty: the page shows the linked product's name or the file name."),
    field(`${p}-description`, "Description", h("textarea", { name: "description", rows: 3, value: asset.description || "", maxLength: 5000 })),
    h("fieldset", { class: "edit-rights" }, h("legend", { text: "Rights" }),
      field(`${p}-license`, "License", h("input", { type: "text", name: "license", value: r.license || "", maxLength: 500 })),
      field(`${p}-credit`, "Credit", h("input", { type: "text", name: "credit", value: r.credit || "", maxLength: 500 })),
      field(`${p}-expires`, "Expires on", h("input", { type: "date", name: "expires_at", value: dateValue(r.expires_at) }), "Empty: never expires. Shoppers no longer see an expired asset."),
      field(`${p}-channels`, "Channels", h("input", { type: "text", name: "channels", value: Array.isArray(r.channels) ? r.channels.join(", ") : "" }), "Comma-separated; empty: every channel.")),
    error,
    h("div", { class: "edit-actions" }, save,
      h("button", { type: "button", text: "Cancel", on: { click: () => close() } })));
  const toggle = h("button", { type: "button", class: "edit-toggle", text: "Edit details", attrs: { "aria-expanded": "false" }, on: { click: () => (form.hidden ? open() : close()) } });
  function open() {
    form.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    form.elements.title.focus();
  }
  function close() {
    form.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    toggle.focus();
  }
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    error.hidden = true;
    const body = changes(asset, form);
    if (!Object.keys(body).length) { toast("Nothing changed."); close(); return; }
    save.disabled = true;
    try {
      const saved = await api(`/api/assets/${encodeURIComponent(asset.id)}`, { method: "PATCH", json: body, auth: true });
      toast("Saved. Search shows the change now.");
      onSaved(saved);
    } catch (err) {
      const control = controlFor(form, err.body && err.body.field);
      error.textContent = `Not saved: ${err.detail || err.message}`;
      error.hidden = false;
      if (control) { control.setAttribute("aria-invalid", "true"); control.focus(); }
    } finally {
      save.disabled = false;
    }
  });
  return h("div", { class: "edit-panel" }, toggle, form);
}

/** Accept and Reject buttons for one suggested tag of an asset. */
export function tagDecisionButtons(asset, tag, label, onDecided) {
  const decide = async (decision, button) => {
    for (const b of button.parentElement.querySelectorAll("button")) b.disabled = true;
    try {
      const body = await api("/api/review/decisions", {
        method: "POST", auth: true,
        json: [{ target: { type: "asset", id: asset.id }, tag: tag.name, decision }],
      });
      const result = body && Array.isArray(body.results) ? body.results[0] : null;
      if (result && !result.ok) throw new Error(result.error || "refused");
      toast(`${decision === "accept" ? "Accepted" : "Rejected"} “${label}”.`);
      onDecided();
    } catch (err) {
      toast(`Not saved: ${err.detail || err.message}`, { error: true });
      for (const b of button.parentElement.querySelectorAll("button")) b.disabled = false;
    }
  };
  const button = (decision, text) => {
    const b = h("button", { type: "button", class: `small decide-${decision}`, text, attrs: { "aria-label": `${text} ${label}` } });
    b.addEventListener("click", () => decide(decision, b));
    return b;
  };
  return h("span", { class: "tag-actions" }, button("accept", "Accept"), " ", button("reject", "Reject"));
}
