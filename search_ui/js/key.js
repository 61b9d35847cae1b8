// The API key: asked for once in a dialog, kept in localStorage, sent as X-API-Key.
const STORAGE = "discovery.apiKey";
let pending = null;

export function getKey() {
  try { return localStorage.getItem(STORAGE) || ""; } catch { return ""; }
}

export function setKey(key) {
  try { localStorage.setItem(STORAGE, key); } catch { /* private mode: kept for this page only */ }
}

export function clearKey() {
  try { localStorage.removeItem(STORAGE); } catch { /* nothing stored */ }
}

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
    clearKey();
    dialog.close("cancel");
  });
}
