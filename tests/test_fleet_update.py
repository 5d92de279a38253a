"""A fleet update end to end: real wheels of this tree, real venvs made by pip from a
repository folder, a real counter process run from the venv link, the real broker and
dispatcher, the updater on its own broker user. The counter moves only between citizens;
a release whose counter cannot start is rolled back by the updater itself."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from fleet_rig import BROKEN_COUNTER, DEPENDENCIES, repository
from helpers import SITE_FILE, wait_for

from fleet.link import FleetLink
from fleet.publish import announce
from fleet.release import HEALTHY, ROLLED_BACK, WAITING_QUIET, parse_update_state
from fleet.updater import PiRole, Record, Updater
from fleet.venvs import RepoSource, Venvs
from luot import protocol as p
from luot.update_hooks import HELD, READY
from testbed.centre import LocalCentre
from testbed.units import ProcessUnits

UNIT = "luot-counter"


def ready_version(units: ProcessUnits) -> str | None:
    try:
        return json.loads((units.runtime_dir(UNIT) / READY).read_text())["version"]
    except (OSError, ValueError):
        return None


@pytest.fixture
def fleet(tmp_path: Path):
    repo, releases = repository(tmp_path / "repo", {"9.0.0": False, "9.0.1": False, "9.0.2": True})
    centre = LocalCentre(tmp_path / "centre", SITE_FILE)
    centre.start_broker()
    centre.start_dispatcher()
    counter = centre.counter_device(1)
    venvs = Venvs(tmp_path / "opt", env={**os.environ, **DEPENDENCIES})
    venvs.install(releases["9.0.0"], RepoSource(repo.as_uri(), None))
    venvs.switch("9.0.0")
    counter_file = centre.device_file(counter, "[counter]\nnumber = 1\n")
    units = ProcessUnits(tmp_path / "opt", tmp_path / "run",
                         {UNIT: ["counter", "--config", str(counter_file)]},
                         env={**DEPENDENCIES, "GPIOZERO_PIN_FACTORY": "mock"}, logs=tmp_path / "logs")
    units.start(UNIT)
    admin = centre.link("admin")
    states: dict[str, bytes] = {}
    admin.watch(f"{p.DEVICE}+/{p.UPDATE}", 1,
                lambda topic, payload: states.__setitem__(topic.split("/")[1], payload))
    try:
        wait_for(lambda: ready_version(units) == "9.0.0", 60, "the counter up on 9.0.0")
        yield centre, repo, releases, venvs, units, admin, states, counter
    finally:
        units.stop_all()
        admin.stop()
        centre.stop()


def start_updater(centre, repo, venvs, units, counter, record: Path):
    user = p.UPDATER_PREFIX + centre.site.device(counter).hostname
    link = FleetLink(centre.broker.settings(user), centre.site.id)
    updater = Updater([PiRole(counter, "counter")], venvs, units, Record.load(record), publish=link.publish,
                      source=RepoSource(repo.as_uri(), None), ready_timeout_s=20)
    stop = threading.Event()
    result: list[bool] = []
    thread = threading.Thread(target=lambda: result.append(updater.run(stop)), daemon=True)
    link.start(updater)
    thread.start()
    return link, stop, thread, result


def state_of(states: dict[str, bytes], device: str):
    return parse_update_state(states.get(device, b""))


def test_the_counter_updates_between_citizens_and_a_broken_release_rolls_back(fleet, tmp_path):
    centre, repo, releases, venvs, units, admin, states, counter = fleet
    admin_file = centre.device_file("admin")
    service = admin.state(p.CONFIG)["services"][0]["code"]
    admin.request("take", service=service, timeout=5)
    assert admin.request("next", counter=1, timeout=5)["ticket"]  # a citizen at counter 1

    link, stop, thread, result = start_updater(centre, repo, venvs, units, counter, tmp_path / "record.json")
    try:
        announce(releases["9.0.1"], admin_file)
        wait_for(lambda: (s := state_of(states, counter)) and s.state == WAITING_QUIET, 90,
                 "9.0.1 installed, waiting for the counter to be between citizens")
        # The counter checks its hold at least every 5 s; serving, it never grants it.
        thread.join(timeout=8)
        assert units.restarts == [] and not (units.runtime_dir(UNIT) / HELD).exists()
        assert ready_version(units) == "9.0.0" and state_of(states, counter).state == WAITING_QUIET

        admin.request("done", counter=1, timeout=5)  # the citizen leaves
        thread.join(timeout=90)
        assert result == [True], "the updater did not move the Pi to 9.0.1"
        assert ready_version(units) == "9.0.1" and venvs.current() == "9.0.1"
        assert os.readlink(venvs.link) == "venvs/9.0.1"
        wait_for(lambda: (s := state_of(states, counter)) and s.state == HEALTHY and s.version == "9.0.1", 10,
                 "the counter's update state healthy on 9.0.1")
    finally:
        stop.set()
        link.stop()

    # systemd starts the updater again from the new venv; then a release whose counter dies.
    link, stop, thread, result = start_updater(centre, repo, venvs, units, counter, tmp_path / "record.json")
    try:
        announce(releases["9.0.2"], admin_file)
        wait_for(lambda: (s := state_of(states, counter)) and s.state == ROLLED_BACK, 120,
                 "9.0.2 rolled back")
        report = state_of(states, counter)
        assert report.version == "9.0.1" and report.target == "9.0.2"
        assert f"{counter} (counter) not up within 20 s" in report.detail
        assert venvs.current() == "9.0.1" and ready_version(units) == "9.0.1"
        assert json.loads((tmp_path / "record.json").read_text())["failed"]["9.0.2"]["state"] == ROLLED_BACK
        assert BROKEN_COUNTER in (tmp_path / "logs" / f"{UNIT}.log").read_text()
    finally:
        stop.set()
        thread.join(timeout=5)
        link.stop()
    assert result == [False]
