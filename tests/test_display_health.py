"""A board without its voice pack says so where the technician looks: its health."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from helpers import reaped, wait_for, write_device_toml
from kiosk_rig import health_watcher

from luot import __version__


def run_board(broker, site, tmp_path: Path, voice: Path) -> subprocess.Popen:
    device = write_device_toml(
        tmp_path / "tv-1.toml", device_id="tv-1", role="display", site=site.id, host=broker.host,
        port=broker.port, password=broker.passwords["tv-1"],
        extra=f'[display]\nsound = true\nvoice = "{voice}"\n',
    )
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    return subprocess.Popen(
        [sys.executable, "-m", "luot", "display", "--config", str(device), "--size", "640x360", "--windowed"],
        env=env, cwd=Path(__file__).resolve().parent.parent,
    )


def test_a_board_without_a_voice_pack_says_so_in_its_health(broker, dispatcher, site, tmp_path):
    health = health_watcher(broker, site.id, "tv-1")
    empty = tmp_path / "voice"
    empty.mkdir()
    board = run_board(broker, site, tmp_path, empty)
    with reaped(board):
        report = wait_for(lambda: next((h for h in health if "voice" in h), None), timeout=15,
                          what="the board's health")
        assert report["voice"].startswith("missing ") and str(empty) in report["voice"], report
        assert report["versions"]["luot"] == __version__
        board.send_signal(signal.SIGTERM)
        assert board.wait(timeout=10) == 0
