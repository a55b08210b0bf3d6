// Live events (GET /api/v1/events, server-sent events): one stream per browser tab, handed
// to the view on screen. Read with fetch, not EventSource: an EventSource cannot send the
// bearer token the API asks for. So the resuming an EventSource does by itself is done here
// the same way: after a break the stream is opened again with `Last-Event-ID` (the position
// of the last event seen), after the server's `retry:` delay.
import { bearer, refresh, signedIn } from "./api.js";

let handler = null;
let running = false;
let lastId = null;
let retryMs = 3000;

// The view on screen follows the events with `fn(type, envelope)`; a route change hands
// them to the next view (null: nobody). `reset` means events were missed: reload.
export function follow(fn) {
  handler = fn;
  if (!running && signedIn()) {
    running = true;
    run();
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function run() {
  while (signedIn()) {
    let renew = false;
    try {
      renew = await read();
    } catch {
      // a dropped connection: open it again below
    }
    document.body.dataset.live = "off";
    if (renew && !(await refresh())) break;
    if (!renew) await sleep(retryMs);
  }
  running = false;
}

// One connection, until it ends; true when the credential must be renewed first.
async function read() {
  const headers = { authorization: bearer(), accept: "text/event-stream" };
  if (lastId) headers["last-event-id"] = lastId;
  const resp = await fetch("/api/v1/events", { headers, cache: "no-store" });
  if (resp.status === 401) return true;
  if (!resp.ok) return false;
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return false;
    buffer += value.replaceAll("\r\n", "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const frame = parse(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (frame.retry) retryMs = frame.retry;
      if (frame.id) lastId = frame.id;
      if (frame.event === "end") return true;
      if (frame.event === "ready") document.body.dataset.live = "ready";
      else if (frame.event) deliver(frame);
    }
  }
}

function parse(text) {
  const frame = { event: null, data: "", id: null, retry: null };
  for (const line of text.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const key = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (key === "event") frame.event = value;
    else if (key === "data") frame.data += value;
    else if (key === "id") frame.id = value;
    else if (key === "retry" && /^\d+$/.test(value)) frame.retry = Number(value);
  }
  return frame;
}

function deliver(frame) {
  if (!handler) return;
  let envelope = {};
  try {
    envelope = JSON.parse(frame.data || "{}");
  } catch {
    return;
  }
  handler(frame.event, envelope);
}

// The deal an event is about (`subject: deal/7`), or null.
export const dealOf = (envelope) => {
  const m = /^deal\/(\d+)$/.exec(envelope.subject || "");
  return m ? Number(m[1]) : null;
};
