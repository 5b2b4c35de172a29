// The operations room: draws /api/room's snapshot, keeps it live over server-sent events,
// and posts the operators' actions (with the session's CSRF token).
"use strict";

const T = wordsOf();
const CSRF = document.body.dataset.csrf;
const selected = new Set();
let mapView = null;
let current = null;
const extra = { sirens: L.layerGroup(), overlays: L.layerGroup() };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function fill(id, ...nodes) {
  const target = document.getElementById(id);
  target.replaceChildren(...nodes.flat());
}

function levelBadge(level) {
  return el("span", { class: "badge " + level }, T[level] || level.toUpperCase());
}

function age(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 120) return seconds + " s";
  if (seconds < 7200) return Math.round(seconds / 60) + " min";
  return Math.round(seconds / 3600) + " j";
}

function toast(text, bad) {
  const box = document.getElementById("toast");
  box.textContent = text;
  box.className = "toast" + (bad ? " bad" : "");
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 6000);
}

async function post(url, body) {
  body.set("csrf", CSRF);
  const reply = await fetch(url, { method: "POST", body, credentials: "same-origin", headers: { accept: "application/json" } });
  let answer = { ok: false, message: reply.status + "" };
  try { answer = await reply.json(); } catch (e) { /* not JSON: keep the status */ }
  return answer;
}

function renderAlerts(data) {
  if (!data.alerts.length) return fill("alerts", el("p", { class: "quiet", id: "no-alerts" }, T.no_alerts));
  const rows = data.alerts.map((a) => {
    const progress = Object.entries(a.progress.channels).map(([channel, c]) =>
      el("span", { class: "progress" }, channel + ": ", el("b", {}, c.sent), " " + T.sent + ", ",
        el("b", {}, c.waiting), " " + T.waiting + ", ", el("b", { class: c.failed ? "bad" : "" }, c.failed), " " + T.failed));
    const history = el("details", {}, el("summary", {}, T.history),
      el("ul", { class: "history" }, a.history.map((h) => el("li", {}, h.time + " · " + h.kind + " · " + h.area_id + " · " + (h.level || "") + " · " + h.reason))));
    const action = data.me.can_act && !a.drill
      ? el("button", { class: "danger cancel", "data-alert": a.id, onclick: () => openCancel(a) }, T.cancel)
      : null;
    return el("div", { class: "alert " + a.level + (a.drill ? " drill" : ""), "data-rule": a.rule, "data-level": a.level },
      el("div", { class: "alert-head" }, levelBadge(a.level), a.drill ? el("span", { class: "badge drill" }, "LATIHAN") : null,
        el("b", {}, a.rule), el("span", { class: "src" }, T[a.source] || T.manual_source), action),
      el("div", {}, T.kelurahan + ": " + a.areas.join(", ")),
      el("div", { class: "small" }, T.started + ": " + (a.started || "–") + " · " + T.reached + ": " + a.progress.people + " " + T.people + ", " + a.progress.sirens + " " + T.sirens.toLowerCase()),
      el("div", { class: "small" }, T.progress + ": ", progress),
      history);
  });
  fill("alerts", rows);
}

function renderApprovals(data) {
  if (!data.approvals.length) return fill("approvals", el("p", { class: "quiet" }, "–"));
  fill("approvals", data.approvals.map((p) => el("div", { class: "approval", "data-approval": p.id },
    levelBadge(p.level), " #" + p.id + " " + p.areas + (p.siren ? " + " + T.sirens : ""),
    el("div", { class: "small" }, p.requested_by + " · " + p.requested_at),
    el("q", {}, p.message),
    p.may_approve ? el("button", { class: "approve", onclick: () => decide("/actions/approve", p.id) }, T.approve) : null,
    data.me.can_act ? el("button", { class: "reject", onclick: () => decide("/actions/reject", p.id) }, T.reject) : null)));
}

async function decide(url, id) {
  const body = new FormData();
  body.set("id", id);
  const answer = await post(url, body);
  toast(answer.message, !answer.ok);
}

