"""The centre's time: the generated chrony configurations, run by Debian's real chronyd on
loopback (a device takes the hub's time), and a time server outside the LAN refused."""

from __future__ import annotations

import getpass
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import reaped

from provisioning.timesync import chrony_conf, device_chrony_conf, hub_chrony_conf
from testbed.broker import free_port

USER = getpass.getuser()  # chronyd drops to this user: root in CI, yourself elsewhere
CHRONYD = shutil.which("chronyd") or "/usr/sbin/chronyd"
needs_chronyd = pytest.mark.skipif(not Path(CHRONYD).exists(),
                                   reason="apt-get install chrony (make system installs it)")


def sources(conf: str) -> list[str]:
    return [line.split()[1] for line in conf.splitlines() if re.match(r"\s*(server|pool|peer)\s", line)]


def test_no_pi_names_a_time_source_but_the_hub_or_the_lans_own():
    assert sources(chrony_conf(("kiosk",), "luot-hub.local")) == ["luot-hub.local"]
    assert sources(chrony_conf(("counter", "display"), "10.0.0.2")) == ["10.0.0.2"]
    assert sources(chrony_conf(("hub",), "luot-hub.local")) == []
    assert sources(chrony_conf(("hub", "kiosk"), "luot-hub.local", ("192.168.1.1",))) == ["192.168.1.1"]
    hub = chrony_conf(("hub",), "luot-hub.local")
    assert "local stratum 10" in hub and "allow 192.168.0.0/16" in hub
    assert "allow 0.0.0.0/0" not in hub and not re.search(r"^allow\s*$", hub, re.M), "only the LAN asks"


def _chronyd(conf: str, folder: Path, name: str) -> Path:
    """`conf` with what a test run needs on top (later lines win): its own files, no control
    port, the system clock left alone (chronyd -x)."""
    path = folder / f"{name}.conf"
    path.write_text(conf + f"pidfile {folder}/{name}.pid\ndriftfile {folder}/{name}.drift\ncmdport 0\n")
    return path


@needs_chronyd
def test_a_device_takes_the_time_from_the_hub_as_configured(tmp_path: Path):
    port = free_port()
    hub_conf = _chronyd(hub_chrony_conf(port=port) + "bindaddress 127.0.0.1\nallow 127.0.0.1\n",
                        tmp_path, "hub")
    device_conf = _chronyd(device_chrony_conf("127.0.0.1", hub_port=port), tmp_path, "device")

    def ask_the_hub(seconds: int) -> str:
        # -Q: measure the offset against the configured servers and print it; never set the clock.
        done = subprocess.run([CHRONYD, "-Q", "-u", USER, "-f", str(device_conf), "-t", str(seconds)],
                              capture_output=True, text=True, timeout=seconds + 15)
        return done.stdout + done.stderr

    measured = re.compile(r"System clock wrong by -?\d+\.\d+ seconds \(ignored\)")
    assert not measured.search(ask_the_hub(3)), "no time without the hub"
    with reaped(subprocess.Popen([CHRONYD, "-d", "-x", "-u", USER, "-f", str(hub_conf)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)):
        answer = ask_the_hub(12)
    assert measured.search(answer), answer
