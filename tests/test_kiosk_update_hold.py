"""A kiosk asked to hold for a fleet update holds only with nobody at it: not while a citizen
is choosing, and on the start screen it says so with every field greyed and takes no number."""

from __future__ import annotations

import json
from pathlib import Path

import pygame
from helpers import wait_for
from kiosk_rig import assert_taking_closed

import kiosk.ui
from dispatcher.service import Dispatcher
from kiosk import texts
from kiosk.screens import link_snapshot
from kiosk.ui import KioskUI
from luot.update_hooks import HELD, HOLD, READY, UpdateHooks


def test_the_kiosk_holds_for_an_update_only_on_its_start_screen(display, broker, site, connect, monkeypatch,
                                                               tmp_path: Path, artifacts: Path):
    hub = Dispatcher(site, tmp_path / "luot.db", broker.settings("hub"))
    hub.start()
    try:
        link = connect("kiosk-1")
        wait_for(lambda: link.hub_online and link.state("config"), what="the dispatcher online at the kiosk")
        run = tmp_path / "run"
        run.mkdir()
        hooks = UpdateHooks(run, version="9.9.9", check_every_s=0.0)
        surface = pygame.display.set_mode((800, 480))
        taken: list[object] = []
        ui = KioskUI(surface, lambda: link_snapshot(link), taken.append, return_after_s=5, update=hooks)
        ui.pump(0.01)
        assert json.loads((run / READY).read_text())["version"] == "9.9.9"  # up: catalogue here

        assert ui.touch("priority")
        ui.pump(0.01)
        (run / HOLD).write_text("9.9.10")
        ui.pump(0.01)
        assert ui.screen != "home" and not (run / HELD).exists(), "a citizen choosing is never cut"
        ui.go_home()
        ui.pump(0.01)
        assert not (run / HELD).exists(), "touched a moment ago: someone may still be at the kiosk"

        monkeypatch.setattr(kiosk.ui, "QUIET_S", 0.0)  # as if untouched for the quiet spell
        ui.go_home()
        ui.pump(0.01)
        assert (run / HELD).read_text() == "9.9.9"
        assert_taking_closed(ui, texts.UPDATING, taken)
        ui.draw(force=True)
        pygame.image.save(surface, artifacts / "kiosk_updating_800x480.png")

        (run / HOLD).unlink()  # the update was withdrawn: the kiosk serves again
        ui.pump(0.01)
        assert not (run / HELD).exists() and ui.frame().prompt == texts.TOUCH_A_SERVICE
    finally:
        hub.stop()
