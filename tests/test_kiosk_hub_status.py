"""The kiosk offers numbers only while the dispatcher says it is online: with the broker up and
the dispatcher away, a clear "Tạm ngừng cấp số" screen, every field greyed, no take sent."""

from __future__ import annotations

import time
from pathlib import Path

import pygame
from helpers import wait_for
from kiosk_rig import assert_taking_closed

from dispatcher.service import Dispatcher
from kiosk import texts
from kiosk.screens import follow_hub, link_snapshot
from kiosk.ui import KioskUI


def test_the_kiosk_pauses_number_taking_while_the_dispatcher_is_away(display, broker, site, connect,
                                                                     tmp_path: Path, artifacts: Path):
    hub = Dispatcher(site, tmp_path / "luot.db", broker.settings("hub"))
    hub.start()
    link = connect("kiosk-1")
    wakes: list[bool] = []
    follow_hub(link, lambda: wakes.append(link.hub_online))
    wait_for(lambda: link.hub_online, what="the dispatcher online at the kiosk")
    surface = pygame.display.set_mode((800, 480))
    taken: list[object] = []
    ui = KioskUI(surface, lambda: link_snapshot(link), taken.append, return_after_s=5)
    assert ui.frame().prompt == texts.TOUCH_A_SERVICE
    assert ui.button_centre("service:CT") is not None

    hub.stop()  # the broker stays up: only the dispatcher is away
    wait_for(lambda: wakes and wakes[-1] is False, what="the screen woken by the dispatcher's offline")
    assert_taking_closed(ui, texts.HUB_PAUSED, taken)
    ui.notify("keys", "CT")  # the demo's script (luot kiosk --keys) waits as a citizen would
    ui.pump(0.05)
    assert taken == [] and ui.script.lines == ["CT"], "not given up"
    ui.draw(force=True)
    pygame.image.save(surface, artifacts / "kiosk_hub_paused_800x480.png")

    again = Dispatcher(site, tmp_path / "luot.db", broker.settings("hub"))
    again.start()
    try:
        wait_for(lambda: wakes[-1] is True, what="the screen woken by the dispatcher's return")
        assert ui.frame().prompt == texts.TOUCH_A_SERVICE
        deadline = time.monotonic() + 5
        while not taken and time.monotonic() < deadline:
            ui.pump(0.05)
        assert [getattr(r, "service", None) for r in taken] == ["CT"], "the script, hub back"
    finally:
        again.stop()
