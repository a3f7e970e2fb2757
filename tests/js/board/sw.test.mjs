// The service worker (static/sw.js) answers only same-origin GETs under /static/: never a
// page, the API, a feed, sign-in or a board's socket; and drops other versions' caches.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import vm from "node:vm";

const SCRIPT = readFileSync(new URL("../../../static/sw.js", import.meta.url), "utf8");

function load() {
  const listeners = {}, deleted = [], stored = [];
  const cache = { match: async () => undefined, put: async (request) => { stored.push(request.url); } };
  const self = {
    location: { origin: "https://clinic.example" },
    addEventListener: (name, fn) => { listeners[name] = fn; },
    skipWaiting: () => {}, clients: { claim: async () => {} },
  };
  const caches = {
    keys: async () => ["groupipt-static-old", "groupipt-static-__STATIC_VERSION__", "someone-else"],
    delete: async (name) => { deleted.push(name); return true; }, open: async () => cache,
  };
  const fetch = async () => ({ ok: true, type: "basic", clone() { return this; } });
  vm.runInNewContext(SCRIPT, { self, caches, fetch, URL });
  return { listeners, deleted, stored };
}

function answered(listeners, url, method = "GET") {
  let response = null;
  listeners.fetch({ request: { url, method }, respondWith: (p) => { response = p; } });
  return response;
}

test("only /static/ files are answered and cached; nothing else is touched", async () => {
  const { listeners, stored } = load();
  for (const url of ["https://clinic.example/", "https://clinic.example/boards/4", "https://clinic.example/api/v1/me",
                     "https://clinic.example/feeds/abc.ics", "https://clinic.example/portal", "https://clinic.example/sw.js",
                     "https://clinic.example/boards/4/ws?view=facilitator", "https://clinic.example/staticky/x.js",
                     "https://elsewhere.example/static/site.css", "https://clinic.example/static/x.js?user=3"]) {
    assert.equal(answered(listeners, url), null, url);
  }
  assert.equal(answered(listeners, "https://clinic.example/static/site.css", "POST"), null);
  const response = answered(listeners, "https://clinic.example/static/board/main.js");
  assert.ok(response);
  await response;
  assert.deepEqual(stored, ["https://clinic.example/static/board/main.js"]);
});

test("activating deletes the older versions' caches, and only ours", async () => {
  const { listeners, deleted } = load();
  let done;
  listeners.activate({ waitUntil: (p) => { done = p; } });
  await done;
  assert.deepEqual(deleted, ["groupipt-static-old"]);
});
