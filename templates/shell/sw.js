// Chengbao's service worker (served as /sw.js, scope "/"). Shell version {{ version }}.
//
// It caches the static shell only: styles, scripts, icons and the offline page. Report pages,
// every other page and the API always come from the network and are never stored: a reviewer
// must not approve what a stale copy showed. When the network is down, a page navigation
// gets the offline page instead.
"use strict";
const CACHE = "chengbao-shell-{{ version }}";
const SHELL = {{ shell|tojson }};
const OFFLINE = {{ offline|tojson }};
const LANG_KEY = "/__chengbao-lang";  // the language of the last page shown, kept in the cache

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

// Pages tell the worker their language, so that the offline page speaks it too.
self.addEventListener("message", (event) => {
  const lang = event.data && event.data.lang;
  if (lang in OFFLINE) {
    event.waitUntil(caches.open(CACHE).then((cache) => cache.put(LANG_KEY, new Response(lang))));
  }
});

async function offlinePage() {
  const cache = await caches.open(CACHE);
  const saved = await cache.match(LANG_KEY);
  const lang = saved ? await saved.text() : "zh";
  return (await cache.match(OFFLINE[lang] || OFFLINE.zh)) || Response.error();
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const path = url.pathname + url.search;
  if (SHELL.includes(path)) {
    // The shell: from the cache (this worker's version names exactly these bytes), else the network.
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
    return;
  }
  if (request.mode === "navigate") {
    // A page (a report, a list, anything else): the network only; the offline page when it is down.
    event.respondWith(fetch(request).catch(() => offlinePage()));
  }
  // Everything else (the API, downloads, polling): not handled here, so the browser asks the network.
});
