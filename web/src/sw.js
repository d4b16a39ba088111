// The service worker that makes Enumera start and work with the network
// off: at install it stores every file of this build (the page, its
// scripts, the engine worker and the .wasm); afterwards the app's files
// come from that store first. Only the app's own files are handled: the
// sync calls to central (`/v1/...`) always go to the network, never to a
// cache. A new build (a new list below) installs beside the old one and
// takes over once every page of the old one is closed (so a running page
// never loses a file it may still load); the old files are then removed.
//
// vite.config.ts fills in VERSION and FILES when it builds.

const VERSION = '__ENUMERA_VERSION__';
const FILES = __ENUMERA_FILES__;
const CACHE = `enumera-app-${VERSION}`;
const scope = new URL(self.registration.scope);

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(FILES.map((f) => new Request(new URL(f, scope), { cache: 'reload' })))),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('enumera-app-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return;
  const inScope = url.pathname.slice(scope.pathname.length);
  // The page at any address of the app (`/app/`, `/app/?preview=...`).
  const file = request.mode === 'navigate' || inScope === '' ? 'index.html' : inScope;
  if (!FILES.includes(file)) return;
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      const hit = await cache.match(new URL(file, scope));
      if (hit) return hit;
      return fetch(request);
    }),
  );
});
