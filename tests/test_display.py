"""The TV board and its spoken calls against a real Mosquitto and the real dispatcher.

The screen is SDL's dummy video driver and the sound its dummy audio driver;
screenshots go to artifacts/ for a person to look at.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pygame
import pytest
from display_rig import SIZES, Centre, fill_and_call, served_now, shown
from helpers import reaped, wait_for, write_device_toml

from dispatcher.service import Dispatcher
from display import board as board_mod
from display.__main__ import main
from display.state import BoardState
from luot.config import SiteConfig
from luot.mqtt import HubLink
from luot.systemd import Notifier
from testbed.broker import Mosquitto

# ---------------------------------------------------------------------- layouts


@pytest.mark.parametrize("counters", [4, 12, 30])
def test_board_layouts_show_every_counter(centre: Callable[..., Centre], artifacts: Path,
                                          counters: int) -> None:
    c = centre(counters)
    fill_and_call(c)
    admin = c.link("admin")
    for size in SIZES:
        app = c.board(size)
        expected = served_now(c)
        assert app.run(until=lambda app=app, expected=expected: shown(app) == expected, timeout=10)
        reply = admin.request("next", counter=2)
        number = reply["ticket"]["number"]
        assert app.run(until=lambda app=app: any(f.calls for f in app.frames), timeout=5)
        path = artifacts / f"display-{counters}-counters-{size[0]}x{size[1]}.png"
        pygame.image.save(app.screen, str(path))

        lay = app.board.layout
        screen_rect = app.screen.get_rect()
        cards = list(app.board.card_rects.values())
        assert len(cards) == counters
        for i, card in enumerate(cards):
            assert screen_rect.contains(card)
            assert card.collidelist(cards[i + 1:]) == -1, "counter cards overlap"
            for other in (lay.current, lay.recent, lay.services, lay.figures, lay.header, lay.ticker):
                assert not card.colliderect(other)
        assert app.state.counters[2].ticket == number
        assert app.state.current_call().number == number  # type: ignore[union-attr]
        # The called counter's card flashes in the highlight colour on the call's first frame.
        card = app.board.card_rects[2]
        assert app.screen.get_at((card.x + card.width // 2, card.y + 3))[:3] == board_mod.HIGHLIGHT
        idle = app.board.card_rects[counters]
        assert app.screen.get_at((idle.x + idle.width // 2, idle.y + 3))[:3] == board_mod.CARD_IDLE
        app.link.stop()


def test_layout_grid_fits_any_count() -> None:
    from display.layout import compute

    for size in (*SIZES, (800, 480), (3840, 2160), (768, 1366)):
        for n in (1, 2, 5, 7, 16, 30, 48):
            lay = compute(size, n)
            assert len(lay.cards) == n
            for i, card in enumerate(lay.cards):
                assert lay.counters_area.contains(card)
                assert card.width > 0 and card.height > 0
                assert card.collidelist(list(lay.cards[i + 1:])) == -1


def test_board_limited_to_counters_and_services(centre: Callable[..., Centre]) -> None:
    c = centre(6)
    fill_and_call(c, leave_idle=0)
    floor = c.board((1280, 720), state=BoardState(counters={1, 2}))
    assert floor.run(until=lambda: shown(floor) == {k: v for k, v in served_now(c).items() if k in (1, 2)},
                     timeout=10)
    land = c.board((1280, 720), device_id="tv-2", state=BoardState(services={"DD"}))
    dd_counters = {k.number for k in c.site.counters if "DD" in k.services}
    assert land.run(until=lambda: set(shown(land)) == dd_counters and land.state.name, timeout=10)
    assert set(land.state.services) == {"DD"}
    # A call at a counter outside the board is neither shown nor flashed there.
    outside = next(n for n in range(3, 7) if n not in dd_counters)
    admin = c.link("admin")
    admin.request("next", counter=outside)
    # A call at counter 1, published after it, marks when the outside call has been seen.
    marker = admin.request("next", counter=1)["ticket"]["number"]
    assert floor.run(until=lambda: floor.state.newest is not None, timeout=10)
    assert (floor.state.newest.counter, floor.state.newest.number) == (1, marker)
    assert all(call.counter != outside for call in floor.state.recent)
    assert outside not in floor.state.counters


def test_screenshots_after_each_call(centre: Callable[..., Centre], tmp_path: Path) -> None:
    c = centre(4)
    fill_and_call(c)
    shots = tmp_path / "shots"
    app = c.board((1280, 720), screenshots=shots)
    assert app.run(until=lambda: shown(app) == served_now(c), timeout=10)
    assert not list(shots.glob("*.png")), "retained state is no call"
    admin = c.link("admin")
    first = admin.request("next", counter=1)
    second = admin.request("recall", counter=1)
    assert first["ticket"]["number"] == second["ticket"]["number"]
    assert app.run(until=lambda: len(list(shots.glob("*.png"))) == 2, timeout=5)
    image = pygame.image.load(str(sorted(shots.glob("*.png"))[0]))
    assert image.get_size() == (1280, 720)


def test_systemd_hears_ready_after_the_first_frame(centre: Callable[..., Centre], tmp_path: Path) -> None:
    c = centre(4)
    address = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(address)
        listener.settimeout(5)
        app = c.board((1280, 720), notifier=Notifier(address))
        assert not app.frames
        app.run(until=lambda: bool(app.frames), timeout=5)
        assert listener.recv(256).startswith(b"READY=1")


def test_nothing_is_drawn_while_nothing_changes(centre: Callable[..., Centre]) -> None:
    c = centre(12, notice="Xin cảm ơn!", notice_en="Thank you!")
    fill_and_call(c)
    app = c.board((1920, 1080))
    assert app.run(until=lambda: shown(app) == served_now(c) and app.state.name, timeout=10)
    app.run(timeout=0.3)
    assert not app.board.scrolling()
    before = app.flips
    app.run(timeout=1.5)
    assert app.flips - before <= 1, "only the clock may turn over a minute"


# ---------------------------------------------------------------------- connection


def test_offline_mark_keeps_last_state_and_clears_on_return(centre: Callable[..., Centre],
                                                           artifacts: Path) -> None:
    c = centre(4)
    fill_and_call(c)
    app = c.board((1280, 720))
    assert app.run(until=lambda: app.state.online and shown(app) == served_now(c), timeout=10)
    status = app.board.layout.status
    badge_point = (status.centerx, status.y + status.height // 4)
    assert app.screen.get_at(badge_point)[:3] == board_mod.HEADER
    before = shown(app)

    c.broker.stop()
    assert app.run(until=lambda: app.screen.get_at(badge_point)[:3] == board_mod.OFFLINE, timeout=10)
    assert not app.state.online
    assert shown(app) == before, "the last known state stays on screen"
    pygame.image.save(app.screen, str(artifacts / "display-offline-1280x720.png"))

    c.broker.start()
    assert app.run(until=lambda: app.screen.get_at(badge_point)[:3] == board_mod.HEADER, timeout=20)
    assert app.state.online and shown(app) == before


# ---------------------------------------------------------------------- configuration


def _device(tmp_path: Path, extra: str, role: str = "display") -> Path:
    return write_device_toml(tmp_path / "device.toml", device_id="tv-1", role=role, site="test-ward",
                             host="127.0.0.1", port=1883, password="x", extra=extra)


@pytest.mark.parametrize(("extra", "message"), [
    ('[display]\nkind = "projector"\n', "display.kind: expected one of tv, led"),
    ("[display]\ncounters = [1, 0]\n", "display.counters[1]: expected a counter number"),
    ('[display]\nservices = ["ht"]\n', "display.services[0]: expected a service code"),
    ("[display]\nsound = 1\n", "display.sound: expected true or false"),
    ('[display]\nvoise = "/tmp"\n', "unknown key; did you mean 'voice'?"),
])
def test_configuration_mistakes_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          extra: str, message: str) -> None:
    assert main(["--config", str(_device(tmp_path, extra))]) == 2
    assert message in capsys.readouterr().out


def test_wrong_role_and_bad_size_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(_device(tmp_path, "", role="kiosk"))]) == 2
    assert "is 'kiosk', but luot display runs on a display device" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        main(["--size", "big"])
    assert exit_.value.code == 2
    assert "expected WIDTHxHEIGHT" in capsys.readouterr().err


def test_led_kind_runs_the_led_board_node(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(_device(tmp_path, '[display]\nkind = "led"\n'))]) == 2
    assert "display.led: is required but missing" in capsys.readouterr().out


# ---------------------------------------------------------------------- the command


def test_luot_display_saves_a_screenshot_per_call(broker: Mosquitto, dispatcher: Dispatcher,
                                                   connect: Callable[..., HubLink], site: SiteConfig,
                                                   tmp_path: Path) -> None:
    kiosk, counter = connect("kiosk-1"), connect("quay-1")
    for _ in range(2):
        kiosk.request("take", service="CT")
    first = counter.request("next", counter=1, expect=None)["ticket"]
    device = write_device_toml(
        tmp_path / "tv-1.toml", device_id="tv-1", role="display", site=site.id, host=broker.host,
        port=broker.port, password=broker.passwords["tv-1"], extra="[display]\nsound = false\n",
    )
    frames, shots = tmp_path / "frames.jsonl", tmp_path / "shots"
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    board = subprocess.Popen(
        [sys.executable, "-m", "luot", "display", "--config", str(device), "--size", "1280x720",
         "--windowed", "--screenshots", str(shots), "--frame-log", str(frames)],
        env=env, cwd=Path(__file__).resolve().parent.parent,
    )
    with reaped(board):
        wait_for(lambda: frames.exists() and f'"1": "{first["number"]}"' in frames.read_text(),
                 timeout=15, what="the board showing the retained state")
        assert not list(shots.glob("*.png")), "a retained state is not a call"
        second = counter.request("next", counter=1, expect=first["id"])["ticket"]
        shot = wait_for(lambda: list(shots.glob("call-*-quay-1.png")), timeout=10, what="a screenshot")
        assert pygame.image.load(str(shot[0])).get_size() == (1280, 720)
        assert f'"1": "{second["number"]}"' in frames.read_text()
        board.send_signal(signal.SIGTERM)
        assert board.wait(timeout=10) == 0
