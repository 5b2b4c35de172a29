// The /lapor service worker: keeps the form and its assets so the page opens
// without a network, and sends queued reports on Background Sync when the page
// is gone (the page itself flushes the queue whenever it is open).
"use strict";

importScripts("/static/lapor-queue.js");

const CACHE = "lapor-v1";
const SHELL = ["/lapor", "/static/lapor.css", "/static/lapor.js", "/static/lapor-queue.js", "/lapor.webmanifest"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// Network first (a fresh form, fresh status), the kept copy when offline. Only GETs
// of the shell are answered from the cache: reports themselves never are.
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || !SHELL.includes(url.pathname)) return;
  event.respondWith(
    fetch(event.request)
      .then((reply) => {
        const copy = reply.clone();
        if (reply.ok) caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
        return reply;
      })
      .catch(() => caches.match(url.pathname)),
  );
});

self.addEventListener("sync", (event) => {
  if (event.tag === "lapor") event.waitUntil(LaporQueue.flush());
});
