// /laporan: reload the queue when a report arrives or changes (not while typing a reason).
"use strict";

(() => {
  let mark = null;
  async function check() {
    const reply = await fetch("/api/laporan", { credentials: "same-origin", headers: { accept: "application/json" } });
    if (!reply.ok) return;
    const body = await reply.json();
    const typing = document.activeElement && document.activeElement.name === "reason" && document.activeElement.value;
    if (mark !== null && body.mark !== mark && !typing) location.reload();
    mark = body.mark;
    document.getElementById("queue").dataset.mark = mark;
  }
  check();
  setInterval(() => check().catch(() => {}), 3000);
})();
