/* The scan station's service worker ({{ version }}), one per language: its scope is that language's station.

   It keeps only the station's own page (the shell, with no code scanned) and the station's assets, so the station
   opens with no network. Everything else goes to the network first: a scan's answer (a fragment asked for by
   scan.js, or a page with ?code=...) is never answered from the cache, and never kept. A page of the station it
   cannot reach offline gets the offline page, in this language. The API is never touched. */
"use strict";
var CACHE = "closegap-scan-{{ version }}";
var STATION = {{ station_url|safe }};
var OFFLINE = {{ offline_url|safe }};
var ASSETS = {{ assets|safe }};

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      return cache.addAll(ASSETS.concat([OFFLINE])).then(function () {
        // The shell only when signed in: a redirect to the login page is not the station.
        return fetch(STATION, { credentials: "same-origin" }).then(function (response) {
          if (response.ok && !response.redirected) { return cache.put(STATION, response); }
        }).catch(function () {});
      });
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("closegap-scan-") === 0 && name !== CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function offlinePage() {
  return caches.match(OFFLINE).then(function (page) {
    return page || new Response("Offline", { status: 503, headers: { "Content-Type": "text/plain" } });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }

  if (ASSETS.indexOf(url.pathname) !== -1) {
    // The station's own assets: from the cache, as installed (their names change when they do).
    event.respondWith(caches.match(url.pathname).then(function (hit) { return hit || fetch(request); }));
    return;
  }
  if (request.mode !== "navigate") { return; }  // fragments, the API, anything else: the network's, untouched

  var isShell = url.pathname === STATION;
  event.respondWith(
    fetch(request).then(function (response) {
      if (isShell && !url.search && response.ok && !response.redirected) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(STATION, copy); });
      }
      return response;
    }).catch(function () {
      if (isShell) {
        // The station, even with ?code=...: its script looks the code up in the device cache.
        return caches.match(STATION).then(function (shell) { return shell || offlinePage(); });
      }
      return offlinePage();
    })
  );
});
