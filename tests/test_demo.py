"""`luot demo --headless` end to end: every process of a centre on this machine, a scripted
morning, then tickets, screenshots and the day's report in the output folder, and no
process left behind."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

from helpers import wait_for

from luot.config import load_site
from tools.demo import EXAMPLE_SITE, Demo, main

ROOT = Path(__file__).resolve().parent.parent


def processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if text in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def test_the_headless_demo_plays_a_morning_and_leaves_its_work_behind(tmp_path, artifacts):
    out = tmp_path / "demo"
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    run = subprocess.run([sys.executable, "-m", "luot", "demo", "--tickets", "5", "--out", str(out)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=90)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "No screen: playing a scripted morning" in run.stdout
    for page in ("/board", "/login ", "/login?user=admin ", "/t/…"):
        assert re.search(r"http://127\.0\.0\.1:\d+" + re.escape(page), run.stdout), page
    assert f"{out.resolve()}/tickets" in run.stdout

    summary = json.loads((out / "demo.json").read_text())
    tickets = sorted((out / "tickets").glob("*.png"))
    shots = sorted((out / "screenshots").glob("*.png"))
    assert summary["tickets"] == len(tickets) == 5
    assert len(shots) >= summary["calls"] >= 3
    with (out / "report" / "services.csv").open(encoding="utf-8-sig", newline="") as f:
        total = next(row for row in csv.DictReader(f) if row["Mã (code)"] == "*")
    assert total["Số phiếu (tickets)"] == "5"
    assert (out / "report" / "summary.png").stat().st_size > 10_000

    site = load_site(out / "centre" / "site.toml")
    assert site.hours.working_days == (1, 2, 3, 4, 5, 6, 7)
    assert all((out / "centre" / "devices" / f"{d}.toml").exists()
               for d in ("hub", "kiosk-1", "tv-sanh", "quay-1", "quay-2", "quay-3"))
    assert processes_mentioning(str(out)) == []
    for name, path in (("ticket", tickets[-1]), ("screenshot", shots[-1])):
        (artifacts / f"demo-{name}.png").write_bytes(path.read_bytes())


def test_bad_options_are_refused_before_anything_starts(tmp_path, capsys):
    assert main(["--headless", "--tickets", "0", "--out", str(tmp_path)]) == 2
    assert "--tickets must be 1 to 500" in capsys.readouterr().out
    broken = tmp_path / "site.toml"
    broken.write_text("[site]\nid = 'x'\n")
    assert main(["--headless", "--site", str(broken), "--out", str(tmp_path / "o")]) == 2
    assert "configuration error" in capsys.readouterr().out


def test_a_crashed_process_of_the_demo_is_started_again_and_the_centre_goes_on(tmp_path):
    out = tmp_path / "demo"
    demo = Demo(out, EXAMPLE_SITE, headless=True, sound=False)
    try:
        demo.start()
        display = demo.supervisor.children["display"]
        first = display.pid
        demo.supervisor.kill("display")
        wait_for(lambda: demo.watch.online.get(demo.display) is False, what="the display's last will")
        wait_for(lambda: display.restarts == 1 and demo.watch.online.get(demo.display), timeout=30,
                 what="the display to be back")
        assert display.pid != first
        with urllib.request.urlopen(f"{demo.web_url}/board", timeout=5) as page:
            assert page.status == 200 and "Bảng gọi số" in page.read().decode()
        demo.take("CT")
        demo.press(1, "next")
        assert demo.state("state/counter/1")["ticket"]["number"] == "A001"
        wait_for(lambda: list((out / "screenshots").glob("call-*-quay-1.png")), timeout=10,
                 what="the restarted display to draw the call")
    finally:
        demo.stop()
    assert processes_mentioning(str(out)) == []
