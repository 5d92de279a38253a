/* The citizen's ticket page: place in line, then "Mời đến quầy số N" with a chime and a buzz. */
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  let lastCall = null;
  $("sound").onclick = () => {
    LUOT.unlockSound();
    $("sound").innerHTML = LUOT.bi("🔔 Đã bật âm thanh và rung", "Sound and vibration are on");
    LUOT.chime();
  };
  function render(v) {
    document.body.dataset.status = v.status;
    $("centre").innerHTML = LUOT.bi(v.centre.name, v.centre.name_en);
    $("number").textContent = v.number;
    $("field").innerHTML = LUOT.bi(v.field.name, v.field.name_en);
    if (v.checklist_url) { $("checklist-link").href = v.checklist_url; $("checklist").classList.remove("hidden"); }
    const box = $("status");
    box.className = "status " + v.status;
    let html;
    if (v.status === "called") {
      html = `<p class="big">${LUOT.bi(`Mời đến quầy số ${v.counter}`, `Please go to counter ${v.counter}`)}</p>`;
      const key = `${v.counter}:${v.calls}`;
      if (key !== lastCall) {
        lastCall = key;
        LUOT.chime();
        // Phones buzz only for a page the citizen has touched (the sound button does).
        const touched = !navigator.userActivation || navigator.userActivation.hasBeenActive;
        if (navigator.vibrate && touched) navigator.vibrate([400, 150, 400]);
      }
    } else if (v.status === "waiting") {
      const wait = v.est_wait_min == null ? ["chưa xác định", "not known yet"]
        : v.est_wait_min < 1 ? ["dưới 1 phút", "under a minute"]
        : [`khoảng ${v.est_wait_min} phút`, `about ${v.est_wait_min} min`];
      html = `<p class="big" id="ahead">${LUOT.bi(`Số người chờ trước: ${v.ahead}`, `People ahead of you: ${v.ahead}`)}</p>`
        + `<p>${LUOT.bi(`Thời gian chờ dự kiến: ${wait[0]}`, `Estimated wait: ${wait[1]}`)}</p>`;
    } else if (v.status === "passed") {
      html = `<p>${LUOT.bi("Số của bạn đã được gọi. Nếu bạn chưa được phục vụ, vui lòng hỏi cán bộ tại quầy.",
        "Your number has been called. If you have not been served, please ask an officer.")}</p>`;
    } else if (v.status === "other_day") {
      html = `<p>${LUOT.bi("Phiếu này không phải của hôm nay.", "This ticket is not for today.")}</p>`;
    } else {
      html = `<p>${LUOT.bi("Đang cập nhật…", "Updating…")}</p>`;
    }
    box.innerHTML = html;
    $("counters").innerHTML = v.counters.map((c) => {
      const now = c.status === "paused" ? LUOT.bi("Tạm nghỉ", "Paused")
        : c.serving ? LUOT.bi(`đang phục vụ số ${c.serving.number}`, `serving ${c.serving.number}`)
        : LUOT.bi("đang trống", "free");
      return `<li><span>${LUOT.bi(`Quầy ${c.number}`, `Counter ${c.number}`)}</span><span>${now}</span></li>`;
    }).join("");
  }
  LUOT.follow(`/t/${encodeURIComponent(LUOT.meta("token"))}/events`, render);
})();
