"""Emulated Raspberry Pis for `make pi-test`: arm64 Debian root filesystems made with
mmdebstrap, entered with chroot through qemu-user-static, each holding the boot partition
`luot provision image` would write, so first boot's own install.sh runs there."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import rss_mb
from testbed.supervisor import stop_process

BINFMT = Path("/proc/sys/fs/binfmt_misc")
SYSTEMCTL = Path(__file__).with_name("pi_systemctl.py")  # the emulated Pis' systemd, for luot-* units
# What Raspberry Pi OS Lite has that Debian's minimal base does not: Python, systemd.
BASE_PACKAGES = "python3,systemd,ca-certificates"


class PiTestError(Exception):
    """The emulated centre could not be made or run; the message says where."""


def check_host() -> None:
    """qemu-user-static registered with binfmt_misc (with the F flag, so it works in a chroot)."""
    for program in ("mmdebstrap", "chroot", "unshare"):
        if shutil.which(program) is None:
            raise PiTestError(f"{program} is missing: "
                              "apt-get install mmdebstrap qemu-user-static binfmt-support")
    if not (BINFMT / "status").exists():
        subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)], check=False)
    if not (BINFMT / "qemu-aarch64").exists():
        subprocess.run(["update-binfmts", "--enable", "qemu-aarch64"], check=False, capture_output=True)
    entry = BINFMT / "qemu-aarch64"
    if not entry.exists() or "enabled" not in entry.read_text():
        raise PiTestError("qemu-aarch64 is not registered with binfmt_misc: apt-get install "
                          "qemu-user-static, then update-binfmts --enable qemu-aarch64 (as root)")


def rootfs_tarball(suite: str, work: Path) -> tuple[Path, float]:
    """An arm64 root filesystem of `suite` from Debian's packages, made once and kept."""
    tarball = work / f"rootfs-{suite}-arm64.tar"
    if tarball.is_file() and tarball.stat().st_size > 0:
        return tarball, 0.0
    started = time.monotonic()
    part = tarball.with_suffix(".part.tar")
    done = subprocess.run(["mmdebstrap", "--quiet", "--architectures=arm64", "--variant=minbase",
                           f"--include={BASE_PACKAGES}", suite, str(part), "http://deb.debian.org/debian"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise PiTestError(f"mmdebstrap {suite} failed: {done.stderr.strip()[-800:]}")
    part.rename(tarball)
    return tarball, time.monotonic() - started


@dataclass
class Pi:
    """One emulated Pi: a root filesystem to chroot into, with its processes."""

    name: str
    root: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @classmethod
    def unpack(cls, name: str, tarball: Path, where: Path) -> Pi:
        root = where / name
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        with tarfile.open(tarball) as tar:
            tar.extractall(root, filter="fully_trusted")
        (root / "etc/hosts").write_text("127.0.0.1 localhost luot-hub.local\n")
        (root / "boot/firmware").mkdir(parents=True, exist_ok=True)
        return cls(name, root)

    @property
    def boot(self) -> Path:
        return self.root / "boot/firmware/luot"

    def mount(self) -> None:
        for target, argv in (("proc", ["-t", "proc", "proc"]), ("dev", ["--bind", "/dev"]),
                             ("run", ["-t", "tmpfs", "tmpfs"])):
            subprocess.run(["mount", *argv, str(self.root / target)], check=True)

    def unmount(self) -> None:
        for target in ("run", "dev", "proc"):
            subprocess.run(["umount", "-l", str(self.root / target)], check=False, capture_output=True)

    def run(self, argv: list[str], timeout: float,
            env: dict[str, str] | None = None) -> tuple[int, str, float]:
        started = time.monotonic()
        done = subprocess.run(["chroot", str(self.root), *argv], capture_output=True, text=True,
                              timeout=timeout, env=self.env(env))
        return done.returncode, done.stdout + done.stderr, time.monotonic() - started

    def start(self, label: str, argv: list[str], *, user: str | None = None,
              env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        chroot = ["chroot", *(["--userspec", f"{user}:{user}"] if user else []), str(self.root)]
        log = (self.root / f"tmp/{label}.log").open("wb")
        env = {**({"HOME": "/tmp"} if user else {}), **(env or {})}
        process = subprocess.Popen([*chroot, *argv], stdout=log, stderr=subprocess.STDOUT, env=self.env(env))
        self.processes[label] = process
        return process

    @staticmethod
    def env(extra: dict[str, str] | None) -> dict[str, str]:
        base = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
                "HOME": "/root"}
        return {**base, **(extra or {})}

    def log(self, label: str) -> str:
        path = self.root / f"tmp/{label}.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    # ------------------------------------------------------------------ units, as systemd would run them

    def emulate_systemd(self, env: dict[str, str] | None) -> None:
        """`systemctl start|stop|restart luot-…` from here on runs the installed unit files
        (bench/pi_systemctl.py); `env` overrides their Environment (dummy video, mock pins)."""
        shim = self.root / "usr/local/sbin/systemctl"
        shim.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SYSTEMCTL, shim)
        shim.chmod(0o755)
        (self.root / "etc/luot-pitest.env").write_text("".join(f"{k}={v}\n" for k, v in (env or {}).items()))

    def start_unit(self, unit: str) -> None:
        code, output, _ = self.run(["systemctl", "start", unit], 60)
        if code != 0:
            raise PiTestError(f"{self.name}: systemctl start {unit}: {output[-800:]}")

    def _units(self) -> dict[str, int]:
        """The running unit processes (the program itself, not the runuser before it)."""
        found = {}
        for path in sorted((self.root / "run/pitest").glob("*.pid")):
            pid = int(path.read_text())
            children = Path(f"/proc/{pid}/task/{pid}/children")
            below = children.read_text().split() if children.exists() else []
            found[path.stem.removesuffix(".service")] = int(below[0]) if below else pid
        return found

    def memory_mb(self) -> dict[str, float]:
        alive = {label: p.pid for label, p in self.processes.items() if p.poll() is None}
        return {label: round(rss_mb(pid), 1) for label, pid in (alive | self._units()).items()
                if Path(f"/proc/{pid}").exists()}

    def unit_log(self, unit: str) -> str:
        return self.log(f"{unit}.service")

    def stop(self) -> None:
        state = self.root / "run/pitest"
        programs = list(self._units().values())
        for supervisor in sorted(state.glob("*.supervisor")):
            (state / supervisor.name.replace(".supervisor", ".stopping")).touch()
            pids = [int(p.read_text()) for p in (supervisor, supervisor.with_suffix(".pid")) if p.exists()]
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        for pid in programs:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for process in self.processes.values():
            stop_process(process)
        self.processes.clear()


def cut_network() -> None:
    """Inside `unshare -n`: only loopback, brought up, exists."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    if any(" lo:" not in line for line in links.splitlines()):
        raise PiTestError(f"the network is not cut: {links}")
    os.environ.pop("http_proxy", None)
    os.environ.pop("https_proxy", None)
