// Tag labels from the taxonomy (GET /api/taxonomy), fetched once per page. Tags are
// stored by key ("background:white"); people read the label ("white background").
import { api } from "./api.js";

let labels = null;

/** A Map of tag key -> label; empty when the taxonomy cannot be read (keys are shown then). */
export function tagLabels() {
  if (!labels) {
    labels = api("/api/taxonomy")
      .then((body) => new Map((Array.isArray(body && body.tags) ? body.tags : [])
        .filter((t) => t && t.name && t.label && t.label !== t.name)
        .map((t) => [String(t.name), String(t.label)])))
      .catch(() => new Map());
  }
  return labels;
}
