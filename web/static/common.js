/* Lượt pages: follow a server-sent event stream and keep the banner honest. */
"use strict";
const LUOT = {
  esc(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  },
  dash(value) { return value == null ? "–" : LUOT.esc(value); },
  bi(vi, en) { return `${LUOT.esc(vi)} <span class="en" lang="en">${LUOT.esc(en)}</span>`; },
  meta(name) { const m = document.querySelector(`meta[name="${name}"]`); return m ? m.content : ""; },
  banner(view) {
    const el = document.getElementById("banner");
    if (!el) return;
    let html = "";
    if (view === null) html = LUOT.bi("Mất kết nối với hệ thống, đang kết nối lại…", "Connection lost, reconnecting…");
    else if (!view.linked || !view.hub_online) html = LUOT.bi("Hệ thống gọi số đang tạm ngừng. Vui lòng chờ.", "The queue system is paused. Please wait.");
    else if (view.open === false) html = LUOT.bi("Hôm nay đã hết giờ cấp số.", "The day is closed.");
    el.innerHTML = html;
    el.classList.toggle("hidden", !html);
  },
  follow(url, render) {
    const source = new EventSource(url);
    source.onmessage = (e) => { const view = JSON.parse(e.data); LUOT.banner(view); render(view); };
    source.addEventListener("end", () => { source.close(); location.href = "/login"; });
    source.onerror = () => LUOT.banner(null);
    return source;
  },
  async post(url, body) {
    try {
      const r = await fetch(url, { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": LUOT.meta("csrf") },
        body: JSON.stringify(body || {}) });
      return await r.json();
    } catch (e) {
      return { ok: false, error: "network" };
    }
  },
  logout() {
    const b = document.getElementById("logout");
    if (b) b.onclick = async () => { await LUOT.post("/logout"); location.href = "/login"; };
  },
  audio: null,
  unlockSound() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (Ctx && !LUOT.audio) LUOT.audio = new Ctx();
  },
  chime() {
    const a = LUOT.audio;
    if (!a) return;
    [660, 880].forEach((hz, i) => {
      const osc = a.createOscillator(), gain = a.createGain(), at = a.currentTime + i * 0.35;
      osc.frequency.value = hz;
      gain.gain.setValueAtTime(0.25, at);
      gain.gain.exponentialRampToValueAtTime(0.001, at + 0.6);
      osc.connect(gain).connect(a.destination);
      osc.start(at);
      osc.stop(at + 0.6);
    });
  },
  time(iso) { return iso ? iso.slice(11, 16) : ""; },
  STATUS: {
    serving: ["Đang phục vụ", "Serving"], idle: ["Đang trống", "Free"], paused: ["Tạm nghỉ", "Paused"],
    unknown: ["Chưa rõ", "Unknown"],
  },
  status(s) { const t = LUOT.STATUS[s] || LUOT.STATUS.unknown; return LUOT.bi(t[0], t[1]); },
};
