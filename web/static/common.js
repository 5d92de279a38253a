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
    else if (view.clock && ["unsynchronised", "jumped"].includes(view.clock.state)) html = LUOT.bi("Chưa cấp số: giờ của hệ thống chưa được xác nhận.", "No numbers yet: the hub's clock is not confirmed.");
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
  REPRINT: {
    not_unprinted: ["Số này không còn trong danh sách chưa in.", "This number is no longer among the unprinted."],
    kiosk_offline: ["Ki-ốt đang mất kết nối; chưa in được.", "The kiosk is offline; nothing was printed."],
    not_kept: ["Ki-ốt không còn giữ phiếu này; không in.", "The kiosk no longer keeps this ticket; nothing was printed."],
    expired: ["Ki-ốt nhận lệnh quá muộn; không in.", "The kiosk got the order too late; nothing was printed."],
    kiosk_silent: ["Ki-ốt chưa trả lời. Xem lại danh sách bên dưới trước khi thử lại.", "The kiosk has not answered. Check the list below before trying again."],
    hub_unreachable: ["Mất kết nối tới hệ thống; lệnh không được gửi.", "No link to the broker; the order was not sent."],
    network: ["Mất kết nối tới máy chủ; lệnh có thể chưa được gửi.", "Lost the connection to the server; the order may not have been sent."],
    out_of_paper: ["Máy in hết giấy; chưa in được.", "The printer is out of paper; not printed."],
    cover_open: ["Nắp máy in đang mở; chưa in được.", "The printer cover is open; not printed."],
    offline: ["Máy in không sẵn sàng; chưa in được.", "The printer is not ready; not printed."],
    unplugged: ["Không tìm thấy máy in; chưa in được.", "The printer is not connected; not printed."],
    not_answering: ["Máy in không phản hồi; chưa in được.", "The printer does not answer; not printed."],
  },
  /* The tickets kiosks could not print, each with its "Reprint" button; `say(ok, vi, en)` tells the outcome. */
  unprinted(list, say) {
    let busy = false;
    list.onclick = async (e) => {
      const b = e.target.closest("button[data-number]");
      if (!b || busy) return;
      busy = true;
      b.disabled = true;
      const { kiosk, number } = b.dataset;
      const r = await LUOT.post(`/reprint/${encodeURIComponent(kiosk)}`, { number });
      busy = false;
      b.disabled = false;
      if (r.ok) say(true, `Đã in lại số ${number} ở ${kiosk}.`, `${number} printed again at ${kiosk}.`);
      else {
        const t = LUOT.REPRINT[r.error] || [`Không in được: ${r.error}`, `Not printed: ${r.error}`];
        say(false, `${number}: ${t[0]}`, `${number}: ${t[1]}`);
      }
    };
    return (rows) => {
      list.innerHTML = (rows || []).length ? rows.map((u) => `<li>${LUOT.bi(`${u.kiosk}: số ${u.number} chưa in được`, `${u.kiosk}: ${u.number} not printed`)}`
        + ` <button type="button" data-kiosk="${LUOT.esc(u.kiosk)}" data-number="${LUOT.esc(u.number)}"${u.online ? "" : " disabled"}>`
        + `In lại <span class="en" lang="en">Reprint</span></button></li>`).join("")
        : `<li>${LUOT.bi("Mọi phiếu đều đã in.", "Every ticket was printed.")}</li>`;
    };
  },
  time(iso) { return iso ? iso.slice(11, 16) : ""; },
  STATUS: {
    serving: ["Đang phục vụ", "Serving"], idle: ["Đang trống", "Free"], paused: ["Tạm nghỉ", "Paused"],
    unknown: ["Chưa rõ", "Unknown"],
  },
  status(s) { const t = LUOT.STATUS[s] || LUOT.STATUS.unknown; return LUOT.bi(t[0], t[1]); },
};
