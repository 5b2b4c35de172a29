// /peta: the residents' read-only map, refreshed every 30 s.
"use strict";

(async () => {
  const { setLevels } = await buildMap("map");
  async function refresh() {
    const areas = await getJSON("/api/areas");
    const live = {};
    for (const f of areas.features) live[f.properties.id] = f.properties.level;
    setLevels(live, {});
    // The same levels as words, for readers who cannot see the colours.
    const words = wordsOf();
    const list = document.getElementById("alerted");
    const named = areas.features.filter((f) => f.properties.level !== "none")
      .sort((a, b) => a.properties.name.localeCompare(b.properties.name));
    list.replaceChildren(...named.map((f) => {
      const item = document.createElement("li");
      item.textContent = (words[f.properties.level] || f.properties.level) + ": " + f.properties.name;
      item.className = f.properties.level;
      return item;
    }));
    document.getElementById("updated").textContent = new Date().toLocaleTimeString("id-ID", { timeZone: "Asia/Makassar" }) + " WITA";
    document.body.dataset.ready = "1";
  }
  await refresh();
  setInterval(() => refresh().catch(() => {}), 30000);
})();
