// The Balikpapan map shared by the operations room and /peta: kelurahan coloured by level,
// kecamatan outlines, drills hatched. Every asset is local; tiles only when configured.
"use strict";

const COLOURS = { none: "#dfe9dc", waspada: "#f2c200", siaga: "#ef6c00", awas: "#c62828" };

function wordsOf() {
  return JSON.parse(document.body.dataset.words || "{}");
}

async function getJSON(url) {
  const reply = await fetch(url, { headers: { accept: "application/json" }, credentials: "same-origin" });
  if (!reply.ok) throw new Error(url + ": " + reply.status);
  return reply.json();
}

// Build the map; returns { map, kelurahan: {id: layer}, setLevels(live, drill) }.
async function buildMap(elementId, onAreaClick) {
  const map = L.map(elementId, { attributionControl: false, zoomSnap: 0.25, preferCanvas: false });
  const tiles = document.body.dataset.tiles;
  if (tiles) L.tileLayer(tiles, { maxZoom: 17 }).addTo(map);
  const [areas, kecamatan] = await Promise.all([getJSON("/api/areas"), getJSON("/api/kecamatan")]);
  const kelurahan = {};
  const layer = L.geoJSON(areas, {
    style: () => ({ color: "#4a5a48", weight: 1, fillColor: COLOURS.none, fillOpacity: 0.75 }),
    onEachFeature: (feature, item) => {
      kelurahan[feature.properties.id] = item;
      item.feature.properties.name = feature.properties.name;
      item.bindTooltip(feature.properties.name, { sticky: true });
      if (onAreaClick) item.on("click", () => onAreaClick(feature.properties.id));
    },
  }).addTo(map);
  L.geoJSON(kecamatan, {
    style: () => ({ color: "#1b2a38", weight: 2.5, fill: false, dashArray: "6 4" }),
    interactive: false,
  }).addTo(map);
  map.fitBounds(layer.getBounds(), { padding: [8, 8] });
  window.addEventListener("resize", () => map.invalidateSize());
  function setLevels(live, drill, selected) {
    for (const [id, item] of Object.entries(kelurahan)) {
      const level = live[id] || "none";
      const drilled = drill && drill[id];
      const fill = level === "none" && drilled ? "url(#hatch-" + drilled + ")" : COLOURS[level];
      const picked = selected && selected.has(id);
      item.setStyle({
        fillColor: fill,
        fillOpacity: level === "none" && !drilled ? 0.55 : 0.85,
        weight: picked ? 4 : 1,
        color: picked ? "#0d47a1" : "#4a5a48",
      });
      item.getElement && item.getElement() && item.getElement().setAttribute("data-level", level);
      if (item.getElement && item.getElement()) {
        item.getElement().setAttribute("data-area", id);
        item.getElement().setAttribute("data-drill", drilled || "");
      }
    }
  }
  return { map, kelurahan, setLevels };
}
