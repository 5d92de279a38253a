"""Drills where a process of the centre fails: the dispatcher killed, Mosquitto restarted,
the display's network cut. Each returns a `Tally`; `bench.faults` runs them."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import BENCH_SITE
from luot.mqtt import HubLink
from testbed.centre import LocalCentre, wait_until
from testbed.faults import (
    CONVERGE_S,
    BoardWatch,
    Cable,
    Stream,
    Tally,
    board_truth,
    converged,
)
from testbed.supervisor import stop_process


@contextmanager
def running_centre(workdir: Path, site_file: Path = BENCH_SITE) -> Iterator[LocalCentre]:
    centre = LocalCentre(workdir, site_file, midday=True)
    centre.start_broker()
    centre.start_dispatcher()
    try:
        yield centre
    finally:
        centre.stop()


def dispatcher_exited(centre: LocalCentre) -> int:
    """1 if the dispatcher process the drill left running has exited by itself."""
    return int(centre.dispatcher is None or centre.dispatcher.poll() is not None)


@contextmanager
def watched_stream(centre: LocalCentre, rng: random.Random, watcher: str,
                   **options: Any) -> Iterator[tuple[Stream, HubLink]]:
    """The drill's stream, and a link of the first `watcher` device whose retained state must
    converge; both closed when the drill ends, however it ends."""
    stream = Stream(centre, rng, **options)
    watch = centre.link(centre.device_ids(watcher)[0])
    try:
        yield stream, watch
    finally:
        watch.stop()
        stream.close()


def stream_tally(stream: Stream) -> Tally:
    """The stream held against the database, and whether the dispatcher exited by itself."""
    tally = stream.check()
    tally.crashes = dispatcher_exited(stream.centre)
    return tally


# --------------------------------------------------------------------------- the drills


def kill_dispatcher(workdir: Path, rng: random.Random, commands: int, times: int) -> Tally:
    """SIGKILL the dispatcher at random moments of the stream; start it again each time."""
    # A short wait for each answer: while the dispatcher is down, commands are sent again
    # under the same id and reach it twice (once redelivered by the broker).
    with running_centre(workdir) as centre, \
            watched_stream(centre, rng, "display", attempt_s=0.3) as (stream, display):
        kills = crashes = 0
        done = threading.Event()

        def killer() -> None:
            nonlocal kills, crashes
            for _ in range(times):
                if done.wait(rng.uniform(0.05, 0.6)):
                    return
                assert centre.dispatcher is not None
                if centre.dispatcher.poll() is not None:
                    crashes += 1  # it had exited by itself
                centre.dispatcher.send_signal(signal.SIGKILL)
                centre.dispatcher.wait()
                time.sleep(rng.uniform(0.0, 0.2))
                kills += 1
                centre.start_dispatcher()

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        try:
            for _ in range(commands):
                stream.step()
            thread.join()
            while thread.is_alive():
                stream.step()
            tally = stream_tally(stream)
            tally.kills = kills
            tally.crashes += crashes
            if not converged(display, centre):
                tally.stuck_because("kill_dispatcher: the display did not converge")
        finally:
            done.set()
            thread.join()
        return tally


def restart_broker(workdir: Path, rng: random.Random, commands: int, *, hard: bool = False) -> Tally:
    """Stop and start Mosquitto in the middle of the stream; `hard`: SIGKILL, so it keeps
    nothing it had not saved (retained state, queued commands, sessions since its last save)."""
    with running_centre(workdir) as centre, watched_stream(centre, rng, "display") as (stream, display):
        cut_at = rng.randrange(commands // 4, commands * 3 // 4)
        for i in range(commands):
            if i == cut_at and hard:
                assert centre.broker.process is not None
                centre.broker.process.kill()
                centre.broker.process.wait()
                time.sleep(rng.uniform(0.0, 0.5))
                centre.broker.start()
            elif i == cut_at:
                centre.broker.restart(down_for=rng.uniform(0.0, 0.5))
            stream.step()
        tally = stream_tally(stream)
        for name, link in [("display", display), ("kiosk", stream.kiosk)]:
            if not (link.wait_connected(CONVERGE_S) and converged(link, centre)):
                tally.stuck_because(f"restart_broker: the {name} did not converge")
        return tally


def cut_display(workdir: Path, rng: random.Random, commands: int) -> Tally:
    """The real `luot display` process loses its network (a proxy in front of the broker is
    cut) while calls go on, then gets it back: its board must show the database's calls."""
    with running_centre(workdir) as centre:
        stream = Stream(centre, rng)
        cable = Cable(centre.broker.host, centre.broker.port)
        display_id = centre.device_ids("display")[0]
        config = centre.device_file(display_id, "[display]\nsound = false\n", port=cable.port)
        frames = workdir / "frames.jsonl"
        env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy",
               "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
        log = (workdir / "display.log").open("wb")
        display = subprocess.Popen(
            [sys.executable, "-m", "luot", "display", "--config", str(config), "--windowed",
             "--size", "1280x720", "--frame-log", str(frames)],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )
        board = BoardWatch(frames)
        tally = Tally()
        try:
            if not wait_until(lambda: board.read() == board_truth(centre), 30, step=0.05):
                raise RuntimeError(f"the display never showed the board: see {workdir / 'display.log'}")
            for _ in range(commands // 3):
                stream.step()
            cable.pull()
            display_log = workdir / "display.log"
            cut_seen = wait_until(lambda: "lost the broker" in display_log.read_text(errors="replace"), 3.0)
            for _ in range(commands // 3):
                stream.step()
            time.sleep(rng.uniform(0.2, 1.0))
            cable.plug()
            back = wait_until(lambda: board.read() == board_truth(centre), CONVERGE_S, step=0.05)
            for _ in range(commands - 2 * (commands // 3)):
                stream.step()
            tally = stream_tally(stream)
            if not cut_seen:
                tally.stuck_because("cut_display: the display never noticed the cut")
            if not (back and wait_until(lambda: board.read() == board_truth(centre), CONVERGE_S, step=0.05)):
                tally.stuck_because(f"cut_display: the board shows {board.read()}, not {board_truth(centre)}")
        finally:
            stop_process(display)
            log.close()
            cable.close()
            stream.close()
        return tally
