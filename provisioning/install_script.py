"""Stage two of first boot, the same on Bookworm and Trixie: `firstboot.sh` and `install.sh`.

`install.sh` installs only from the centre's offline repository: the hub from the copy on
its own card, every other Pi from the hub over the LAN (apt sources that name the hub,
`pip --no-index`). Lượt itself is named by its file in the repository and its SHA-256,
never by a name an index could answer. The secrets leave the FAT partition first, so a
card pulled out after a failed attempt holds none. `firstboot.sh` runs it until it
succeeds, pausing 15 s, 30 s, … up to 10 minutes between attempts, and says why each
failed: in `install.log` on the boot partition (readable on a laptop), in
/var/log/luot-install.log, and on each device's status topic once the hub's broker answers.
"""

from __future__ import annotations

from luot.protocol import Topics
from provisioning.firstboot import FirstBoot, q
from provisioning.roles import (
    LUOT_ROOT,
    REPO_DIR,
    ROLES,
    UPDATER_PASSWORD,
    UPDATER_TOML,
    VENV,
    config_file,
    extras_for,
    packages_for,
    password_file,
    pip_install_args,
    repo_url,
)
from provisioning.timesync import CHRONY_CONF, chrony_conf

FIRST_DELAY_S = 15
MAX_DELAY_S = 600
LOG = "/var/log/luot-install.log"
UPDATER_UNIT = "luot-updater.service"  # every Pi: fleet updates from the hub (fleet/)
APT_DIR = "/etc/luot/apt"
# The journal never fills the card under the dispatcher's database: a cap, and room kept free.
JOURNALD_CONF = "[Journal]\nSystemMaxUse=200M\nSystemKeepFree=1G\n"


def take_secrets(fb: FirstBoot) -> list[str]:
    """Move the device files from the card into /etc/luot (a no-op on a later attempt)."""
    lines = []
    for d in fb.devices:
        src = f'"$B/devices/{d.id}'
        lines += [
            f'take {src}/device.toml" {config_file(d.role)} 0640',  # a kiosk's holds the ticket key
            f'take {src}/password" {password_file(d.role)} 0640',
            f'take {src}/ca.crt" /etc/luot/ca.crt 0644',
        ]
        if d.role != "admin":  # the same on each device of this Pi: its updater's login
            lines += [f'take {src}/updater.toml" {UPDATER_TOML} 0600',
                      f'take {src}/updater.password" {UPDATER_PASSWORD} 0600']
        if d.role == "web":
            lines.append(f'take {src}/web-users" /etc/luot/web-users 0640')
        if d.role == "hub":
            lines += [
                f'take {src}/site.toml" /etc/luot/site.toml 0640',
                f'if [ -d {src}/broker" ]; then',
                "    install -d -m 0750 /etc/luot/broker",
                f'    for f in {src}/broker"/*; do take "$f" "/etc/luot/broker/$(basename "$f")" 0600; done',
                f'    rmdir {src}/broker"',
                "fi",
            ]
    return lines


