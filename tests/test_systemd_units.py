"""The units in systemd/ (they travel in the wheel as provisioning/systemd): `systemd-analyze verify`
clean, the service contract, and exposure."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from provisioning.firstboot import FIRSTBOOT_UNIT
from provisioning.roles import ROLES, config_file

UNITS = Path(__file__).resolve().parent.parent / "systemd"
ROLE_UNITS = {
    "luot-dispatcher.service": 4.0,
    "luot-counter.service": 4.0,
    "luot-display.service": 6.0,
    "luot-kiosk.service": 6.0,
    "luot-web.service": 4.0,
}
# The hub's repository server and its nightly backup: not roles, but as hardened.
HUB_UNITS = {"luot-repo.service": 2.0, "luot-backup.service": 2.0}
SYSTEM_UNITS = next((p for p in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system"))
                     if (p / "sysinit.target").exists()), None)

pytestmark = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None or SYSTEM_UNITS is None,
    reason="systemd-analyze and systemd's own units are needed (this machine has no systemd)",
)


def make_root(tmp_path: Path, units: dict[str, str]) -> Path:
    """A root with systemd's units, ours, and a stand-in for every program they execute,
    so `verify` checks our files rather than what this machine has installed."""
    assert SYSTEM_UNITS is not None
    root = tmp_path / "root"
    shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    etc = root / "etc/systemd/system"
    for name, text in units.items():
        (etc / name).parent.mkdir(parents=True, exist_ok=True)
        (etc / name).write_text(text)
    unit_texts = [p.read_text(errors="replace") for p in (root / "usr/lib/systemd/system").glob("mosquitto*")]
    unit_texts += units.values()
    for text in unit_texts:
        for program in re.findall(r"^Exec\w*=[-+!@:]*(/\S+)", text, re.M):
            fake = root / program.lstrip("/")
            fake.parent.mkdir(parents=True, exist_ok=True)
            fake.write_text("#!/bin/sh\n")
            fake.chmod(0o755)
    if not (root / "usr/lib/systemd/system/mosquitto.service").exists():
        (root / "usr/lib/systemd/system/mosquitto.service").write_text(
            "[Unit]\nDescription=Mosquitto\n[Service]\nType=notify\nExecStart=/usr/sbin/mosquitto\n")
    return root


def our_units() -> dict[str, str]:
    found = {p.relative_to(UNITS).as_posix(): p.read_text() for p in UNITS.rglob("*")
             if p.suffix in (".service", ".timer") or p.parent.suffix == ".d"}
    expected = {*ROLE_UNITS, *HUB_UNITS, "mosquitto.service.d/luot.conf", "luot-backup.timer"}
    assert expected <= set(found)
    return found


def verify(root: Path, unit: str) -> str:
    done = subprocess.run(["systemd-analyze", f"--root={root}", "verify", unit],
                          capture_output=True, text=True, timeout=60)
    return (done.stdout + done.stderr).strip() + ("" if done.returncode == 0 else f"\nexit {done.returncode}")


def test_every_unit_verifies_clean(tmp_path: Path) -> None:
    root = make_root(tmp_path, our_units())
    problems = {unit: verify(root, unit)
                for unit in [*ROLE_UNITS, *HUB_UNITS, "luot-backup.timer", "mosquitto.service"]}
    assert problems == dict.fromkeys(problems, "")


@pytest.mark.parametrize(("file", "unit", "good", "bad"), [
    ("luot-counter.service", "luot-counter.service", "Restart=always", "Restart=alway"),
    ("mosquitto.service.d/luot.conf", "mosquitto.service", "ProtectSystem=strict", "ProtectSystem=strictly"),
])
def test_verify_catches_a_mistake(tmp_path: Path, file: str, unit: str, good: str, bad: str) -> None:
    """The check above can fail: a misspelt value in a unit or in the drop-in is reported."""
    broken = UNITS.joinpath(file).read_text().replace(good, bad)
    root = make_root(tmp_path, {file: broken})
    assert bad.split("=")[1] in verify(root, unit)


@pytest.mark.parametrize("unit", ROLE_UNITS)
def test_role_units_follow_the_service_contract(unit: str) -> None:
    text = UNITS.joinpath(unit).read_text()
    for line in ("Type=notify", "Restart=always", "User=luot", "NoNewPrivileges=yes", "ProtectSystem=strict",
                 "ProtectHome=yes", "PrivateTmp=yes", "CapabilityBoundingSet=\n", "StartLimitBurst="):
        assert line in text, f"{unit} lacks {line.strip()}"
    assert re.search(r"^WatchdogSec=\d+s$", text, re.M)
    assert f"luot {unit.removeprefix('luot-').removesuffix('.service')} --config" in text


@pytest.mark.parametrize("unit", [*ROLE_UNITS, *HUB_UNITS])
def test_security_exposure_is_within_target(unit: str) -> None:
    done = subprocess.run(["systemd-analyze", "security", "--offline=true", str(UNITS / unit)],
                          capture_output=True, text=True, timeout=60)
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    if found is None:
        pytest.skip(f"this systemd-analyze cannot review unit files offline: {done.stderr.strip()[:200]}")
    assert float(found[1]) <= {**ROLE_UNITS, **HUB_UNITS}[unit]


def test_the_first_boot_unit_verifies_clean(tmp_path: Path) -> None:
    unit = FIRSTBOOT_UNIT.replace("@BOOT@", "/boot/firmware")
    root = make_root(tmp_path, {"luot-firstboot.service": unit})
    assert verify(root, "luot-firstboot.service") == ""


def test_mosquitto_with_our_drop_in_is_hardened_too(tmp_path: Path) -> None:
    root = make_root(tmp_path, our_units())
    argv = ["systemd-analyze", f"--root={root}", "security", "--offline=true", "mosquitto.service"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    found = re.search(r"Overall exposure level for mosquitto.service: (\d+\.\d+)", done.stdout)
    if found is None:
        pytest.skip(f"this systemd-analyze cannot review unit files offline: {done.stderr.strip()[:200]}")
    assert float(found[1]) <= 4.0
    assert "User=/DynamicUser=" in done.stdout and "Service runs under a static non-root user" in done.stdout


@pytest.mark.parametrize("role", ["hub", "kiosk", "display", "counter"])
def test_each_role_unit_reads_the_file_first_boot_installs(role: str) -> None:
    """One Pi may carry two roles: each unit names its own role's file, the one install.sh writes."""
    units = [u for u in ROLES[role].units if u.startswith("luot-") and u.endswith(".service")
             and u != "luot-repo.service"]
    for unit in units:
        assert f"--config {config_file(role)}" in UNITS.joinpath(unit).read_text(), unit
    if role in ("kiosk", "display"):
        assert "DeviceAllow=char-ttyS rw" in UNITS.joinpath(units[0]).read_text(), "the GPIO UART"
