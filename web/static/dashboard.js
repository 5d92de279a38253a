/* The leader's dashboard: counters live, waits per field, devices needing attention, the day. */
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const PAPER = { out: ["hết giấy", "out of paper"], near_end: ["sắp hết giấy", "paper near its end"] };
  LUOT.logout();
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
