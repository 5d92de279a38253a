"""The hallway board says when calls are not live because the dispatcher is away (the broker
still up), not only when its own link is lost; the LED hall boards show dashes then."""

from __future__ import annotations

from pathlib import Path

import pygame
from helpers import wait_for

from dispatcher.service import Dispatcher
from display import board as board_mod
from display.app import DisplayApp
from display.state import BoardState
from luot.mqtt import LINK_HUB_AWAY, LINK_ONLINE, HubLink
from luot.screen import open_screen


def test_the_board_marks_the_dispatcher_away_and_clears_the_mark_on_its_return(
        display, broker, site, connect, tmp_path: Path, artifacts: Path) -> None:
    hub = Dispatcher(site, tmp_path / "luot.db", broker.settings("hub"))
    hub.start()
    connect("kiosk-1").request("take", service="CT")
    connect("quay-1").request("next", counter=1)
    link = HubLink(broker.settings("tv-1"), device_id="tv-1", site=site.id)
    app = DisplayApp(link, open_screen((1280, 720), fullscreen=False), BoardState())
    link.start()
    try:
        assert app.run(until=lambda: app.state.link == LINK_ONLINE and app.state.counters, timeout=10)
        status = app.board.layout.status
        badge_point = (status.centerx, status.y + status.height // 4)
        assert app.screen.get_at(badge_point)[:3] == board_mod.HEADER

        hub.stop()  # the dispatcher away, the broker up
        assert app.run(until=lambda: app.screen.get_at(badge_point)[:3] == board_mod.OFFLINE, timeout=10)
        assert app.state.link == LINK_HUB_AWAY and link.connected
        pygame.image.save(app.screen, str(artifacts / "display-hub-away-1280x720.png"))

        again = Dispatcher(site, tmp_path / "luot.db", broker.settings("hub"))
        again.start()
        try:
            assert app.run(until=lambda: app.screen.get_at(badge_point)[:3] == board_mod.HEADER, timeout=10)
            assert app.state.online
        finally:
            again.stop()
    finally:
        link.stop()
        wait_for(lambda: not link.connected, what="the board's link closed")