function renderFeeds(data) {
  fill("feeds", data.feeds.map((f) => el("span", { class: "chip feed " + f.health, title: f.error || "", "data-feed": f.name },
    f.name + " · " + f.health + " · " + T.age + " " + age(f.age_s))));
  const d = data.daemon;
  const text = d.ok === null ? T.daemon + ": –" : d.ok
    ? T.daemon + " ✓ " + T.heartbeat + " " + d.heartbeat_age_s + " s"
    : T.daemon + ": " + (d.status === "unreachable" ? T.unreachable : d.status);
  const chip = document.getElementById("daemon");
  chip.textContent = text;
  chip.className = "chip " + (d.ok ? "ok" : d.ok === null ? "" : "down");
}

function renderLists(data) {
  fill("outbox", data.outbox.length ? el("table", {}, el("tbody", {}, data.outbox.map((o) =>
    el("tr", { class: o.status }, el("td", {}, o.created), el("td", {}, o.channel), el("td", {}, o.recipient),
      el("td", {}, o.status), el("td", { class: "small" }, o.error || ""))))) : el("p", { class: "quiet" }, "–"));
  fill("audit", el("ul", { class: "audit" }, data.audit.map((a) =>
    el("li", {}, a.time + " · ", el("b", {}, a.actor), " · " + a.action + (a.reason ? " · " + a.reason : "")))));
  fill("sirens", el("ul", {}, data.sirens.map((s) => el("li", { class: s.failed ? "bad" : "", "data-siren": s.id },
    el("b", {}, s.id), " · " + (s.command || "–") + " · " + (s.time || "–") + " · ack " + (s.acknowledged || "–")))));
  fill("silences", data.silences.length ? data.silences.map((s) => el("div", { class: "silence" },
    el("b", {}, s.rule), " → " + s.ends_at + " · " + s.actor + ": " + s.reason,
    data.me.can_act ? el("button", { onclick: () => decide("/actions/unsilence", s.id) }, T.end) : null)) : el("p", { class: "quiet" }, "–"));
  const drill = data.last_drill;
  const test = data.last_siren_test;
  fill("drills",
    el("p", {}, T.last_drill + ": " + (drill ? drill.time + " · " + (drill.scenario || drill.mode || "") + (drill.finished ? " → " + drill.finished : " …") : T.never)),
    el("p", {}, T.last_siren_test + ": " + (test ? test.time + " · " + Object.entries(test.acknowledged).map(([k, v]) => k + (v ? " ✓" : " ✗")).join(", ") : T.never)));
}

// Silenced rules are written on the map itself, so nobody reads a quiet map as "all clear".
const silenceNote = L.control({ position: "topright" });
silenceNote.onAdd = () => L.DomUtil.create("div", "map-note");

function renderSilences(data) {
  const box = silenceNote.getContainer();
  if (!box) return;
  box.id = "map-silences";
  box.hidden = !data.silences.length;
  box.replaceChildren(...data.silences.map((s) => el("div", {}, T.silences + ": " + s.rule + " → " + s.ends_at)));
}

function renderMap(data) {
  if (!mapView) return;
  renderSilences(data);
  mapView.setLevels(data.levels, data.drill_levels, selected);
  extra.sirens.clearLayers();
  for (const s of data.sirens) {
    const area = mapView.kelurahan[s.area_ids[0]];
    if (!area) continue;
    L.circleMarker(area.getBounds().getCenter(), {
      radius: 7, color: "#111", weight: 2, fillColor: s.failed ? "#d50000" : "#ffffff", fillOpacity: 1,
      className: "siren" + (s.failed ? " failed" : ""),
    }).bindTooltip(s.id + ": " + (s.command || "–") + " · ack " + (s.acknowledged || "–")).addTo(extra.sirens);
  }
  extra.overlays.clearLayers();
  for (const n of data.overlays.nowcasts) {
    L.polygon(n.rings, { color: "#6a1b9a", weight: 2, dashArray: "4 4", fillOpacity: 0.08, interactive: false }).addTo(extra.overlays);
  }
  for (const q of data.overlays.quakes) {
    L.circleMarker([q.lat, q.lon], { radius: 6 + (q.magnitude || 0), color: "#4e342e", fillColor: "#8d6e63", fillOpacity: 0.5 })
      .bindTooltip(T.quake + " M" + q.magnitude + " · " + q.time).addTo(extra.overlays);
  }
}

