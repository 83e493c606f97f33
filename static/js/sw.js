// Monev's service worker (served at /sw.js, which puts MONEV_SHELL above this file: the
// build's version, the URLs of the offline app shell and the shell's own path).
//
// It keeps only the offline app shell: the page /offline (which holds nothing of anybody:
// the phone fills it from IndexedDB), the manifest, and the stylesheets, script and icon it
// uses, at their versioned URLs. One cache per build ("monev-shell-<version>"); older ones
// are deleted when a new worker takes over.
//
// - the shell page: from the cache (refreshed from the network in the background);
// - the shell's static files: from the cache, else the network;
// - any other page: the network, always (a form is never answered from a cache); only when
//   the network fails is the shell shown instead, which lists the visits on the phone;
// - everything else (POST, JSON, other files): not touched.
/* global MONEV_SHELL */
"use strict";

const CACHE = "monev-shell-" + MONEV_SHELL.version;
const SHELL_PATH = MONEV_SHELL.offline;
const SHELL_FILES = new Set(MONEV_SHELL.shell.map((url) => new URL(url, self.location).href));

async function keep(cache, url) {
  // A redirect (to the sign-in page) or an error page is never kept as the shell.
  const response = await fetch(url, { credentials: "same-origin", cache: "no-cache" });
  if (response.ok && !response.redirected) {
    await cache.put(url, response);
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => Promise.all(MONEV_SHELL.shell.map((url) => keep(cache, url))))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter((name) => name.startsWith("monev-shell-") && name !== CACHE)
            .map((name) => caches.delete(name))
        )
      )
      .then(() => self.clients.claim())
  );
});

async function shellPage() {
  const cache = await caches.open(CACHE);
  return cache.match(SHELL_PATH, { ignoreSearch: true, ignoreVary: true });
}

async function fromShell(request) {
  const cached = await shellPage();
  const refresh = caches.open(CACHE).then((cache) => keep(cache, SHELL_PATH)).catch(() => {});
  if (cached) {
    return cached;
  }
  await refresh;
  return (await shellPage()) || fetch(request);
}

async function networkFirst(request) {
  try {
    return await fetch(request);
  } catch (error) {
    const cached = await shellPage();
    if (cached) {
      return cached;
    }
    throw error;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request, { ignoreVary: true });
  return cached || fetch(request);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(url.pathname === SHELL_PATH ? fromShell(request) : networkFirst(request));
    return;
  }
  if (SHELL_FILES.has(url.href)) {
    event.respondWith(cacheFirst(request));
  }
});
