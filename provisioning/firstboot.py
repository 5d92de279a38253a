"""The files a Raspberry Pi OS boot partition needs so a device sets itself up on first boot.

Two stages. The first is Raspberry Pi OS's own: `firstrun.sh` named on cmdline.txt
(Bookworm) or cloud-init's `user-data`/`network-config`/`meta-data` (Trixie) set the
hostname, the technician's user and SSH key and the network. Both end by enabling the
same `luot-firstboot.service`, which runs `luot/firstboot.sh` once the network is up:
it runs `install.sh` (see install_script.py) until it succeeds, with a growing pause.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from dataclasses import dataclass

BOOKWORM = "bookworm"
TRIXIE = "trixie"
CMDLINE_RUN = "systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot " \
              "systemd.unit=kernel-command-line.target"

@dataclass(frozen=True)
class PiDevice:
    """One device of the inventory that this Pi carries (a Pi may carry a hub and a kiosk)."""

    id: str
    role: str


@dataclass(frozen=True)
class FirstBoot:
    """What first boot sets up on one Pi."""

    devices: tuple[PiDevice, ...]
    site: str
    hostname: str
    user: str
    ssh_key: str
    timezone: str
    hub_host: str
    wheel: str  # Lượt's wheel, a file name in the repository's wheels/
    wheel_sha256: str
    wifi_ssid: str = ""
    wifi_password: str = ""
    wifi_country: str = "VN"
    time_servers: tuple[str, ...] = ()  # the hub's: NTP servers on the LAN

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(d.role for d in self.devices)

    @property
    def name(self) -> str:
        return ", ".join(f"{d.id} ({d.role})" for d in self.devices)


def q(value: str) -> str:
    return shlex.quote(value)


# firstrun.sh and cloud-init replace @BOOT@ with where the boot partition is mounted.
FIRSTBOOT_UNIT = """\
# Lượt stage two: install from the hub once the network is up; firstboot.sh retries with a
# growing pause until it succeeds, then disables this unit.
[Unit]
Description=Lượt first-boot installation
Wants=network-online.target
After=network-online.target time-sync.target
ConditionPathExists=@BOOT@/luot/install.sh

[Service]
Type=simple
ExecStart=/bin/bash @BOOT@/luot/firstboot.sh
Restart=on-failure
RestartSec=60s

[Install]
WantedBy=multi-user.target
"""


def firstrun_sh(fb: FirstBoot) -> str:
    """Stage one on Bookworm, in the manner of Raspberry Pi Imager's own script."""
    custom = "/usr/lib/raspberrypi-sys-mods/imager_custom"
    lines = [
        "#!/bin/bash",
        f"# Lượt first boot of {fb.name}, site {fb.site}. Runs once, then reboots.",
        "set +e",
        "BOOT=/boot/firmware; [ -f \"$BOOT/cmdline.txt\" ] || BOOT=/boot",
        f"{custom} set_hostname {q(fb.hostname)}",
        f"/usr/lib/userconf-pi/userconf {q(fb.user)} '*'",
        f"{custom} enable_ssh -k {q(fb.ssh_key)}",
        f"{custom} set_timezone {q(fb.timezone)}",
    ]
    if fb.wifi_ssid:
        lines.append(f"{custom} set_wlan {q(fb.wifi_ssid)} {q(fb.wifi_password)} {q(fb.wifi_country)}")
    lines += [
        "sed \"s|@BOOT@|$BOOT|g\" \"$BOOT/luot/luot-firstboot.service\" \\",
        "    > /etc/systemd/system/luot-firstboot.service",
        "systemctl enable luot-firstboot.service",
        "rm -f \"$BOOT/firstrun.sh\"",
        "sed -i 's| systemd.run.*||g' \"$BOOT/cmdline.txt\"",
        "exit 0",
    ]
    return "\n".join(lines) + "\n"


def cmdline_with_firstrun(cmdline: str) -> str:
    """cmdline.txt is one line: drop any earlier systemd.run… and name our script."""
    words = [w for w in cmdline.split() if not w.startswith(("systemd.run", "systemd.unit="))]
    return " ".join([*words, CMDLINE_RUN]) + "\n"


def y(value: str) -> str:
    """A YAML scalar (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def user_data(fb: FirstBoot) -> str:
    """Stage one on Trixie: cloud-init."""
    return "\n".join([
        "#cloud-config",
        f"# Lượt: {fb.name}, site {fb.site}. Written by luot provision image.",
        f"hostname: {y(fb.hostname)}",
        "manage_etc_hosts: true",
        f"timezone: {y(fb.timezone)}",
        "enable_ssh: true",
        "ssh_pwauth: false",
        "users:",
        f"  - name: {y(fb.user)}",
        "    groups: [sudo, adm, systemd-journal]",
        "    shell: /bin/bash",
        "    sudo: \"ALL=(ALL) NOPASSWD:ALL\"",
        "    lock_passwd: true",
        f"    ssh_authorized_keys: [{y(fb.ssh_key)}]",
        "runcmd:",
        "  - [systemctl, enable, --now, ssh]",
        # The same unit as on Bookworm: it retries, where runcmd runs once.
        "  - [sh, -c, \"sed 's|@BOOT@|/boot/firmware|g' /boot/firmware/luot/luot-firstboot.service"
        " > /etc/systemd/system/luot-firstboot.service\"]",
        "  - [systemctl, daemon-reload]",
        "  - [systemctl, enable, luot-firstboot.service]",
        "  - [systemctl, start, --no-block, luot-firstboot.service]",
    ]) + "\n"


def network_config(fb: FirstBoot) -> str:
    lines = [
        "# Lượt: Ethernet by DHCP" + (", and Wi-Fi" if fb.wifi_ssid else "") + ".",
        "network:",
        "  version: 2",
        "  ethernets:",
        "    eth0:",
        "      dhcp4: true",
        "      optional: true",
    ]
    if fb.wifi_ssid:
        lines += [
            "  wifis:",
            "    wlan0:",
            "      dhcp4: true",
            "      optional: true",
            f"      regulatory-domain: {y(fb.wifi_country)}",
            "      access-points:",
            f"        {y(fb.wifi_ssid)}:",
            f"          password: {y(fb.wifi_password)}",
        ]
    return "\n".join(lines) + "\n"


def meta_data(fb: FirstBoot, content_digest: str) -> str:
    """A new instance id whenever what we write changes, so cloud-init runs again."""
    first = fb.devices[0].id
    instance = hashlib.sha256(f"{fb.site}/{fb.name}/{content_digest}".encode()).hexdigest()[:16]
    return f"instance-id: luot-{first}-{instance}\nlocal-hostname: {y(fb.hostname)}\n"
