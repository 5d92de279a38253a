"""The fleet's parts without a broker: the release as hostile input, the canary rule, the
venv link, the roles' hold and ready files, the updater's broker grants."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from helpers import wait_for
from hypothesis import given, settings
from hypothesis import strategies as st

from broker_config import may, render_acl, updater_users
from fleet.release import (
    FAILED,
    HEALTHY,
    HELD,
    ROLLED_BACK,
    WAITING_CANARY,
    Release,
    ReleaseError,
    UpdateState,
    parse_release,
)
from fleet.updater import Abandoned, PiRole, Record, Updater
from fleet.venvs import COMPLETE, RepoSource, Venvs
from luot import protocol as p
from luot.config import load_site
from luot.update_hooks import HELD as HELD_FILE
from luot.update_hooks import HOLD, READY, UpdateHooks
from testbed.units import ProcessUnits
from tools.inventory import DeviceReport, format_devices, problems

SHA = "ab" * 32
GOOD = {"version": "0.2.0", "wheel": "luot-0.2.0-py3-none-any.whl", "sha256": SHA,
        "published": "2026-12-03T10:00:00+07:00", "canaries": {"kiosk": "kiosk-1", "counter": "quay-1"}}


def payload(**changes) -> bytes:
    return json.dumps({**GOOD, **changes}).encode()


def test_a_release_is_read_with_its_canaries():
    release = parse_release(payload())
    assert release == Release("0.2.0", "luot-0.2.0-py3-none-any.whl", SHA, GOOD["published"],
                              {"kiosk": "kiosk-1", "counter": "quay-1"})
    assert parse_release(b"") is None  # the topic cleared


@pytest.mark.parametrize(("bad", "why"), [
    (payload(wheel="../../etc/luot-0.2.0-py3-none-any.whl"), "'wheel' must be"),
    (payload(wheel="luot-0.3.0-py3-none-any.whl"), "'wheel' must be"),
    (payload(wheel="luot-0.2.0-cp311-cp311-linux_aarch64.whl"), "'wheel' must be"),
    (payload(version="0.2.0; rm -rf /"), "'version' must be"),
    (payload(version=2), "'version' must be"),
    (payload(sha256=SHA.upper()), "'sha256' must be"),
    (payload(sha256=SHA[:-1]), "'sha256' must be"),
    (payload(canaries={"kiosk": "Kiosk 1"}), "'canaries' must"),
    (payload(canaries={"printer": "kiosk-1"}), "'canaries' must"),
    (payload(canaries=["kiosk-1"]), "'canaries' must"),
    (payload(url="http://example.com/luot.whl"), "unknown field 'url'"),
    (b"[" * 5000, "bytes; a release is at most"),
    (b"\xff\xfe", "not UTF-8 JSON"),
    (b"[1, 2]", "a JSON object"),
])
def test_a_hostile_release_is_refused_with_the_reason(bad, why):
    with pytest.raises(ReleaseError, match=why.replace("(", r"\(")):
        parse_release(bad)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300),
                 st.dictionaries(st.sampled_from([*GOOD, "x"]),
                                 st.one_of(st.text(max_size=70), st.integers(), st.none(),
                                           st.dictionaries(st.text(max_size=8), st.text(max_size=8))),
                                 max_size=6).map(lambda d: json.dumps(d).encode())))
def test_whatever_arrives_on_the_release_topic_is_a_release_or_a_reason(data):
    try:
        release = parse_release(data)
    except ReleaseError:
        return
    assert release is None or release.wheel == f"luot-{release.version}-py3-none-any.whl"


def updater(tmp_path: Path, roles: list[PiRole]) -> tuple[Updater, list[tuple[str, UpdateState]]]:
    said: list[tuple[str, UpdateState]] = []
    units = ProcessUnits(tmp_path / "opt", tmp_path / "run", {}, {}, tmp_path / "logs")
    made = Updater(roles, Venvs(tmp_path / "opt"), units, Record(tmp_path / "record.json"),
                   publish=lambda device, state: said.append((device, state)),
                   source=RepoSource("file:///srv/luot/repo", None))
    return made, said


def test_the_rest_of_a_role_waits_for_its_canary_and_holds_if_it_rolled_back(tmp_path):
    release = parse_release(payload())
    rest, _ = updater(tmp_path, [PiRole("kiosk-2", "kiosk")])
    assert rest._canary_wait(release) == (WAITING_CANARY, "0.2.0", "chờ kiosk-1 (kiosk)")
    rest.heard_state("kiosk-1", UpdateState("0.1.0", "installing", "0.2.0"))
    assert rest._canary_wait(release)[0] == WAITING_CANARY
    rest.heard_state("kiosk-1", UpdateState("0.2.0", HEALTHY, "0.2.0"))
    assert rest._canary_wait(release) is None
    for failed in (ROLLED_BACK, FAILED):
        why = "kiosk-1 (kiosk) not up within 180 s"
        rest.heard_state("kiosk-1", UpdateState("0.1.0", failed, "0.2.0", why))
        assert rest._canary_wait(release) == (HELD, "0.2.0", f"kiosk-1 (kiosk) {failed}: "
                                              "kiosk-1 (kiosk) not up within 180 s")
    canary, _ = updater(tmp_path / "canary", [PiRole("kiosk-1", "kiosk")])
    assert canary._canary_wait(release) is None
    # A Pi with a role the release names no canary for (the hub) and the kiosk canary: no wait.
    both, _ = updater(tmp_path / "both", [PiRole("hub", "hub"), PiRole("kiosk-1", "kiosk")])
    assert both._canary_wait(release) is None


def test_the_updater_says_each_state_once(tmp_path):
    made, said = updater(tmp_path, [PiRole("kiosk-2", "kiosk"), PiRole("tv-1", "display")])
    made._say(WAITING_CANARY, "0.2.0", "chờ kiosk-1 (kiosk)")
    made._say(WAITING_CANARY, "0.2.0", "chờ kiosk-1 (kiosk)")
    assert [device for device, _ in said] == ["kiosk-2", "tv-1"]
    assert said[0][1].to_json() | {"at": ""} == {
        "version": "?", "target": "0.2.0", "state": WAITING_CANARY, "detail": "chờ kiosk-1 (kiosk)", "at": ""}


def test_the_venv_link_switches_in_one_rename_and_an_old_first_boot_folder_is_adopted(tmp_path):
    venvs = Venvs(tmp_path)
    old = tmp_path / "venv" / "lib" / "python3.11" / "site-packages" / "luot-0.1.0.dist-info"
    old.mkdir(parents=True)
    (tmp_path / "venv" / "bin").mkdir()
    assert venvs.current() == "0.1.0"  # moved under venvs/ and linked
    assert (tmp_path / "venvs" / "0.1.0" / "bin").is_dir() and (tmp_path / "venv").is_symlink()
    (tmp_path / "venvs" / "0.2.0" / "bin").mkdir(parents=True)
    venvs.switch("0.2.0")
    assert venvs.current() == "0.2.0"
    assert (tmp_path / "venv" / "bin").resolve() == tmp_path / "venvs/0.2.0/bin"
    assert venvs.prune({"0.2.0"}) == ["0.1.0"]
    (tmp_path / "venv").unlink()  # a cut between a move and its link: the one venv is linked again
    assert venvs.current() == "0.2.0"


def test_a_role_holds_only_when_asked_and_its_files_say_so(tmp_path):
    now = [0.0]
    hooks = UpdateHooks(tmp_path, version="0.2.0", clock=lambda: now[0])
    assert not hooks.hold_asked()
    (tmp_path / HOLD).write_text("0.3.0")
    assert not hooks.hold_asked()  # checked at most every 0.5 s
    now[0] = 0.6
    assert hooks.hold_asked()
    hooks.hold(True)
    assert (tmp_path / HELD_FILE).read_text() == "0.2.0" and hooks.held
    hooks.hold(False)
    assert not (tmp_path / HELD_FILE).exists()
    hooks.ready()
    assert json.loads((tmp_path / READY).read_text())["version"] == "0.2.0"
    outside = UpdateHooks(None)  # no systemd folder: never held, ready goes nowhere
    outside.ready()
    assert not outside.hold_asked()


def test_each_pi_has_an_updater_that_writes_only_its_own_devices_update_state():
    site = load_site(Path(__file__).parent / "data" / "site.toml")
    pis = updater_users(site)
    user = p.UPDATER_PREFIX + site.device("quay-1").hostname
    assert pis[user] == ("quay-1",) and not any("admin" in devices for devices in pis.values())
    root = f"luot/{site.id}/"
    assert may(site.id, user, "updater", "read", root + p.FLEET_RELEASE)
    assert may(site.id, user, "updater", "read", root + "device/kiosk-1/update")
    assert may(site.id, user, "updater", "write", root + "device/quay-1/update", pis[user])
    assert not may(site.id, user, "updater", "write", root + "device/quay-2/update", pis[user])
    assert not may(site.id, user, "updater", "write", root + p.FLEET_RELEASE, pis[user])
    assert may(site.id, "admin", "admin", "write", root + p.FLEET_RELEASE)
    assert not may(site.id, "kiosk-1", "kiosk", "write", root + p.FLEET_RELEASE)
    acl = render_acl(site.id, {user: "updater"}, pis)
    assert f"user {user}\n" in acl and f"topic write {root}device/quay-1/update\n" in acl


def test_luot_admin_status_shows_each_devices_version_and_update():
    site = load_site(Path(__file__).parent / "data" / "site.toml")
    reports = {
        "quay-1": DeviceReport("quay-1", "online", {"version": "0.1.0"},
                               {"version": "0.2.0", "state": HEALTHY, "target": "0.2.0"}),
        "quay-2": DeviceReport("quay-2", "online", {"version": "0.1.0"},
                               {"version": "0.1.0", "state": ROLLED_BACK, "target": "0.3.0",
                                "detail": "quay-2 (counter) not up within 180 s"}),
        "updater.luot-quay-1": DeviceReport("updater.luot-quay-1", "online"),
    }
    table = format_devices(site.devices, reports)
    row = {line.split()[0]: line for line in table.splitlines()[2:]}
    assert "0.2.0" in row["quay-1"] and "healthy" in row["quay-1"]
    assert "0.1.0" in row["quay-2"] and "rolled_back 0.3.0" in row["quay-2"]
    assert "updater.luot-quay-1" not in table  # a Pi's updater is not a device of the inventory
    assert ("quay-2: bản 0.3.0 không cài được (update rolled_back): quay-2 (counter) not up within 180 s"
            in problems(site.devices, reports))


def test_a_hold_never_outlives_the_update_that_asked_for_it(tmp_path):
    """An updater stopped while waiting for a quiet moment lifts its hold; one that died while
    waiting has its hold lifted by the next updater at start: no role stays held."""
    release = parse_release(payload())
    made, said = updater(tmp_path, [PiRole("quay-1", "counter")])
    folder = made.units.runtime_dir("luot-counter")
    folder.mkdir(parents=True)
    venv = made.venvs.path("0.2.0")
    (venv / "bin").mkdir(parents=True)
    (venv / COMPLETE).write_text(SHA)  # installed already: the update goes straight to the hold
    made.heard_release(release)
    stopping = threading.Event()
    made._stopping = stopping

    def stop_once_asked() -> None:
        wait_for(lambda: (folder / HOLD).exists(), 5, "the hold")
        stopping.set()

    threading.Thread(target=stop_once_asked, daemon=True).start()
    with pytest.raises(Abandoned):
        made._update(release)  # the counter never says it is quiet; the updater is stopped
    assert not (folder / HOLD).exists()
    assert [s.state for _, s in said][-1] == "waiting_quiet"

    (folder / HOLD).write_text("0.2.0")  # an updater killed while waiting left this
    again, _ = updater(tmp_path, [PiRole("quay-1", "counter")])
    done = threading.Event()
    done.set()
    assert again.run(done) is False
    assert not (folder / HOLD).exists()


def test_a_failed_release_is_remembered_with_how_it_failed(tmp_path):
    record = Record(tmp_path / "record.json", {"0.3.0": (ROLLED_BACK, "quay-1 (counter) not up within 180 s"),
                                               "0.4.0": (FAILED, "install: no matching wheel")}, "0.1.0")
    record.save()
    assert Record.load(tmp_path / "record.json") == record
    made, said = updater(tmp_path, [PiRole("quay-1", "counter")])
    made.record = Record.load(tmp_path / "record.json")
    made._step(parse_release(payload(version="0.4.0", wheel="luot-0.4.0-py3-none-any.whl")))
    assert said[-1][1].state == FAILED and said[-1][1].detail == "install: no matching wheel"
