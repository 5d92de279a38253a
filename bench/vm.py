"""A hub in a small Debian virtual machine, for real power cuts (`bench.powercut`).

The image is built from Debian's packages with mmdebstrap, then set up as a hub's first
boot would: Lượt's wheel in /opt/luot/venv, the hub's bundle in /etc/luot, Mosquitto and
the dispatcher under the units in `systemd/`. The VM runs under KVM with its disk on a
file; killing qemu with SIGKILL loses whatever the guest had not yet written to that disk,
as a power cut does to a Pi. The broker is reached from outside through a forwarded
loopback port; the database is read back with debugfs, with no mount.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from provisioning.bundle import make_bundles, read_secrets

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("systemd-sysv", "udev", "linux-image-amd64", "mosquitto", "python3", "python3-venv",
            "iproute2", "chrony")
IMAGE_SIZE = "2G"
GUEST_DB = "/var/lib/luot/luot.db"


class VmError(RuntimeError):
    """The VM could not be built or started: the message says which step and why."""


def missing_tools() -> list[str]:
    """What this machine lacks for a KVM power cut (empty when it can run one)."""
    wanted = {"mmdebstrap": "mmdebstrap", "qemu-system-x86_64": "qemu-system-x86",
              "mkfs.ext4": "e2fsprogs", "debugfs": "e2fsprogs"}
    missing = [f"{tool} (Debian {package})" for tool, package in wanted.items() if shutil.which(tool) is None]
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        missing.insert(0, "/dev/kvm")
    if os.uname().machine != "x86_64":
        missing.append("an x86_64 host (the VM is amd64)")
    return missing


def _run(argv: list[str], what: str, **kwargs: object) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        raise VmError(f"{what} failed ({done.returncode}): {(done.stderr or done.stdout)[-2000:]}")


@dataclass(frozen=True)
class HubFiles:
    """Where a hub image's disk, kernel and initrd lie in its folder, before and after the build."""

    folder: Path

    @property
    def disk(self) -> Path:
        return self.folder / "hub.raw"

    @property
    def kernel(self) -> Path:
        return self.folder / "vmlinuz"

    @property
    def initrd(self) -> Path:
        return self.folder / "initrd.img"


@dataclass(frozen=True)
class HubImage(HubFiles):
    """A built hub: its files and the devices' broker passwords."""

    passwords: dict[str, str]


def build_image(folder: Path, site_file: Path, *, rebuild: bool = False) -> HubImage:
    """The hub's disk image in `folder`, built once and kept (a few minutes the first time).

    Each run puts its own copy of the site on the disk (`HubVm.put_site`), so a kept image
    serves any time zone; the inventory and the passwords are the image's.
    """
    folder.mkdir(parents=True, exist_ok=True)
    files = HubFiles(folder)
    bundles = folder / "bundles"
    if rebuild or not files.disk.exists():
        shutil.rmtree(bundles, ignore_errors=True)
        make_bundles(site_file, bundles)
        _build(files, bundles)
    return HubImage(folder, read_secrets(bundles))


def _build(files: HubFiles, bundles: Path) -> None:
    wheels = files.folder / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--wheel-dir", str(wheels), str(ROOT)],
         "pip wheel (Lượt and its dependencies for the VM's CPython)")
    rootfs = files.folder / "rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    _run(["mmdebstrap", "--variant=apt", f"--include={','.join(PACKAGES)}", "bookworm", str(rootfs)],
         "mmdebstrap (a Debian bookworm root filesystem)")
    _install_hub(rootfs, bundles, wheels)
    boot = rootfs / "boot"
    shutil.copyfile(next(boot.glob("vmlinuz-*")), files.kernel)
    shutil.copyfile(next(boot.glob("initrd.img-*")), files.initrd)
    files.disk.unlink(missing_ok=True)
    _run(["mkfs.ext4", "-q", "-F", "-L", "luot-hub", "-d", str(rootfs), str(files.disk), IMAGE_SIZE],
         "mkfs.ext4 (the VM's disk)")
    shutil.rmtree(rootfs)


