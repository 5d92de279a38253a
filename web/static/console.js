/* The officer's console: the counter's citizen and line, the call-pad actions and their keys. */
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const counter = LUOT.meta("counter");
  let view = null;
  let busy = false;
  const ERRORS = {
    stale: ["Màn hình chưa cập nhật kịp, lệnh không thực hiện. Xem lại và thử lại.", "The screen was behind; nothing was done. Check and try again."],
    queue_empty: ["Không còn ai chờ.", "Nobody is waiting."],
    no_current_ticket: ["Quầy chưa phục vụ ai.", "This counter is serving no one."],
    forbidden: ["Không có quyền thực hiện lệnh này cho quầy này.", "Not allowed for this counter."],
    day_closed: ["Ngày làm việc đã đóng.", "The day is closed."],
    hub_timeout: ["Hệ thống không trả lời kịp: lệnh không được thực hiện. Vui lòng thử lại.", "No answer from the hub in time: the command was not carried out. Please try again."],
    hub_unreachable: ["Mất kết nối tới hệ thống; lệnh không được gửi.", "No link to the hub; the command was not sent."],
    network: ["Mất kết nối tới máy chủ; lệnh có thể chưa được gửi.", "Lost the connection to the server; the command may not have been sent."],
    csrf: ["Phiên làm việc đã hết hạn, vui lòng đăng nhập lại.", "Your session expired; please log in again."],
    login: ["Phiên làm việc đã hết hạn, vui lòng đăng nhập lại.", "Your session expired; please log in again."],
  };
  const DONE = {
    next: (t) => t ? [`Đã gọi số ${t}`, `Called ${t}`] : ["Không còn ai chờ.", "Nobody is waiting."],
    recall: (t) => [`Đã gọi lại số ${t}`, `Called ${t} again`],
    noshow: (t) => t ? [`Vắng mặt; đã gọi số ${t}`, `No-show; called ${t}`] : ["Đã ghi vắng mặt.", "Marked as no-show."],
    done: () => ["Đã xong.", "Done."],
    requeue: (t) => [`Số ${t} chờ bổ sung hồ sơ`, `${t} back in line to complete the dossier`],
    transfer: (t) => [`Đã chuyển số ${t}`, `Transferred ${t}`],
    pause: () => ["Quầy tạm nghỉ.", "The counter is paused."],
    resume: () => ["Quầy làm việc lại.", "The counter is open again."],
  };
  function say(ok, texts) {
    const el = $("outcome");
    el.className = "outcome " + (ok ? "good" : "bad");
    el.innerHTML = LUOT.bi(texts[0], texts[1]);
  }
  async function act(op) {
    if (busy || !view) return;
    if (op === "pause" && view.status === "paused") op = "resume";
    const body = { expect: view.serving ? view.serving.id : null };
    if (op === "transfer") body.service = $("target").value;
    busy = true;
    document.body.dataset.busy = "1";
    const r = await LUOT.post(`/console/${counter}/${op}`, body);
    busy = false;
    delete document.body.dataset.busy;
    if (r.ok) say(true, DONE[op](r.ticket));
    else say(false, ERRORS[r.error] || [`Hệ thống từ chối: ${r.error}`, `Refused: ${r.error}`]);
  }
  document.querySelectorAll("button[data-op]").forEach((b) => { b.onclick = () => act(b.dataset.op); });
  const KEYS = { Enter: "next", n: "next", r: "recall", v: "noshow", d: "done", b: "requeue", p: "pause", t: "transfer" };
  document.addEventListener("keydown", (e) => {
    if (e.target.tagName === "SELECT" || e.ctrlKey || e.altKey || e.metaKey) return;
    const op = KEYS[e.key] || KEYS[e.key.toLowerCase()];
    if (op) { e.preventDefault(); act(op); }
  });
  LUOT.logout();
  const showUnprinted = LUOT.unprinted($("unprinted"), (ok, vi, en) => say(ok, [vi, en]));
  function render(v) {
    view = v;
    document.body.dataset.serving = v.serving ? v.serving.number : "";
    document.body.dataset.status = v.status || "";
    $("state").className = "pill " + (v.status || "");
    $("state").innerHTML = LUOT.status(v.status);
    $("pause").innerHTML = v.status === "paused" ? `Làm việc lại <span class="en" lang="en">Resume</span> <kbd>P</kbd>`
      : `Tạm nghỉ <span class="en" lang="en">Pause</span> <kbd>P</kbd>`;
    $("current").textContent = v.serving ? v.serving.number : "—";
    const f = v.serving && v.fields.find((x) => x.code === v.serving.service);
    $("current-info").innerHTML = v.serving
      ? LUOT.bi(`${f ? f.name : v.serving.service} · gọi lúc ${LUOT.time(v.serving.called_at)} · lần gọi ${v.serving.calls}`,
                `${f ? f.name_en : ""} · called at ${LUOT.time(v.serving.called_at)} · call ${v.serving.calls}`)
      : LUOT.bi("Bấm “Gọi tiếp” để mời công dân", "Press “Next” to call a citizen");
    const chosen = $("target").value;
    $("target").innerHTML = v.fields.filter((x) => !v.serving || x.code !== v.serving.service)
      .map((x) => `<option value="${LUOT.esc(x.code)}">${LUOT.esc(x.name)} / ${LUOT.esc(x.name_en)}</option>`).join("");
    if (chosen) $("target").value = chosen;
    $("line").innerHTML = v.line.map((x) => `<tr><td>${LUOT.bi(x.name, x.name_en)}</td><td>${LUOT.dash(x.waiting)}</td>`
      + `<td>${LUOT.dash(x.waiting_priority)}</td><td>${LUOT.dash(x.last_issued)}</td>`
      + `<td>${x.est_wait_min == null ? "–" : x.est_wait_min + " phút / min"}</td></tr>`).join("");
    showUnprinted(v.unprinted);
  }
  LUOT.follow("/console/events", render);
})();
