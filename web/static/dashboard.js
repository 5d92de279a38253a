/* The leader's dashboard: counters live, waits per field, devices needing attention, the day. */
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const PAPER = { out: ["hết giấy", "out of paper"], near_end: ["sắp hết giấy", "paper near its end"] };
  LUOT.logout();
  const CLOCK_HELD = { unsynchronised: true, jumped: true };
  let clock = null;  // the hub's clock as last received, and when it was received here
  // The hub's time, ticking here: what it sent plus the time since; `wall` read with getUTC*.
  function hubClock() {
    const zone = clock.now.slice(19) || "+00:00";
    const offset = (zone[0] === "-" ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
    const utc = Date.parse(clock.now) + (Date.now() - clock.at);
    return { utc: new Date(utc), wall: new Date(utc + offset * 60000) };
  }
  const hubTime = () => {
    const w = hubClock().wall, p = (n) => String(n).padStart(2, "0");
    return [`${p(w.getUTCHours())}:${p(w.getUTCMinutes())}`, `${p(w.getUTCDate())}/${p(w.getUTCMonth() + 1)}/${w.getUTCFullYear()}`];
  };
  const showClock = () => {
    if (!clock || !CLOCK_HELD[clock.state]) return;
    const [hm, date] = hubTime();
    $("clock-text").innerHTML = LUOT.bi(
      `Giờ của hệ thống chưa được xác nhận nên chưa cấp số. Giờ hệ thống: ${hm} ngày ${date}. Nếu đúng, bấm “Giờ này đúng”; nếu sai, gọi kỹ thuật viên.`,
      `The hub's clock is not confirmed, so no numbers are given. Hub time: ${hm}, ${date}. If it is right, press “This time is right”; if not, call the technician.`);
  };
  setInterval(showClock, 1000);
  $("confirm-clock").onclick = async () => {
    const shown = hubClock().utc.toISOString();
    const r = await LUOT.post("/dashboard/confirm_clock", { shown });
    $("outcome").className = "outcome wide " + (r.ok ? "good" : "bad");
    $("outcome").innerHTML = r.ok ? LUOT.bi("Đã xác nhận giờ; hệ thống cấp số trở lại.", "The clock is confirmed; numbers are given again.")
      : LUOT.bi(`Chưa xác nhận được: ${r.error}`, `Not confirmed: ${r.error}`);
  };
  document.querySelectorAll("button[data-op]").forEach((b) => {
    b.onclick = async () => {
      const r = await LUOT.post(`/dashboard/${b.dataset.op}`);
      const el = $("outcome");
      el.className = "outcome wide " + (r.ok ? "good" : "bad");
      el.innerHTML = r.ok
        ? (b.dataset.op === "open" ? LUOT.bi("Đã mở ngày làm việc.", "The day is open.") : LUOT.bi("Đã đóng ngày làm việc.", "The day is closed."))
        : LUOT.bi(`Không thực hiện được: ${r.error}`, `Not done: ${r.error}`);
    };
  });
  const showUnprinted = LUOT.unprinted($("unprinted"), (ok, vi, en) => {
    $("outcome").className = "outcome wide " + (ok ? "good" : "bad");
    $("outcome").innerHTML = LUOT.bi(vi, en);
  });
  const cell = (x, unit) => (x == null ? "–" : LUOT.esc(x) + (unit || ""));
  function render(v) {
    clock = { ...v.clock, at: Date.now() };
    $("clock-box").classList.toggle("hidden", !CLOCK_HELD[v.clock.state]);
    showClock();
    document.body.dataset.open = String(v.open);
    $("centre").innerHTML = LUOT.bi(v.centre.name, v.centre.name_en);
    $("day").className = "pill " + (v.open ? "serving" : "closed");
    $("day").innerHTML = v.open ? LUOT.bi(`Ngày ${v.day || ""}: đang mở`, "Open") : LUOT.bi(`Ngày ${v.day || ""}: đã đóng`, "Closed");
    $("open").disabled = !!v.open;
    $("close").disabled = !v.open;
    const t = v.today;
    $("today").innerHTML = [["Đã cấp", "Issued", t.issued], ["Đang chờ", "Waiting", t.waiting],
      ["Đã phục vụ", "Served", t.served], ["Chờ TB (phút)", "Mean wait (min)", t.avg_wait_min]]
      .map((x) => `<div>${LUOT.bi(x[0], x[1])}<b>${cell(x[2])}</b></div>`).join("");
    $("counters").innerHTML = v.counters.map((c) => `<tr><td>${c.number}</td><td>${LUOT.status(c.status)}</td>`
      + `<td>${c.serving ? LUOT.esc(c.serving.number) : "–"}</td><td>${c.serving ? LUOT.time(c.serving.called_at) : ""}</td></tr>`).join("");
    $("fields").innerHTML = v.fields.map((f) => `<tr><td>${LUOT.bi(f.name, f.name_en)}</td><td>${cell(f.issued)}</td>`
      + `<td>${cell(f.waiting)}</td><td>${cell(f.served)}</td><td>${cell(f.noshow)}</td>`
      + `<td>${cell(f.avg_wait_min, "′")}</td><td>${cell(f.est_wait_min, "′")}</td></tr>`).join("");
    const bad = v.devices.filter((d) => d.status === "offline" || PAPER[d.paper]);
    $("devices").innerHTML = bad.length ? bad.map((d) => d.status === "offline"
      ? `<li class="offline">${LUOT.bi(`${d.id}: mất kết nối`, `${d.id}: offline`)}</li>`
      : `<li class="paper">${LUOT.bi(`${d.id}: máy in ${PAPER[d.paper][0]}`, `${d.id}: printer ${PAPER[d.paper][1]}`)}</li>`).join("")
      : `<li>${LUOT.bi("Mọi thiết bị đều hoạt động.", "Every device is working.")}</li>`;
    showUnprinted(v.unprinted);
  }
  LUOT.follow("/dashboard/events", render);
})();