def _install_hub(rootfs: Path, bundles: Path, wheels: Path) -> None:
    """What a hub's first boot does, from this machine's copy of the wheels and the bundle."""
    def chroot(*argv: str) -> None:
        _run(["chroot", str(rootfs), *argv], f"in the VM's root: {' '.join(argv)}")

    shutil.copytree(wheels, rootfs / "opt/wheels")
    chroot("python3", "-m", "venv", "/opt/luot/venv")
    chroot("/opt/luot/venv/bin/pip", "install", "-q", "--no-index", "--find-links", "/opt/wheels", "luot")
    shutil.rmtree(rootfs / "opt/wheels")
    chroot("useradd", "--system", "--home-dir", "/var/lib/luot", "--shell", "/usr/sbin/nologin", "luot")
    hub = bundles / "hub"
    etc = rootfs / "etc/luot"
    (etc / "broker").mkdir(parents=True)
    shutil.copyfile(hub / "device.toml", etc / "hub.toml")
    shutil.copyfile(hub / "password", etc / "hub.password")
    shutil.copyfile(hub / "site.toml", etc / "site.toml")
    for file in (hub / "broker").iterdir():
        shutil.copyfile(file, etc / "broker" / file.name)
    chroot("sh", "-c", "chgrp luot /etc/luot/hub.password /etc/luot/site.toml && "
                       "chmod 0640 /etc/luot/hub.password /etc/luot/site.toml && "
                       "chgrp mosquitto /etc/luot/broker /etc/luot/broker/* && chmod 0640 /etc/luot/broker/*")
    units = ROOT / "systemd"
    system = rootfs / "etc/systemd/system"
    shutil.copyfile(units / "luot-dispatcher.service", system / "luot-dispatcher.service")
    (system / "mosquitto.service.d").mkdir(exist_ok=True)
    shutil.copyfile(units / "mosquitto.service.d/luot.conf", system / "mosquitto.service.d/luot.conf")
    (rootfs / "etc/systemd/network/10-wired.network").write_text("[Match]\nName=e*\n\n[Network]\nDHCP=yes\n")
    (rootfs / "etc/fstab").write_text("/dev/vda / ext4 defaults 0 1\n")
    (rootfs / "etc/hostname").write_text("luot-hub\n")
    chroot("systemctl", "enable", "systemd-networkd.service", "mosquitto.service", "luot-dispatcher.service")
    chroot("systemctl", "mask", "apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_reap.service")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def kvm_boots(image: HubImage, within_s: float = 20.0) -> bool:
    """Whether a kernel starts under KVM here. Inside some virtual machines /dev/kvm opens but
    a nested guest never gets past its boot loader; qemu's own emulation (TCG) then serves,
    slower, for the same cut: the guest's page cache dies with the qemu process either way."""
    try:
        done = subprocess.run(
            ["qemu-system-x86_64", "-enable-kvm", "-cpu", "host", "-m", "256", "-display", "none",
             "-monitor", "none", "-serial", "stdio", "-no-reboot", "-kernel", str(image.kernel),
             "-append", "console=ttyS0 panic=-1 root=/dev/null"],
            capture_output=True, timeout=within_s)
        output = done.stdout
    except subprocess.TimeoutExpired as e:
        output = e.stdout or b""
    return b"Linux version" in output


class HubVm:
    """One disk, booted and cut as often as asked; the broker at 127.0.0.1:`port`."""

    def __init__(self, image: HubImage, workdir: Path, *, kvm: bool = True) -> None:
        self.kvm = kvm
        self.image = image
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.disk = workdir / "run.raw"
        shutil.copyfile(image.disk, self.disk)  # a fresh database for every run
        self.port = free_port()
        self.boots = 0
        self.process: subprocess.Popen[bytes] | None = None

    def put_site(self, site_file: Path) -> None:
        """This run's site.toml on the disk, readable by the dispatcher only (0640 root:luot)."""
        groups = subprocess.run(["debugfs", "-R", "cat /etc/group", str(self.disk)],
                                capture_output=True, text=True, check=True).stdout
        gid = next(line.split(":")[2] for line in groups.splitlines() if line.startswith("luot:"))
        script = "\n".join([
            "rm /etc/luot/site.toml", f"write {site_file} /etc/luot/site.toml",
            "sif /etc/luot/site.toml uid 0", f"sif /etc/luot/site.toml gid {gid}",
            "sif /etc/luot/site.toml mode 0100640", "",
        ])
        _run(["debugfs", "-w", "-f", "-", str(self.disk)], "debugfs (writing the site file)", input=script)
        if not self.kvm:
            self._allow_emulated_start()

    def _allow_emulated_start(self) -> None:
        """Under emulation a Python start takes minutes, past the unit's start timeout and its
        watchdog: give the dispatcher time here, and only here (the unit itself is unchanged)."""
        drop_in = self.workdir / "emulated.conf"
        drop_in.write_text("[Service]\nTimeoutStartSec=900s\nWatchdogSec=600s\n")
        folder = "/etc/systemd/system/luot-dispatcher.service.d"
        script = "\n".join([f"mkdir {folder}", f"write {drop_in} {folder}/emulated.conf",
                             f"sif {folder}/emulated.conf mode 0100644", ""])
        _run(["debugfs", "-w", "-f", "-", str(self.disk)], "debugfs (the emulated start's drop-in)",
             input=script)

    def boot(self) -> None:
        self.boots += 1
        console = self.workdir / f"console-{self.boots}.log"
        self.process = subprocess.Popen([
            "qemu-system-x86_64", *(["-enable-kvm", "-cpu", "host"] if self.kvm else ["-cpu", "max"]),
            "-m", "768", "-smp", "2" if self.kvm else "1",
            "-display", "none", "-monitor", "none", "-serial", f"file:{console}", "-no-reboot",
            "-kernel", str(self.image.kernel), "-initrd", str(self.image.initrd),
            "-append", "root=/dev/vda rw console=ttyS0 quiet panic=-1",
            "-drive", f"file={self.disk},format=raw,if=virtio,cache=writeback",
            "-netdev", f"user,id=net0,hostfwd=tcp:127.0.0.1:{self.port}-:1883",
            "-device", "virtio-net-pci,netdev=net0",
        ], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def cut(self) -> None:
        """The power cut: qemu killed at once, the guest's page cache gone with it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
        self.process = None

    def read_database(self, dest: Path) -> Path:
        """The guest's database and its WAL, copied out of the disk (the VM must be down)."""
        if self.process is not None:
            raise VmError("read the database with the VM down")
        dest.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal"):
            out = dest / f"luot.db{suffix}"
            out.unlink(missing_ok=True)
            _run(["debugfs", "-R", f"dump -p {GUEST_DB}{suffix} {out}", str(self.disk)],
                 f"debugfs (reading {GUEST_DB}{suffix})")
        if (dest / "luot.db-wal").exists() and (dest / "luot.db-wal").stat().st_size == 0:
            (dest / "luot.db-wal").unlink()
        return dest / "luot.db"
