"""What each role installs on a Pi: Debian packages, Python extras, groups, units, file paths.

One Pi may carry several roles (a small office runs the hub and the kiosk on one Pi), so
every path a role reads is named after the role, never one shared `/etc/luot/device.toml`.
The repository builder and the first-boot script both read this table, so the centre's
offline repository holds exactly what first boot asks for.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ETC = Path("/etc/luot")
REPO_DIR = Path("/srv/luot/repo")  # on the hub: the centre's offline repository
REPO_PORT = 8090  # the hub serves it on the LAN (lighttpd)
LUOT_ROOT = Path("/opt/luot")  # venvs/<version>, one per release, and the link venv -> venvs/<version>
VENV = LUOT_ROOT / "venv"
# The Pi's updater's own broker login (0600 root): one per Pi, whatever its roles.
UPDATER_TOML = ETC / "updater.toml"
UPDATER_PASSWORD = ETC / "updater.password"


@dataclass(frozen=True)
class RoleSetup:
    """One role's needs on a Pi."""

    packages: tuple[str, ...]  # Debian packages, beside python3-venv and chrony
    extras: tuple[str, ...]  # Lượt's optional dependencies (pyproject extras)
    groups: tuple[str, ...]  # of the `luot` service user
    units: tuple[str, ...]  # enabled and started


# Every Pi: Python's venv, and chrony to take the time from the hub (a Pi has no clock).
COMMON_PACKAGES = ("python3-venv", "chrony")
# pygame-ce's bundled SDL draws through KMS/DRM with the system's GBM/EGL and plays through ALSA.
SCREEN_PACKAGES = ("fonts-dejavu-core", "libgbm1", "libegl1", "libgles2", "libdrm2", "libasound2")

ROLES: dict[str, RoleSetup] = {
    "hub": RoleSetup(("mosquitto", "lighttpd"), (), (),
                     ("mosquitto.service", "luot-repo.service", "luot-dispatcher.service",
                      "luot-backup.timer")),
    "kiosk": RoleSetup((*SCREEN_PACKAGES, "libusb-1.0-0"), ("screen",),
                       ("video", "render", "input", "audio", "dialout", "lp", "tty"),
                       ("luot-kiosk.service",)),
    "display": RoleSetup((*SCREEN_PACKAGES, "espeak-ng", "sox"), ("screen",),
                         ("video", "render", "audio", "dialout", "tty"), ("luot-display.service",)),
    "counter": RoleSetup((), (), ("gpio", "dialout"), ("luot-counter.service",)),
    # The hub's web service: phones, counter PCs and the leader's screen reach it on the LAN.
    "web": RoleSetup((), (), (), ("luot-web.service",)),
}


def config_file(role: str) -> Path:
    """Where a role's device.toml lives on the Pi."""
    return ETC / f"{role}.toml"


def password_file(role: str) -> Path:
    """Where a role's broker password lives on the Pi (0640 root:luot)."""
    return ETC / f"{role}.password"


def packages_for(roles: tuple[str, ...] | list[str]) -> list[str]:
    """The Debian packages a Pi with these roles installs, in a stable order."""
    wanted = list(COMMON_PACKAGES)
    for role in roles:
        wanted += [p for p in ROLES[role].packages if p not in wanted]
    return wanted


def extras_for(roles: tuple[str, ...] | list[str]) -> list[str]:
    return sorted({e for role in roles for e in ROLES[role].extras})


def all_packages() -> list[str]:
    """What the offline repository must hold for every role."""
    return packages_for(list(ROLES))


def repo_url(roles: tuple[str, ...] | list[str], hub_host: str) -> str:
    """Where a Pi's apt and pip find the centre's repository: the hub reads its own copy."""
    if "hub" in roles:
        return f"file://{REPO_DIR}"
    return f"http://{hub_host}:{REPO_PORT}"


def pip_install_args(repo: str, wheel: str, sha256: str, extras: list[str],
                     trusted_host: str | None) -> list[str]:
    """pip's arguments for Lượt from the centre's repository only: no index, the wheel by its
    file and SHA-256 (never a name an index could answer), first boot and updates alike."""
    name = f"luot[{','.join(extras)}]" if extras else "luot"
    wheels = f"{repo}/wheels"
    trusted = ["--trusted-host", trusted_host] if trusted_host else []
    return ["--no-index", "--find-links", f"{wheels}/index.html", *trusted,
            f"{name} @ {wheels}/{wheel}#sha256={sha256}"]
