// /peta: the residents' read-only map, refreshed every 30 s.
"use strict";

(async () => {
  const { setLevels } = await buildMap("map");
  async function refresh() {
    const areas = await getJSON("/api/areas");
    const live = {};
    for (const f of areas.features) live[f.properties.id] = f.properties.level;
    setLevels(live, {});
    document.getElementById("updated").textContent = new Date().toLocaleTimeString("id-ID", { timeZone: "Asia/Makassar" }) + " WITA";
    document.body.dataset.ready = "1";
  }
  await refresh();
  setInterval(() => refresh().catch(() => {}), 30000);
})();
