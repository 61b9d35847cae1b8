// Talking to /api: JSON in and out, problem+json errors turned into ApiError with the
// server's `detail`, aborts for stale requests, and the API key for writes.
import { askKey, clearKey, getKey } from "./key.js";

/** What each role may do, for a page that needs more than the caller has. */
export const ROLE_HELP = "Roles: a viewer reads, a reviewer also accepts and rejects suggestions, an editor also imports and edits, an admin also manages keys and webhooks.";

export class ApiError extends Error {
  constructor(status, detail, body = null) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.body = body;
  }
}

/** Is this error an abort of a stale request (not worth showing)? */
export function isAbort(err) {
  return err && (err.name === "AbortError" || err.code === 20);
}

async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    /* not JSON: fall back to the status line */
  }
  const detail = body && typeof body.detail === "string" ? body.detail
    : body && body.title ? String(body.title)
    : `${response.status} ${response.statusText || "error"}`;
  return new ApiError(response.status, detail, body);
}

/**
 * Call the API. Options: method, json (body), form (FormData), signal, auth (needs a key:
 * ask for one when none is stored, and again once if the server refuses it).
 */
export async function api(path, { method = "GET", json, form, signal, auth = false } = {}) {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const headers = { Accept: "application/json, application/problem+json" };
    let key = attempt === 0 || auth ? getKey() : "";
    if (auth && !key) key = await askKey("This action needs an API key.");
    if (key) headers["X-API-Key"] = key;
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (form) {
      body = form;
    }
    let response;
    try {
      response = await fetch(path, { method, headers, body, signal });
    } catch (err) {
      if (isAbort(err)) throw err;
      throw new ApiError(0, "The server could not be reached. Check your connection and try again.");
    }
    if (response.ok) return response.status === 204 ? null : response.json();
    const error = await errorFrom(response);
    if (!auth && attempt === 0 && key && response.status === 401) continue; // a stale key must not break reading: try without
    if (auth && attempt === 0 && response.status === 401) {
      // A refused key (revoked, mistyped) is removed, and the dialog says so.
      clearKey();
      await askKey(`Your stored key was refused (${error.detail}) and has been removed. Enter another key.`);
      continue;
    }
    if (auth && attempt === 0 && response.status === 403) {
      // A valid key of too small a role stays stored: the dialog explains, another key is used once.
      key = await askKey(`${error.detail}. ${ROLE_HELP} Your stored key is kept; enter a key with more rights for this action.`, { keep: true });
      const retry = await fetch(path, { method, headers: { ...headers, "X-API-Key": key }, body, signal });
      if (retry.ok) return retry.status === 204 ? null : retry.json();
      throw await errorFrom(retry);
    }
    throw error;
  }
  throw new ApiError(401, "no usable API key");
}

/** Query string from an object; arrays repeat the key, empty values are left out. */
export function query(params) {
  const usp = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => usp.append(key, v));
    else usp.append(key, String(value));
  }
  const text = usp.toString();
  return text ? `?${text}` : "";
}

/**
 * Upload a FormData with XMLHttpRequest so the bytes sent can be shown as they go
 * (fetch has no upload progress). Resolves with the JSON answer.
 */
export async function upload(path, form, onProgress) {
  let key = getKey();
  if (!key) key = await askKey("Uploading needs an editor API key.");
  try {
    return await send(path, form, onProgress, key);
  } catch (err) {
    if (!(err instanceof ApiError) || (err.status !== 401 && err.status !== 403)) throw err;
    if (err.status === 401) {
      clearKey();
      key = await askKey(`Your stored key was refused (${err.detail}) and has been removed. Enter another key.`);
    } else {
      key = await askKey(`${err.detail}. ${ROLE_HELP} Your stored key is kept; enter an editor key for this upload.`, { keep: true });
    }
    onProgress(0);
    return send(path, form, onProgress, key);
  }
}

function send(path, form, onProgress, key) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("Accept", "application/json, application/problem+json");
    if (key) xhr.setRequestHeader("X-API-Key", key);
    xhr.upload.addEventListener("progress", (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); });
    xhr.addEventListener("load", () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* leave null */ }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(body);
      const detail = body && typeof body.detail === "string" ? body.detail : `${xhr.status} ${xhr.statusText}`;
      reject(new ApiError(xhr.status, detail, body));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "The upload failed: the server could not be reached.")));
    xhr.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
    xhr.send(form);
  });
}

/** The file name a response's Content-Disposition gives (RFC 6266 `filename*` first). */
function attachmentName(response, fallback) {
  const header = response.headers.get("Content-Disposition") || "";
  const star = /filename\*=UTF-8''([^;]+)/i.exec(header);
  if (star) {
    try { return decodeURIComponent(star[1]); } catch { /* malformed: try the plain name */ }
  }
  const plain = /filename="?([^";]+)"?/i.exec(header);
  return plain ? plain[1] : fallback;
}

/**
 * Download `path` as the caller: a link cannot carry the X-API-Key header, so with a key
 * stored the file is fetched with it and saved from memory under the server's file name
 * (a link would download the anonymous view, or be refused where reads need a key). A
 * stored key the server refuses is removed and another asked for, as `api` does.
 */
export async function download(path, fallbackName) {
  let key = getKey();
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const headers = key ? { "X-API-Key": key } : {};
    let response;
    try {
      response = await fetch(path, { headers });
    } catch {
      throw new ApiError(0, "The server could not be reached. Check your connection and try again.");
    }
    if (response.ok) {
      const url = URL.createObjectURL(await response.blob());
      const link = Object.assign(document.createElement("a"), { href: url, download: attachmentName(response, fallbackName) });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000); // the download has its copy by then
      return;
    }
    const error = await errorFrom(response);
    if (attempt > 0 || response.status !== 401) throw error;
    if (key) clearKey();
    key = await askKey(key ? `Your stored key was refused (${error.detail}) and has been removed. Enter another key.` : "Downloading needs an API key.");
  }
}
