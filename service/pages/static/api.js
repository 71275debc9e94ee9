// The service's public API, as the page uses it: JSON in, JSON (or SVG, or NDJSON lines) out.
// An error answer is thrown as a Problem carrying the problem+json document (RFC 9457).

export class Problem extends Error {
  constructor(document) {
    super(document.detail || document.title || "request failed");
    this.document = document;
  }
}

let apiKey = sessionStorage.getItem("gradient-api-key") || "";

export function setApiKey(key) {
  apiKey = key;
  sessionStorage.setItem("gradient-api-key", key);
}

export function getApiKey() {
  return apiKey;
}

function headers(extra) {
  return { "content-type": "application/json", ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}), ...extra };
}

async function problemOf(response) {
  try {
    return new Problem(await response.json());
  } catch {
    return new Problem({ status: response.status, detail: `the service answered ${response.status}`, errors: [] });
  }
}

/** The URL of an API path, relative to the page (so a server behind a path prefix works too). */
export function url(path) {
  return new URL(path.replace(/^\//, ""), document.baseURI).href;
}

async function send(path, body, accept) {
  const response = await fetch(url(path), { method: "POST", headers: headers({ accept }), body: JSON.stringify(body) });
  if (!response.ok) throw await problemOf(response);
  return response;
}

export async function postJson(path, body) {
  return (await send(path, body, "application/json")).json();
}

export async function postText(path, body, accept) {
  return (await send(path, body, accept)).text();
}

export async function getJson(path) {
  const response = await fetch(url(path), { headers: headers({ accept: "application/json" }) });
  if (!response.ok) throw await problemOf(response);
  return response.json();
}

/** POST and call onLine(object) for each NDJSON line as it arrives. */
export async function postStream(path, body, onLine) {
  await readLines(await send(path, body, "application/x-ndjson"), onLine);
}

/** GET and call onLine(object) for each NDJSON line as it arrives (a training job's events). */
export async function getStream(path, onLine) {
  const response = await fetch(url(path), { headers: headers({ accept: "application/x-ndjson" }) });
  if (!response.ok) throw await problemOf(response);
  await readLines(response, onLine);
}

async function readLines(response, onLine) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    buffered += decoder.decode(value || new Uint8Array(), { stream: !done });
    let newline;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) onLine(JSON.parse(line));
    }
    if (done) break;
  }
  if (buffered.trim()) onLine(JSON.parse(buffered));
}
