// /laporan: the reports on the city map (a marker per GPS position), and a reload of the
// queue when a report arrives or changes (not while an operator types a reason).
"use strict";

(async () => {
  const { map, setLevels } = await buildMap("map");
  setLevels({}, {});
  for (const card of document.querySelectorAll(".report[data-lat]")) {
    const marker = L.circleMarker([Number(card.dataset.lat), Number(card.dataset.lon)], {
      radius: 8, color: "#b3261e", weight: 2, fillColor: "#ffffff", fillOpacity: 0.9,
    }).addTo(map);
    marker.bindTooltip(card.dataset.code);
    marker.on("click", () => card.scrollIntoView({ behavior: "smooth" }));
    if (marker.getElement()) marker.getElement().setAttribute("data-code", card.dataset.code);
  }
  document.body.dataset.mapped = "1";
})();

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
