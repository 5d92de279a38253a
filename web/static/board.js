/* The hallway board in a browser (a smart TV with no Pi behind it): counters, waiting, calls. */
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  let lastSeq = null;
  let flashTimer = null;
  const tick = () => { $("clock").textContent = new Date().toTimeString().slice(0, 5); };
  tick();
  setInterval(tick, 1000);
  // A TV's browser plays sound only after a press (the remote's OK): then every call chimes.
  document.addEventListener("keydown", LUOT.unlockSound);
  document.addEventListener("click", LUOT.unlockSound);
  function flash(call) {
    LUOT.chime();
    $("flash-number").textContent = call.number;
    $("flash-counter").textContent = `đến quầy số ${call.counter}`;
    $("flash-en").textContent = `Number ${call.number}, please go to counter ${call.counter}`;
    $("flash").classList.remove("hidden");
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => $("flash").classList.add("hidden"), 4000);
  }
  function render(v) {
    $("centre").innerHTML = LUOT.bi(v.centre.name, v.centre.name_en);
    $("notice").innerHTML = LUOT.bi(v.notice, v.notice_en);
    $("counters").innerHTML = v.counters.map((c) => `<div class="card ${c.status}"><span class="name">${LUOT.bi(`Quầy ${c.number}`, `Counter ${c.number}`)}</span>`
      + `<span class="num">${c.status === "paused" ? LUOT.bi("Tạm nghỉ", "Paused") : c.serving ? LUOT.esc(c.serving.number) : "—"}</span></div>`).join("");
    $("fields").innerHTML = v.fields.map((f) => `<tr><td>${LUOT.bi(f.name, f.name_en)}</td><td class="num">${LUOT.dash(f.waiting)}</td></tr>`).join("");
    $("recent").innerHTML = v.calls.map((c) => `<li>${LUOT.esc(c.number)} → ${LUOT.bi(`quầy ${c.counter}`, `counter ${c.counter}`)}</li>`).join("");
    const newest = v.calls[0];
    if (newest && lastSeq !== null && newest.seq !== lastSeq) flash(newest);
    lastSeq = newest ? newest.seq : 0;
  }
  LUOT.follow("/board/events", render);
})();
