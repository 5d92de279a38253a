"""Every kiosk screen at every supported size, saved for a person to look at, and `luot kiosk
--keys` as the demo runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import pytest
from helpers import wait_for, write_device_toml
from kiosk_rig import CARD, SIZES, YOUNG_CARD, Kiosk

from kiosk import ui as screens
from kiosk.screens import HubSnapshot, link_snapshot

# ---------------------------------------------------------------- every screen at every size


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_screenshots_of_every_screen(display, dispatcher, connect, dummy_printer, artifacts, size):
    made = Kiosk(connect("kiosk-1"), dummy_printer[1], size=size)
    ui = made.ui
    made.shot(artifacts, "home")
    made.touch("priority")
    made.shot(artifacts, "priority")
    made.touch("category:nguoi-cao-tuoi")
    made.shot(artifacts, "priority_services")
    ui._go(screens.TAKING, None)
    made.shot(artifacts, "taking")
    ui._go(screens.PRIORITY_SERVICES, None)
    made.take("service:CT")
    made.shot(artifacts, "number_printed")
    ui.visit.print_state = "printing"
    made.shot(artifacts, "number_printing")
    ui.visit.print_state = "fault:cover_open"
    made.shot(artifacts, "number_cover_open")
    refusals = [("day_closed", ""), ("outside_hours", ""), ("cap_reached", ""),
                ("duplicate_citizen", "this citizen already holds number A001"), ("unreachable", "")]
    for code, detail in refusals:
        ui.visit.message = screens.texts.refusal(code, detail)
        ui._go(screens.MESSAGE, None)
        made.shot(artifacts, f"refused_{code}")
    ui.go_home()
    ui.notify("scan", CARD)
    made.pump_until(lambda: ui.screen == screens.PRIORITY, what="the elderly offer")
    made.shot(artifacts, "card_elderly")
    ui.go_home()
    ui.visit.citizen = None
    ui.notify("scan", YOUNG_CARD)
    made.pump_until(lambda: ui.frame().prompt_style == "ok", what="the card notice")
    made.shot(artifacts, "card_read")
    ui.notify("scan", "not a card")
    made.pump_until(lambda: ui.screen == screens.MESSAGE, what="the bad-code message")
    made.shot(artifacts, "card_bad")
    ui.go_home()
    snap = link_snapshot(made.link)
    full = {**snap.services, "DD": {**snap.services["DD"], "remaining": 0, "taking": False}}
    for name, variant in [
        ("cap_reached", replace(snap, services=full)),
        ("day_closed", replace(snap, site={**snap.site, "open": False, "taking": False})),
        ("outside_hours", replace(snap, site={**snap.site, "taking": False})),
        ("hub_unreachable", replace(snap, connected=False)),
        ("never_connected", HubSnapshot(False, None, None, {})),
        ("connecting", HubSnapshot(True, None, None, {})),
    ]:
        made.snapshot_override = variant
        made.shot(artifacts, name)
    made.snapshot_override = None
    ui.printer = replace(ui.printer, fault="out_of_paper")
    made.shot(artifacts, "home_printer_warning")
    made.stop()


# ---------------------------------------------------------------- the process, as the demo runs it


def test_luot_kiosk_keys_prints_pngs(dispatcher, broker, site, tmp_path):
    settings = broker.settings("kiosk-2")
    config = write_device_toml(
        tmp_path / "kiosk-2.toml", device_id="kiosk-2", role="kiosk", site=site.id, host=settings.host,
        port=settings.port, password=settings.password,
        extra=f'[kiosk]\nprinter = "png://{tmp_path}/tickets"\nprofile = "POS-5890"\nreturn_after_s = 2\n',
    )
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    process = subprocess.Popen(
        [sys.executable, "-m", "luot", "kiosk", "--config", str(config), "--keys", "--size", "800x480",
         "--windowed"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )
    try:
        wait_for(lambda: dispatcher.snapshot() and (tmp_path / "kiosk-2.toml").exists(), what="start")
        process.stdin.write("CT\nHT nguoi-cao-tuoi\nZZ\n")
        process.stdin.flush()
        folder = tmp_path / "tickets"
        wait_for(lambda: folder.exists() and len(list(folder.glob("*.png"))) == 2, timeout=20,
                 what="two ticket PNGs")
        names = sorted(p.name.rsplit("-", 1)[1] for p in folder.glob("*.png"))
        assert names == ["A001.png", "B001.png"]
        assert dispatcher.snapshot()["services"]["HT"]["waiting_priority"] == 1
    finally:
        process.terminate()
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "cannot do 'ZZ'" in out
