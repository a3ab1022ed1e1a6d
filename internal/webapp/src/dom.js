// DOM helpers: markup comes from <template> elements in index.html and is
// filled with textContent, never built from strings.

// $ finds one element by its id.
export const $ = (id) => document.getElementById(id);

// fill clones a template and sets the text of each [data-field] element
// inside it from fields.
export function fill(templateID, fields) {
  const node = $(templateID).content.firstElementChild.cloneNode(true);
  for (const el of node.querySelectorAll("[data-field]")) {
    const v = fields[el.dataset.field];
    if (v !== undefined) el.textContent = v;
  }
  return node;
}

// Messages shows one status or error message at a time, at the top of
// the screen, where the person looks.
export class Messages {
  constructor(statusEl, alertEl) {
    this.statusEl = statusEl;
    this.alertEl = alertEl;
  }

  clear() {
    this.statusEl.hidden = this.alertEl.hidden = true;
    this.statusEl.textContent = this.alertEl.textContent = "";
  }

  // status shows a message about something that went well.
  status(text) {
    this.clear();
    this.statusEl.textContent = text;
    this.statusEl.hidden = false;
  }

  // error shows what went wrong and logs it once for the developer.
  error(err) {
    this.clear();
    const text = typeof err === "string" ? err : err.message || String(err);
    if (typeof err !== "string") console.error(err);
    this.alertEl.textContent = text;
    this.alertEl.hidden = false;
  }
}

// download hands bytes to the browser as a file of the given name.
export function download(bytes, name, type = "application/octet-stream") {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// readFile returns the bytes of the first file an input holds, or null.
export async function readFile(input) {
  const f = input.files && input.files[0];
  if (!f) return null;
  return { name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) };
}

// formatDate writes a date as the phone's locale does, with the time.
export function formatDate(d) {
  return new Date(d).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}
