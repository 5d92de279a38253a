"""The files a Raspberry Pi OS boot partition needs so a device sets itself up on first boot.

Two stages. The first is Raspberry Pi OS's own: `firstrun.sh` named on cmdline.txt
(Bookworm) or cloud-init's `user-data`/`network-config`/`meta-data` (Trixie) set the
hostname, the technician's user and SSH key and the network. Both end by running
`luot/install.sh` once the network is up, which installs Lượt, the device's files and
its role's unit, then removes the secrets from the (world-readable) FAT partition.
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

# Per role: Debian packages, the groups of the `luot` service user, the units to enable.
ROLE_SETUP: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "hub": (("mosquitto",), (), ("mosquitto.service", "luot-dispatcher.service")),
    "kiosk": (("fonts-dejavu-core", "fonts-noto-core"),
              ("video", "render", "input", "audio", "dialout", "lp", "tty"), ("luot-kiosk.service",)),
    "display": (("fonts-dejavu-core", "fonts-noto-core", "espeak-ng", "sox"),
                ("video", "render", "audio", "dialout", "tty"), ("luot-display.service",)),
    "counter": (("python3-lgpio",), ("gpio", "dialout"), ("luot-counter.service",)),
}


@dataclass(frozen=True)
class FirstBoot:
    """What first boot sets up on one device."""

    device_id: str
    role: str
    site: str
    hostname: str
    user: str
    ssh_key: str
    timezone: str
    wifi_ssid: str = ""
    wifi_password: str = ""
    wifi_country: str = "VN"
    wheel: str = ""  # a wheel's file name in luot/ on the boot partition, or "" for pip_spec
    pip_spec: str = "luot"


def q(value: str) -> str:
    return shlex.quote(value)


def install_sh(fb: FirstBoot) -> str:
    """Stage two, the same for both styles: runs as root once the network is up."""
    packages, groups, units = ROLE_SETUP[fb.role]
    source = f'"$B/{fb.wheel}"' if fb.wheel else q(fb.pip_spec)
    lines = [
        "#!/bin/bash",
        f"# Lượt: install device {fb.device_id} ({fb.role}) of site {fb.site}.",
        "# Written by luot provision image; run by luot-firstboot.service or cloud-init.",
        "set -euo pipefail",
        "B=/boot/firmware/luot; [ -d \"$B\" ] || B=/boot/luot",
        "exec >>/var/log/luot-install.log 2>&1",
        "echo \"== $(date -Is) installing Lượt\"",
        "export DEBIAN_FRONTEND=noninteractive",
        "apt-get update -q",
        f"apt-get install -y -q --no-install-recommends python3-venv {' '.join(packages)}",
        "id luot >/dev/null 2>&1 || useradd --system --home-dir /var/lib/luot --shell /usr/sbin/nologin luot",
    ]
    lines += [f"getent group {g} >/dev/null && usermod -aG {g} luot" for g in groups]
    lines += [
        # --system-site-packages: Raspberry Pi OS's python3-lgpio serves gpiozero on every Pi model.
        "[ -x /opt/luot/venv/bin/luot ] || python3 -m venv --system-site-packages /opt/luot/venv",
        f"/opt/luot/venv/bin/pip install --upgrade {source}",
        "install -d -m 0755 /etc/luot",
        "install -m 0640 -o root -g luot \"$B/device.toml\" \"$B/password\" /etc/luot/",
        "[ ! -f \"$B/ca.crt\" ] || install -m 0644 \"$B/ca.crt\" /etc/luot/ca.crt",
    ]
    if fb.role == "hub":
        lines += [
            "install -m 0640 -o root -g luot \"$B/site.toml\" /etc/luot/site.toml",
            "install -d -m 0750 -o root -g mosquitto /etc/luot/broker",
            "install -m 0640 -o root -g mosquitto \"$B\"/broker/* /etc/luot/broker/",
            "install -D -m 0644 \"$B/systemd/mosquitto.service.d/luot.conf\" "
            "/etc/systemd/system/mosquitto.service.d/luot.conf",
        ]
    lines += [
        "install -m 0644 \"$B\"/systemd/*.service /etc/systemd/system/",
        "systemctl daemon-reload",
        f"systemctl enable {' '.join(units)}",
        f"systemctl restart {' '.join(units)}",
        "systemctl disable luot-firstboot.service 2>/dev/null || true",
        # The FAT partition is readable by anyone holding the card: the secrets leave it.
        "rm -rf \"$B/password\" \"$B/broker\" \"$B/install.sh\"",
        "echo \"== $(date -Is) done\"",
    ]
    return "\n".join(lines) + "\n"


# firstrun.sh replaces @BOOT@ with where the boot partition is mounted.
FIRSTBOOT_UNIT = """\
# Lượt stage two on Bookworm: install once the network is up (disabled when done).
[Unit]
Description=Lượt first-boot installation
Wants=network-online.target
After=network-online.target time-sync.target
ConditionPathExists=@BOOT@/luot/install.sh

[Service]
Type=oneshot
ExecStart=/bin/bash @BOOT@/luot/install.sh
Restart=on-failure
RestartSec=30s

[Install]
WantedBy=multi-user.target
"""


def firstrun_sh(fb: FirstBoot) -> str:
    """Stage one on Bookworm, in the manner of Raspberry Pi Imager's own script."""
    custom = "/usr/lib/raspberrypi-sys-mods/imager_custom"
    lines = [
        "#!/bin/bash",
        f"# Lượt first boot of {fb.device_id} ({fb.role}), site {fb.site}. Runs once, then reboots.",
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
        f"# Lượt device {fb.device_id} ({fb.role}), site {fb.site}. Written by luot provision image.",
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
        "  - [bash, /boot/firmware/luot/install.sh]",
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
    instance = hashlib.sha256(f"{fb.site}/{fb.device_id}/{content_digest}".encode()).hexdigest()[:16]
    return f"instance-id: luot-{fb.device_id}-{instance}\nlocal-hostname: {y(fb.hostname)}\n"