def install_sh(fb: FirstBoot) -> str:
    """Stage two: runs as root once the network is up; safe to run again after a failure."""
    hub = "hub" in fb.roles
    source = repo_url(fb.roles, fb.hub_host)
    pip_args = pip_install_args(source, fb.wheel, fb.wheel_sha256, extras_for(fb.roles),
                                None if hub else fb.hub_host)
    venv = LUOT_ROOT / "venvs" / fb.wheel.split("-")[1]
    units = [u for r in fb.roles for u in ROLES[r].units] + [UPDATER_UNIT]
    groups = sorted({g for r in fb.roles for g in ROLES[r].groups})
    lines = [
        "#!/bin/bash",
        f"# Lượt: install {fb.name} of site {fb.site} on this Pi, from the centre's repository only.",
        "# Written by luot provision image; run as root by firstboot.sh until it succeeds.",
        "set -euo pipefail",
        'B=$(dirname "$(readlink -f "$0")")',
        "export DEBIAN_FRONTEND=noninteractive",
        'step() { echo "== $(date -Is) $1"; }',
        '# take SOURCE TARGET MODE: move a file from the card (FAT, readable by anyone holding it).',
        'take() { if [ -f "$1" ]; then install -m "$3" -o root -g luot "$1" "$2"; rm -f "$1"; fi; }',
        "",
        'step "service user"',
        "id luot >/dev/null 2>&1 || useradd --system --home-dir /var/lib/luot --shell /usr/sbin/nologin luot",
        "install -d -m 0755 /etc/luot",
        "",
        'step "secrets off the card"',
        *take_secrets(fb),
        "take \"$B/repo.gpg\" /etc/luot/repo.gpg 0644",
        'if [ -f "$B/../network-config" ] && [ -d /etc/cloud/cloud.cfg.d ]; then',
        "    # cloud-init has brought the network up from it and keeps that; the Wi-Fi password leaves.",
        "    echo 'network: {config: disabled}' > /etc/cloud/cloud.cfg.d/99-luot-network.cfg",
        '    rm -f "$B/../network-config"',
        "fi",
        "",
        'step "the centre\'s repository"',
    ]
    if hub:
        lines += [
            "# The hub installs from its own card, then serves the repository to the LAN.",
            f'if [ -d "$B/repo" ]; then install -d -m 0755 {REPO_DIR}; cp -a "$B/repo/." {REPO_DIR}/; '
            'rm -rf "$B/repo"; fi',
        ]
    lines += [
        ". /etc/os-release",
        f"install -d -m 0755 {APT_DIR} {APT_DIR}/parts",
        f'echo "deb [signed-by=/etc/luot/repo.gpg] {source}/debian/$VERSION_CODENAME ./" '
        f"> {APT_DIR}/sources.list",
        f"cp {APT_DIR}/sources.list /etc/apt/sources.list.d/luot.list",
        f"APT=(apt-get -q -o Dir::Etc::SourceList={APT_DIR}/sources.list "
        f"-o Dir::Etc::SourceParts={APT_DIR}/parts)",
        "",
        'step "Debian packages"',
        '"${APT[@]}" update',
        "# Nothing starts with Debian's defaults while installing (Mosquitto, lighttpd on port 80).",
        "[ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d; "
        "chmod 0755 /usr/sbin/policy-rc.d; trap 'rm -f /usr/sbin/policy-rc.d' EXIT; }",
        f'"${{APT[@]}}" install -y --no-install-recommends {" ".join(packages_for(fb.roles))}',
        "",
        'step "time"',
        "# chrony as provisioning/timesync.py writes it: no internet pool, the hub the LAN's clock.",
        f"cat > {CHRONY_CONF} <<'LUOT_CHRONY'",
        chrony_conf(fb.roles, fb.hub_host, fb.time_servers).rstrip("\n"),
        "LUOT_CHRONY",
        "if [ -d /run/systemd/system ]; then systemctl restart chrony; fi",
        "",
        'step "journal"',
        "install -d -m 0755 /etc/systemd/journald.conf.d",
        f"printf {q(JOURNALD_CONF)} > /etc/systemd/journald.conf.d/luot.conf",
        "if [ -d /run/systemd/system ]; then systemctl restart systemd-journald; fi",
        "",
        'step "groups"',
        f"for g in {' '.join(groups)}; do "
        'if getent group "$g" >/dev/null; then usermod -aG "$g" luot; fi; done'
        if groups else "true",
        "",
        'step "Lượt"',
        "# A venv per release (venvs/<version>) and the link every unit names: what updates switch.",
        f"[ -x {venv}/bin/python ] || python3 -m venv --system-site-packages {venv}",
        f"{venv}/bin/pip install {' '.join(q(a) for a in pip_args)}",
        f"ln -sfn venvs/{venv.name} {LUOT_ROOT}/.venv-link && mv -T {LUOT_ROOT}/.venv-link {VENV}",
        "",
        'step "units"',
        f"UNITS=$({VENV}/bin/python -c 'import pathlib, provisioning; "
        "print(pathlib.Path(provisioning.__file__).parent / \"systemd\")')",
        "install -m 0644 " + " ".join(f'"$UNITS/{u}"' for u in units if u.startswith("luot-"))
        + (' "$UNITS/luot-backup.service"' if hub else "") + " /etc/systemd/system/",
    ]
    if hub:
        lines += [
            "chgrp mosquitto /etc/luot/broker /etc/luot/broker/*",
            "chmod 0640 /etc/luot/broker/*",
            'install -D -m 0644 "$UNITS/mosquitto.service.d/luot.conf" '
            "/etc/systemd/system/mosquitto.service.d/luot.conf",
            'install -m 0644 "$UNITS/repo-lighttpd.conf" /etc/luot/repo-lighttpd.conf',
            "systemctl disable lighttpd.service 2>/dev/null || true",
        ]
    if "display" in fb.roles:
        lines += [
            "",
            'step "voice pack"',
            "# The spoken calls, made here with espeak-ng: nothing is fetched to speak.",
            "install -d -o luot -g luot -m 0755 /var/lib/luot",
            f"runuser -u luot -- {VENV}/bin/luot display --build-voice /var/lib/luot/voice",
        ]
    lines += [
        "",
        'step "services"',
        f"systemctl enable {' '.join(units)}",
        "if [ -d /run/systemd/system ]; then "
        f"systemctl daemon-reload; systemctl restart {' '.join(units)}; fi",
        'step "done"',
    ]
    return "\n".join(lines) + "\n"


