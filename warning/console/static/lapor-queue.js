// The offline queue of /lapor, shared by the page and the service worker: a report
// made without a network waits in IndexedDB (photo included) and is sent to
// /api/reports when the network returns. A report the server refuses (422) is
// dropped with its reason; a rate limit or a server error keeps it for later.
"use strict";

const LaporQueue = (() => {
  const DB = "lapor";
  const STORE = "queue";

  function open() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB, 1);
      request.onupgradeneeded = () =>
        request.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  async function run(mode, work) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
    });
  }

  const add = (entry) => run("readwrite", (store) => store.add(entry));
  const all = () => run("readonly", (store) => store.getAll());
  const remove = (id) => run("readwrite", (store) => store.delete(id));

  function formOf(entry) {
    const body = new FormData();
    for (const [name, value] of Object.entries(entry.fields)) body.append(name, value);
    if (entry.photo) body.append("photo", entry.photo, entry.name || "foto.jpg");
    return body;
  }

  let busy = false;

  // Send every waiting report, oldest first; `told` hears each server answer.
  async function flush(told) {
    if (busy) return false;
    busy = true;
    try {
      for (const entry of await all()) {
        let reply;
        try {
          reply = await fetch("/api/reports", { method: "POST", body: formOf(entry), credentials: "same-origin" });
        } catch (offline) {
          return false;
        }
        if (reply.status !== 201 && reply.status !== 422) return false;
        const body = await reply.json().catch(() => ({}));
        await remove(entry.id);
        if (told) told(reply.status, body);
      }
      return true;
    } finally {
      busy = false;
    }
  }

  return { add, all, flush };
})();
