// The service worker keeps the app shell — the page, its script, style,
// manifest and icons — so that the app starts without a connection. It
// caches nothing else: no API answer, no key, no activation code.

const CACHE = "lanyard-wallet-v1";
const SHELL = ["./", "app.js", "app.css", "manifest.webmanifest", "icon-192.png", "icon-512.png", "icon-maskable-512.png"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// The shell is fetched from the network first, so that an update shows at
// once, and from the cache when the phone is offline.
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const scope = new URL(self.registration.scope);
  if (event.request.method !== "GET" || url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return;
  const key = url.pathname === scope.pathname ? "./" : url.pathname.slice(scope.pathname.length);
  if (!SHELL.includes(key)) return;
  event.respondWith(
    fetch(event.request)
      .then((resp) => {
        if (resp.ok) {
          const copy = resp.clone();
          caches.open(CACHE).then((c) => c.put(key === "./" ? scope.href : url.href, copy));
        }
        return resp;
      })
      .catch(() => caches.match(key === "./" ? scope.href : url.href, { ignoreSearch: true })),
  );
});