def firstboot_sh(fb: FirstBoot) -> str:
    """Run install.sh until it succeeds; log and report every failure with its reason."""
    topics = Topics(fb.site)
    targets = " ".join(
        f'"$ETC/{d.role}.toml" {q(topics.device_status(d.id))} {q(topics.device_install(d.id))}'
        for d in fb.devices)
    return "\n".join([
        "#!/bin/bash",
        f"# Lượt first boot of {fb.name}: install.sh until it succeeds, a longer pause after each failure.",
        "set -u",
        'B=$(dirname "$(readlink -f "$0")")',
        "ETC=${LUOT_ETC:-/etc/luot}",
        f"LOG=${{LUOT_LOG:-{LOG}}}",
        f"report() {{ python3 \"$B/report-install.py\" \"$1\" \"$2\" {targets} >>\"$B/install.log\" 2>&1; }}",
        f"delay={FIRST_DELAY_S}",
        "attempt=1",
        "while :; do",
        '    out=$(mktemp)',
        '    bash "$B/install.sh" >"$out" 2>&1',
        "    code=$?",
        '    cat "$out" >>"$LOG"; cat "$out" >>"$B/install.log"',
        '    if [ "$code" = 0 ]; then',
        '        report done "installed on attempt $attempt"',
        '        rm -f "$out" "$B/install.sh"',
        "        systemctl disable luot-firstboot.service",
        "        exit 0",
        "    fi",
        "    step=$(grep '^== ' \"$out\" | tail -n 1 | cut -d' ' -f3-)",
        "    error=$(grep -v '^== ' \"$out\" | grep . | tail -n 1)",
        '    reason="attempt $attempt failed at step ${step:-start} (exit $code): ${error:-no output}; '
        'next try in ${delay}s"',
        '    echo "$(date -Is) $reason" | tee -a "$LOG" >>"$B/install.log"',
        '    report failed "$reason"',
        '    rm -f "$out"',
        '    sleep "$delay"',
        f"    delay=$(( delay * 2 > {MAX_DELAY_S} ? {MAX_DELAY_S} : delay * 2 ))",
        "    attempt=$(( attempt + 1 ))",
        "done",
    ]) + "\n"
