/* The service worker (issue 20: the board and portal are installable). It keeps ONLY the
 * site's static files (/static/: scripts, styles, icons, the manifest) so the pages' shell
 * loads fast on a slow clinic connection. It never caches nor intercepts anything else:
 * no page (pages carry clinical data and are answered `no-store`), no API, no feed, no
 * sign-in, no WebSocket (which a service worker never sees). Served at /sw.js by
 * server/web/routes/pwa.py, which fills in VERSION from the static files' contents: a
 * deployment that changes any of them changes this script, the browser installs it, and
 * the old cache is deleted on activate. */
"use strict";

const VERSION = "__STATIC_VERSION__";
const CACHE = `groupipt-static-${VERSION}`;
const PREFIX = "groupipt-static-";

/** The one kind of request this worker answers: a same-origin GET under /static/. */
function isStatic(request) {
  if (request.method !== "GET") return false;
  const url = new URL(request.url);
  return url.origin === self.location.origin && url.pathname.startsWith("/static/") && !url.search;
}

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  if (!isStatic(event.request)) return; // not answered here: the browser fetches it as usual
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const hit = await cache.match(event.request);
    if (hit) return hit;
    const response = await fetch(event.request);
    if (response.ok && response.type === "basic") await cache.put(event.request, response.clone());
    return response;
  })());
});
