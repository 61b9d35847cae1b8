// The API key: asked for once in a dialog, kept in localStorage, sent as X-API-Key. The top
// bar says who is signed in (the key's name and role, from GET /api/me); a key is only ever
// removed with a message saying so.
import { h } from "./dom.js";
import { toast } from "./status.js";

const STORAGE = "discovery.apiKey";
const CHANGED = "discovery:key";
let pending = null;
let whoSeq = 0;

function changed() {
  readCookie(getKey());
  document.dispatchEvent(new CustomEvent(CHANGED));
}

// What the browser fetches by itself (an <img>, a download link) carries no header: the key
// goes with it as a cookie, only to /api/assets/ and never from another site; the server
// reads it on file and rendition requests only (READ_KEY_COOKIE in discovery/api/deps.py).
function readCookie(key) {
  const where = "; Path=/api/assets/; SameSite=Strict" + (location.protocol === "https:" ? "; Secure" : "");
  document.cookie = key
    ? `discovery_read_key=${encodeURIComponent(key)}${where}`
    : `discovery_read_key=; Max-Age=0${where}`;
}

export function getKey() {
  try { return localStorage.getItem(STORAGE) || ""; } catch { return ""; }
}

export function setKey(key) {
  try { localStorage.setItem(STORAGE, key); } catch { /* private mode: kept for this page only */ }
  changed();
}

export function clearKey() {
  try { localStorage.removeItem(STORAGE); } catch { /* nothing stored */ }
  changed();
}

readCookie(getKey()); // a key stored before the cookie existed, or a cookie the browser dropped

/** Ask for a key in the page's dialog; resolves with the key, rejects when cancelled. With
 * `keep`, the stored key stays and the one entered is used for this action only. */
export function askKey(reason, { keep = false } = {}) {
  if (pending) return pending;
  const dialog = document.getElementById("key-dialog");
  const input = document.getElementById("key-input");
  const why = document.getElementById("key-reason");
  why.textContent = reason || "Enter your API key.";
  input.value = "";
  pending = new Promise((resolve, reject) => {
    const done = () => {
      dialog.removeEventListener("close", done);
      pending = null;
      const key = input.value.trim();
      if (dialog.returnValue === "ok" && key) {
        if (!keep) setKey(key);
        resolve(key);
      } else {
        const err = new Error("An API key is needed for this action.");
        err.name = "KeyCancelled";
        reject(err);
      }
    };
    dialog.addEventListener("close", done);
  });
  dialog.returnValue = "";
  dialog.showModal();
  input.focus();
  return pending;
}

/** Wire the dialog's form once. */
export function installKeyDialog() {
  const dialog = document.getElementById("key-dialog");
  const form = dialog.querySelector("form");
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    dialog.close("ok");
  });
  document.getElementById("key-cancel").addEventListener("click", () => dialog.close("cancel"));
  document.getElementById("key-forget").addEventListener("click", () => {
    const had = Boolean(getKey());
    clearKey();
    dialog.close("cancel");
    toast(had ? "The stored key was forgotten: you are signed out." : "No key was stored.");
  });
  document.addEventListener(CHANGED, () => showWho());
  showWho();
}

/** The top bar's "Signed in as NAME · ROLE" (or "Not signed in"), from GET /api/me. */
export async function showWho() {
  const el = document.getElementById("who");
  if (!el) return;
  const key = getKey();
  const seq = ++whoSeq;
  let me = null;
  let refused = null;
  try {
    const headers = { Accept: "application/json" };
    if (key) headers["X-API-Key"] = key;
    const response = await fetch("/api/me", { headers });
    if (response.ok) me = await response.json();
    else if (response.status === 401) refused = (await response.json().catch(() => ({}))).detail || "refused";
  } catch {
    return; // offline: the pages say so themselves
  }
  if (seq !== whoSeq) return;
  const signIn = (reason) => () => askKey(reason).catch(() => {});
  const button = (text, reason) => h("button", { type: "button", class: "small", text, on: { click: signIn(reason) } });
  if (!key || !me) {
    el.replaceChildren(
      h("span", { class: refused ? "who-text who-bad" : "who-text", text: refused ? `Stored key refused (${refused})` : "Not signed in" }),
      button("Sign in", refused ? `Your stored key was refused (${refused}). Enter another key, or forget it.` : "Sign in with your API key."));
    return;
  }
  const rights = Array.isArray(me.roles) ? me.roles.find((r) => r && r.role === me.role) : null;
  const name = me.name || (me.key_id ? `key ${me.key_id}` : "");
  el.replaceChildren(
    h("span", { class: "who-text", title: rights ? `A ${me.role} may ${rights.may}.` : null },
      me.signed_in ? ["Signed in as ", h("strong", { class: "who-name", text: name }), " · "] : null,
      h("span", { class: "who-role", text: me.role })),
    button("Change key", `Signed in as ${name} (${me.role}). Enter another key, or forget this one.`));
}
