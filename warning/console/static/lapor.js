// /lapor with JavaScript: GPS position, sending without leaving the page, and the
// offline queue (lapor-queue.js) flushed when the network returns. Without
// JavaScript the same form posts to /lapor and the server answers with a page.
"use strict";

(() => {
  const form = document.getElementById("report");
  const words = document.body.dataset;
  const notice = document.getElementById("notice");
  const error = document.getElementById("error");
  const say = (element, text) => {
    element.textContent = text || "";
    element.hidden = !text;
  };

  const gps = document.getElementById("gps");
  const gpsState = document.getElementById("gps-state");
  if ("geolocation" in navigator) {
    gps.hidden = false;
    gps.addEventListener("click", () => {
      navigator.geolocation.getCurrentPosition(
        (found) => {
          const { longitude, latitude } = found.coords;
          document.getElementById("lon").value = longitude.toFixed(6);
          document.getElementById("lat").value = latitude.toFixed(6);
          gpsState.textContent = `${words.gpsOk} (${latitude.toFixed(4)}, ${longitude.toFixed(4)})`;
          document.body.dataset.located = "1";
        },
        () => { gpsState.textContent = words.gpsFail; },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
      );
    });
  }

  function fields() {
    const out = {};
    for (const [name, value] of new FormData(form)) if (typeof value === "string") out[name] = value;
    return out;
  }

  async function keep() {
    const photo = document.getElementById("photo").files[0] || null;
    await LaporQueue.add({ fields: fields(), photo, name: photo ? photo.name : "" });
    form.reset();
    gpsState.textContent = "";
    say(notice, words.queued);
    document.body.dataset.kept = "1";
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.ready.then((r) => r.sync && r.sync.register("lapor")).catch(() => {});
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say(error, "");
    say(notice, words.sending);
    let reply;
    try {
      reply = await fetch("/api/reports", { method: "POST", body: new FormData(form), credentials: "same-origin" });
    } catch (offline) {
      await keep();
      return;
    }
    const body = await reply.json().catch(() => ({}));
    if (reply.status === 201) {
      location.href = `/lapor/${body.code}`;
      return;
    }
    say(notice, "");
    say(error, body.error || body.message || reply.statusText);
  });

  function told(status, body) {
    if (status === 201) {
      notice.replaceChildren(`${words.sentLater} `);
      const link = document.createElement("a");
      link.href = `/lapor/${body.code}`;
      link.id = "sent-code";
      link.textContent = body.code;
      notice.append(link);
      notice.hidden = false;
    } else {
      say(error, body.error);
    }
  }

  const flush = () => LaporQueue.flush(told).catch(() => false);
  window.addEventListener("online", flush);
  setInterval(flush, 5000);
  flush();
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/lapor-sw.js", { scope: "/lapor" }).catch(() => {});
  }
})();
