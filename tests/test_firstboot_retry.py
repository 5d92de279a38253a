"""First boot's stage two really run: `firstboot.sh` retries a failing `install.sh` with a
growing pause, logs why on the boot partition, and reports it to a real Mosquitto with the
device's own credentials through `report-install.py` (standard library only)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from helpers import wait_for

from luot import protocol as p
from luot.mqtt import make_paho_client, unique_client_id
from provisioning import install_report
from provisioning.firstboot import FirstBoot, PiDevice
from provisioning.install_script import firstboot_sh
from testbed.broker import Mosquitto

STUBS = {
    # sleep: record the pause; after the third, stop the loop as a power cut would.
    "sleep": '#!/bin/sh\necho "$1" >> "$STUB_LOG/sleeps"\n'
             '[ "$(wc -l < "$STUB_LOG/sleeps")" -ge "${STOP_AFTER:-99}" ] && kill "$PPID"\nexit 0\n',
    "systemctl": '#!/bin/sh\necho "systemctl $*" >> "$STUB_LOG/systemctl"\n',
}
FAILING_INSTALL = """#!/bin/bash
set -e
n=$(cat "$STUB_LOG/attempts" 2>/dev/null || echo 0); echo $((n + 1)) > "$STUB_LOG/attempts"
echo "== $(date -Is) service user"
echo "== $(date -Is) Debian packages"
[ "$n" -ge "${SUCCEED_AT:-99}" ] && { echo "== $(date -Is) done"; exit 0; }
echo "E: Unable to locate package mosquitto"
exit 100
"""


def boot_partition(tmp_path: Path, broker: Mosquitto, site: str) -> tuple[Path, dict[str, str]]:
    """A boot partition's luot/ folder with stage two, and /etc/luot holding the kiosk's file."""
    b = tmp_path / "boot/luot"
    b.mkdir(parents=True)
    etc = tmp_path / "etc"
    broker.write_device_file(etc / "kiosk.toml", "kiosk-1")
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for name, text in STUBS.items():
        (stubs / name).write_text(text)
        (stubs / name).chmod(0o755)
    fb = FirstBoot(devices=(PiDevice("kiosk-1", "kiosk"),), site=site, hostname="luot-kiosk-1", user="k",
                   ssh_key="ssh-ed25519 A", timezone="Asia/Ho_Chi_Minh", hub_host="127.0.0.1",
                   wheel="luot-0.1.0-py3-none-any.whl", wheel_sha256="0" * 64)
    (b / "firstboot.sh").write_text(firstboot_sh(fb))
    (b / "install.sh").write_text(FAILING_INSTALL)
    (b / "report-install.py").write_text(Path(install_report.__file__).read_text())
    env = dict(os.environ, PATH=f"{stubs}:{os.environ['PATH']}", STUB_LOG=str(tmp_path), LUOT_ETC=str(etc),
               LUOT_LOG=str(tmp_path / "var-log-luot-install.log"))
    return b, env


def retained(broker: Mosquitto, topic: str) -> bytes:
    """The retained message on `topic`, read as the hub (which may read device/…)."""
    got: list[bytes] = []
    client = make_paho_client(broker.settings("hub"), unique_client_id("hub", "test"))
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.on_message = lambda _c, _u, m: got.append(m.payload)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        return wait_for(lambda: got and got[0], what=f"the retained {topic}")
    finally:
        client.loop_stop()
        client.disconnect()


def test_a_failing_install_is_retried_with_backoff_and_reported(tmp_path: Path, broker: Mosquitto) -> None:
    b, env = boot_partition(tmp_path, broker, broker.site)
    done = subprocess.run(["bash", str(b / "firstboot.sh")], env={**env, "STOP_AFTER": "3"},
                          capture_output=True, timeout=60)
    assert done.returncode != 0, "stopped by the power cut, never 'succeeded'"
    assert (tmp_path / "sleeps").read_text().split() == ["15", "30", "60"]
    log = (b / "install.log").read_text()
    assert "attempt 1 failed at step Debian packages (exit 100): E: Unable to locate package mosquitto; " \
           "next try in 15s" in log
    assert "attempt 3 failed at step Debian packages" in log and "next try in 60s" in log
    assert "attempt 3 failed at step Debian packages" in (tmp_path / "var-log-luot-install.log").read_text()
    assert (b / "install.sh").exists() and not (tmp_path / "systemctl").exists()

    topics = p.Topics(broker.site)
    detail = json.loads(retained(broker, topics.device_install("kiosk-1")) or b"{}")
    assert detail["state"] == "failed"
    assert detail["reason"].startswith("attempt 3 failed at step Debian packages")
    assert retained(broker, topics.device_status("kiosk-1")) == p.INSTALL_FAILED.encode()


def test_the_attempt_that_succeeds_ends_first_boot(tmp_path: Path, broker: Mosquitto) -> None:
    b, env = boot_partition(tmp_path, broker, broker.site)
    done = subprocess.run(["bash", str(b / "firstboot.sh")], env={**env, "SUCCEED_AT": "2"},
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "attempts").read_text().strip() == "3"
    assert (tmp_path / "sleeps").read_text().split() == ["15", "30"]
    assert (tmp_path / "systemctl").read_text() == "systemctl disable luot-firstboot.service\n"
    assert not (b / "install.sh").exists(), "the unit's condition no longer holds: it never runs again"
    detail = json.loads(retained(broker, p.Topics(broker.site).device_install("kiosk-1")) or b"{}")
    assert detail["state"] == "done" and detail["reason"] == "installed on attempt 3"


def test_a_wrong_password_is_reported_locally_not_hidden(tmp_path: Path, broker: Mosquitto) -> None:
    device = broker.write_device_file(tmp_path / "kiosk.toml", "kiosk-1")
    device.write_text(device.read_text().replace(broker.passwords["kiosk-1"], "wrong"))
    topics = p.Topics(broker.site)
    args = ["failed", "why", str(device), topics.device_status("kiosk-1"), topics.device_install("kiosk-1")]
    assert install_report.main(args) == 1
    assert install_report.main(["failed"]) == 2
