"""Benchmark of the TV board: press → frame latency, frame cost, idle CPU and memory.

A private broker and the real dispatcher serve a 30-counter centre; the board
runs as its own process (`luot display`, dummy SDL video and audio, 1920×1080,
a notice long enough to scroll) and logs each frame with the counter cards on
it. A press (a counter device's `next`) is timed from just before the command
is published to the flip of the first frame that shows that counter's new
number; it includes the dispatcher's durable commit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import bench_run, emit, idle_cpu_pct, rss_mb, wait_for_dispatcher, wait_or_fail
from dispatcher.service import Dispatcher
from display.voice import build_voice_pack
from luot.config import load_site
from luot.mqtt import HubLink
from luot.stats import percentile
from testbed.broker import Mosquitto
from testbed.sample_site import write_site
from testbed.supervisor import stop_process

COUNTERS = 30
PRESSING = 5  # counters whose officers press NEXT, each from its own counter device
SIZE = "1920x1080"
LONG_NOTICE = (
    "Công dân vui lòng giữ trật tự, giữ phiếu số thứ tự và theo dõi màn hình; "
    "hồ sơ cần chuẩn bị theo danh mục in trên phiếu. Xin trân trọng cảm ơn!"
)


def read_frames(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def first_frame_showing(frames: list[dict[str, Any]], counter: int, number: str,
                        after: float) -> float | None:
    key = str(counter)
    for frame in frames:
        if frame["at"] >= after and frame["cards"].get(key) == number:
            return float(frame["at"])
    return None


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="luot-bench-site-") as tmp:
        site = load_site(write_site(Path(tmp), COUNTERS, notice=LONG_NOTICE))
    with bench_run(__doc__ or "", site) as run:
        broker, workdir = run.broker, run.workdir
        presses, idle_s = (60, 5.0) if run.quick else (300, 10.0)
        run.measure_raw(200, 1000)
        hub = Dispatcher(site, workdir / "luot.db", broker.settings("hub"))
        hub.start()
        kiosk = HubLink(broker.settings("kiosk-1"), device_id="kiosk-1", site=site.id, purpose="bench")
        counters = {
            n: HubLink(broker.settings(f"quay-{n}"), device_id=f"quay-{n}", site=site.id, purpose="bench")
            for n in range(1, PRESSING + 1)
        }
        links = [kiosk, *counters.values()]
        for link in links:
            link.start()
        board: subprocess.Popen[bytes] | None = None
        try:
            if not all(link.wait_connected(5) for link in links):
                raise RuntimeError("the bench clients could not connect")
            wait_for_dispatcher(kiosk)  # a take sent before it subscribed would go unanswered
            codes = [s.code for s in site.services]
            for i in range(presses + 2 * COUNTERS):
                kiosk.request("take", service=codes[i % len(codes)])
            voice = workdir / "voice"
            build_voice_pack(voice)
            frame_log = workdir / "frames.jsonl"
            board = start_board(broker, workdir, voice, frame_log)
            wait_or_fail(lambda: any(len(f["cards"]) == COUNTERS for f in read_frames(frame_log)), 15,
                         "the board's first frame", step=0.05)
            time.sleep(1.0)  # let the retained replay settle
            idle = idle_cpu_pct(board.pid, idle_s)

            pressed: list[tuple[int, str, float]] = []
            serving: dict[int, int | None] = dict.fromkeys(counters)
            for i in range(presses):
                counter = i % PRESSING + 1
                started = time.monotonic()
                reply = counters[counter].request("next", counter=counter, expect=serving[counter])
                ticket = reply["ticket"]
                serving[counter] = ticket["id"] if ticket else None
                if ticket is not None:
                    pressed.append((counter, ticket["number"], started))
                time.sleep(0.03)
            time.sleep(1.0)
            memory = rss_mb(board.pid)
            frames = read_frames(frame_log)
        finally:
            if board is not None:
                stop_process(board)
            for link in links:
                link.stop()
            hub.stop()
    latencies = []
    for counter, number, started in pressed:
        shown = first_frame_showing(frames, counter, number, started)
        if shown is None:
            raise RuntimeError(f"no frame showed {number} at counter {counter}")
        latencies.append((shown - started) * 1000)
    call_frames = [f["ms"] for f in frames if f["calls"]]
    target = run.target_ms(20)
    p99 = percentile(latencies, 99)
    emit({
        "presses": len(latencies),
        "press_to_frame_p50_ms": round(percentile(latencies, 50), 2),
        "press_to_frame_p99_ms": round(p99, 2),
        "press_to_frame_target_ms": round(target, 2),
        "frame_ms_p50": round(percentile(call_frames, 50), 2),
        "frame_ms_p99": round(percentile(call_frames, 99), 2),
        "full_frame_ms": round(frames[0]["ms"], 2),
        "idle_cpu_pct": idle,
        "rss_mb": memory,
        **run.raw,
        "ok": p99 <= target and idle <= 1 and memory <= 90,
    })


def start_board(broker: Mosquitto, workdir: Path, voice: Path, frame_log: Path) -> subprocess.Popen[bytes]:
    device = broker.write_device_file(
        workdir / "tv-1.toml", "tv-1", f'[display]\nvoice = "{voice}"\nsound = true\n', log_level="warning"
    )
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    return subprocess.Popen(
        [sys.executable, "-m", "luot", "display", "--config", str(device), "--size", SIZE, "--windowed",
         "--frame-log", str(frame_log)],
        env=env, cwd=Path(__file__).resolve().parent.parent,
    )


if __name__ == "__main__":
    main()
