"""How long `luot provision` takes for a centre of 100 devices.

Times `bundle` from nothing, again with nothing to change, after adding a device and
for one `rotate`, in process and as the command a technician types; then `check`
against a real Mosquitto loaded with the bundle's own passwd and ACL.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bench.common import emit, parse_args
from luot.config import load_site
from provisioning.acl_check import check_probes, run_check
from provisioning.bundle import make_bundles, read_secrets
from testbed.broker import Mosquitto

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "tests" / "data" / "site.toml"
COUNTERS = 84
KIOSKS = 4
DISPLAYS = 10  # with hub and admin: 100 devices
T = TypeVar("T")


def site_of_100(folder: Path) -> Path:
    text = TEMPLATE.read_text().split("[[counters]]", 1)[0]
    text += "".join(f'[[counters]]\nnumber = {n}\nservices = ["CT", "HT", "DD"]\n\n'
                    for n in range(1, COUNTERS + 1))
    devices = [("hub", "hub", None), ("admin", "admin", None)]
    devices += [(f"kiosk-{i}", "kiosk", None) for i in range(1, KIOSKS + 1)]
    devices += [(f"tv-{i}", "display", None) for i in range(1, DISPLAYS + 1)]
    devices += [(f"quay-{n}", "counter", n) for n in range(1, COUNTERS + 1)]
    for device_id, role, counter in devices:
        text += f'[[devices]]\nid = "{device_id}"\nrole = "{role}"\n'
        text += f"counter = {counter}\n\n" if counter else "\n"
    text += '[network]\nhub_host = "luot-hub.local"\n'
    path = folder / "site.toml"
    path.write_text(text)
    assert len(load_site(path).devices) == 100
    return path


def timed(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[float, T]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def main() -> None:
    args = parse_args(__doc__ or "")
    rounds = 3 if args.quick else 10
    with tempfile.TemporaryDirectory(prefix="luot-bench-") as tmp:
        folder = Path(tmp)
        site_file = site_of_100(folder)
        fresh, again, added, rotated = [], [], [], []
        for i in range(rounds):
            out = folder / f"out-{i}"
            seconds, report = timed(make_bundles, site_file, out)
            fresh.append(seconds)
            files_written = len(report.changed)
            again.append(timed(make_bundles, site_file, out)[0])
            grown = folder / f"site-{i}.toml"
            grown.write_text(site_file.read_text() + '\n[[devices]]\nid = "tv-extra"\nrole = "display"\n')
            seconds, report = timed(make_bundles, grown, out)
            added.append(seconds)
            files_after_add = len(report.changed)
            rotated.append(timed(make_bundles, grown, out, rotate=("quay-7",))[0])
            if i:
                shutil.rmtree(out)

        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "luot", "provision", "bundle", "--site", str(site_file),
                        "--out", str(folder / "cli")], check=True, capture_output=True, cwd=ROOT)
        cli_s = time.perf_counter() - start

        out = folder / "out-0"
        site = load_site(site_file)
        roles = {d.id: d.role for d in site.devices}
        broker = Mosquitto(folder / "broker", site.id, roles, persistence=False)
        shutil.copy(out / "hub/broker/passwd", broker.files.password_file)
        shutil.copy(out / "hub/broker/acl", broker.files.acl_file)
        broker.start()
        try:
            passwords = read_secrets(out)
            check_s, check = timed(run_check, site.id, roles, {u: passwords[u] for u in roles},
                                   broker.host, broker.port)
        finally:
            broker.stop()

    def ms(values: list[float]) -> float:
        return round(statistics.median(values) * 1000, 1)

    emit({
        "bench": "provision",
        "devices": 100,
        "rounds": rounds,
        "bundle_fresh_ms": ms(fresh),
        "bundle_files_written": files_written,
        "bundle_unchanged_ms": ms(again),
        "bundle_add_one_device_ms": ms(added),
        "files_changed_by_adding_one": files_after_add,
        "rotate_one_ms": ms(rotated),
        "cli_bundle_fresh_s": round(cli_s, 2),
        "check_100_devices_s": round(check_s, 2),
        "check_probes": len(check_probes(site.id, roles, "hub")),
        "check_ok": check.ok,
    })


if __name__ == "__main__":
    main()