function render(data) {
  current = data;
  document.getElementById("drill-banner").hidden = !data.drill_running;
  renderFeeds(data);
  renderAlerts(data);
  renderApprovals(data);
  renderLists(data);
  renderMap(data);
  document.body.dataset.ready = "1";
}

function openCancel(alert) {
  document.getElementById("cancel-ids").value = alert.id;
  document.getElementById("cancel-what").textContent = alert.level.toUpperCase() + " · " + alert.rule + " · " + alert.areas.join(", ");
  document.getElementById("cancel-error").textContent = "";
  document.getElementById("cancel-reason").value = "";
  document.getElementById("cancel-dialog").showModal();
}

function wireForms() {
  for (const form of document.querySelectorAll("form.action")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const answer = await post(form.dataset.action, new FormData(form));
      if (form.id === "cancel-form") {
        if (!answer.ok) { document.getElementById("cancel-error").textContent = answer.message; return; }
        document.getElementById("cancel-dialog").close();
      }
      toast(answer.message, !answer.ok);
      if (answer.ok && form.id === "manual-form") { form.reset(); selected.clear(); countSegments(); }
    });
  }
  const close = document.getElementById("cancel-close");
  if (close) close.addEventListener("click", () => document.getElementById("cancel-dialog").close());
  const message = document.getElementById("manual-message");
  if (message) {
    message.addEventListener("input", countSegments);
    document.getElementById("manual-level").addEventListener("change", countSegments);
  }
  const areas = document.getElementById("manual-areas");
  if (areas) areas.addEventListener("change", () => {
    selected.clear();
    for (const option of areas.selectedOptions) selected.add(option.value);
    if (current) renderMap(current);
  });
}

// Live GSM-7 count of what will be sent: the level word is put first unless written.
function countSegments() {
  const box = document.getElementById("manual-message");
  const basic = box.dataset.basic, ext = box.dataset.ext;
  const level = document.getElementById("manual-level").value.toUpperCase();
  let text = box.value.trim().split(/\s+/).join(" ");
  if (text && !text.toUpperCase().includes(level)) text = level + ": " + text;
  let units = 0, foreign = 0;
  for (const c of text) {
    if (ext.includes(c)) units += 2; else { units += 1; if (!basic.includes(c)) foreign += 1; }
  }
  const segments = units === 0 ? 0 : units <= 160 ? 1 : Math.ceil(units / 153);
  const line = document.getElementById("segments");
  line.textContent = units + "/160 " + T.chars + ", " + segments + " " + T.segments + (foreign ? " (" + foreign + " ?)" : "");
  line.className = "small" + (segments > 1 ? " bad" : "");
  line.dataset.segments = segments;
}

function pickArea(id) {
  const areas = document.getElementById("manual-areas");
  if (!areas) return;
  if (selected.has(id)) selected.delete(id); else selected.add(id);
  for (const option of areas.options) option.selected = selected.has(option.value);
  if (current) renderMap(current);
}

function listen() {
  const live = document.getElementById("live");
  const source = new EventSource("/events");
  source.onopen = () => { live.textContent = "● " + T.live; live.className = "live ok"; };
  source.onmessage = (event) => render(JSON.parse(event.data));
  source.addEventListener("logout", () => { source.close(); window.location = "/login"; });
  source.onerror = () => { live.textContent = "○ " + T.offline; live.className = "live down"; };
}

(async () => {
  wireForms();
  const canAct = document.body.dataset.role !== "viewer";
  mapView = await buildMap("map", canAct ? pickArea : null);
  extra.sirens.addTo(mapView.map);
  silenceNote.addTo(mapView.map);
  extra.overlays.addTo(mapView.map);
  render(await getJSON("/api/room"));
  listen();
})();
