"""bench.powercut: real power cuts of a hub, in a KVM virtual machine (not part of `make test`).

The hub (Mosquitto and the dispatcher, started by their systemd units) runs in a small
Debian VM (`bench.vm`). From outside, through a forwarded loopback port, a kiosk takes
numbers and two counters press NEXT, each command sent until answered under the same id,
as the devices do. At a random moment the VM is killed (its page cache is lost, as in a
power cut), booted again, and the stream goes on. At the end the database is read back
from the VM's disk and every acknowledged command is held against it.

Last line, JSON: `cuts`, `lost`, `duplicates`, `double_called`, `unanswered` (all but
`cuts` should be 0), commands acknowledged, and the boot-to-answering time of the hub,
beside a raw SQLite commit measured on this machine in the same run. Where there is no
`/dev/kvm` (or no qemu, mmdebstrap), it says what is missing and exits 0.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import BENCH_SITE, emit, summary_ms
from bench.vm import HubImage, HubVm, VmError, build_image, kvm_boots, missing_tools
from luot.config import BrokerSettings, load_site
from luot.mqtt import CommandRefused, HubLink, HubTimeout, HubUnreachable
from testbed.centre import midday_timezone, write_all_day_site
from testbed.faults import Stream, Tally

CACHE = Path.home() / ".cache" / "luot" / "powercut"
BOOT_WITHIN_S = {True: 120.0, False: 1200.0}  # by KVM or not: an emulated boot takes minutes


class VmCentre:
    """What `testbed.faults.Stream` asks of a centre, for the hub in the VM."""

    def __init__(self, image: HubImage, vm: HubVm, site_file: Path) -> None:
        self.site = load_site(site_file)
        self.image = image
        self.vm = vm
        self.database = vm.workdir / "read-back" / "luot.db"

    def device_ids(self, role: str) -> list[str]:
        return [d.id for d in self.site.devices if d.role == role]

    def counter_device(self, number: int) -> str:
        return next(d.id for d in self.site.devices if d.role == "counter" and d.counter == number)

    def link(self, device_id: str) -> HubLink:
        settings = BrokerSettings("127.0.0.1", self.vm.port, device_id, self.image.passwords[device_id],
                                  keepalive=5)
        link = HubLink(settings, device_id=device_id, site=self.site.id, purpose="powercut")
        link.start()
        return link


def wait_answering(link: HubLink, within: float) -> float:
    """Seconds until the hub answers a command (an admin's `open`, refused or not)."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        try:
            link.request("open", timeout=1.0)
            return time.monotonic() - started
        except CommandRefused:
            return time.monotonic() - started
        except (HubTimeout, HubUnreachable):
            link.wait_connected(0.5)
    raise VmError(f"the hub did not answer within {within:.0f} s of booting")


def raw_commit_ms(folder: Path, n: int = 200) -> float:
    """A one-row SQLite commit (WAL, synchronous=FULL) on this machine: the baseline."""
    db = sqlite3.connect(folder / "raw.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (x)")
    started = time.perf_counter()
    for i in range(n):
        db.execute("INSERT INTO t VALUES (?)", (i,))
    db.close()
    return round((time.perf_counter() - started) / n * 1000, 3)


def drill(image: HubImage, site_file: Path, workdir: Path, cuts: int, rng: random.Random, *,
          kvm: bool) -> dict[str, Any]:
    vm = HubVm(image, workdir, kvm=kvm)
    vm.put_site(site_file)
    centre = VmCentre(image, vm, site_file)
    admin = centre.link(centre.device_ids("admin")[0])
    boots: list[float] = []
    vm.boot()
    boots.append(wait_answering(admin, BOOT_WITHIN_S[kvm]))
    # A command caught by a cut is sent again until the hub is back: give it a boot's time.
    stream = Stream(centre, rng, answer_within_s=BOOT_WITHIN_S[kvm] + 60.0)  # type: ignore[arg-type]
    stop = threading.Event()
    unanswered: list[str] = []

    def run_stream() -> None:
        while not stop.is_set():
            try:
                stream.step()
            except RuntimeError as e:  # no answer within the stream's minute
                unanswered.append(str(e))

    worker = threading.Thread(target=run_stream, daemon=True)
    worker.start()
    try:
        for _ in range(cuts):
            time.sleep(rng.uniform(0.5, 3.0))
            vm.cut()
            vm.boot()
            boots.append(wait_answering(admin, BOOT_WITHIN_S[kvm]))
        time.sleep(1.0)
    finally:
        stop.set()
        worker.join(timeout=120)
        stream.close()
        admin.stop()
        vm.cut()
    vm.read_database(centre.database.parent)
    sqlite3.connect(centre.database).execute("PRAGMA wal_checkpoint(TRUNCATE)").connection.close()
    tally: Tally = stream.check()
    return {
        "cuts": cuts,
        "lost": tally.lost,
        "duplicates": tally.duplicates,
        "double_called": tally.double_called,
        "unanswered": len(unanswered) + (1 if worker.is_alive() else 0),
        "commands_acknowledged": tally.commands - tally.refused,
        "resent": tally.resent,
        "refused": tally.refused,
        "boot_to_answering_s": {k: round(v / 1000, 2) for k, v in summary_ms(boots).items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three cuts")
    parser.add_argument("--cuts", type=int, default=50, help="power cuts in the run (default: 50)")
    parser.add_argument("--image", type=Path, default=CACHE, help=f"where the VM image is kept ({CACHE})")
    parser.add_argument("--rebuild", action="store_true", help="build the VM image afresh")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--emulate", action="store_true",
                        help="where KVM does not boot a guest, use qemu's emulation (minutes a boot)")
    args = parser.parse_args()
    missing = missing_tools()
    if missing:
        print(f"bench.powercut: cannot cut power here, missing: {', '.join(missing)}")
        emit({"skipped": True, "missing": missing})
        return 0
    # The run's folder stays after the run (the VM's console of every boot, the database read
    # back) for whoever must find out why a boot did not answer; the next run clears it.
    work = args.image / "last-run"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    site = write_all_day_site(BENCH_SITE, work / "site.toml", timezone=midday_timezone())
    started = time.monotonic()
    image = build_image(args.image, site, rebuild=args.rebuild)
    built_s = round(time.monotonic() - started, 1)
    kvm = kvm_boots(image)
    if not kvm and not args.emulate:
        print("bench.powercut: /dev/kvm opens here but a guest kernel does not boot under it "
              "(nested virtualisation); --emulate cuts power under qemu's emulation instead, slowly")
        emit({"skipped": True, "missing": ["a KVM that boots a guest"]})
        return 0
    result = {"accelerator": "kvm" if kvm else "tcg (KVM opens here but a nested guest does not boot)"}
    try:
        result |= drill(image, site, work / "vm", 3 if args.quick else args.cuts, random.Random(args.seed),
                        kvm=kvm)
    except VmError as e:
        print(f"bench.powercut: {e}; every boot's console is in {work / 'vm'}")
        return 1
    result["image_ready_s"] = built_s
    result["raw_sqlite_commit_ms"] = raw_commit_ms(work)
    emit(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
