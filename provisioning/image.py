"""Write a device's bundle and first-boot files into the boot (FAT) partition of a
Raspberry Pi OS image file or SD card, without root.

The partition is found from the MBR partition table and written with mtools
(`mcopy -i FILE@@OFFSET`), which works on an image file and on a block device the
user may write (group `disk`), without mounting anything.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from provisioning import install_report
from provisioning.firstboot import (
    BOOKWORM,
    FIRSTBOOT_UNIT,
    TRIXIE,
    FirstBoot,
    cmdline_with_firstrun,
    firstrun_sh,
    meta_data,
    network_config,
    user_data,
)
from provisioning.install_script import firstboot_sh, install_sh
from provisioning.repository import KEY_FILE, Repository

SECTOR = 512
FAT_TYPES = (0x01, 0x04, 0x06, 0x0B, 0x0C, 0x0E)  # FAT12, FAT16, FAT16, FAT32, FAT32 LBA, FAT16 LBA
CLOUD_INIT_FILES = ("user-data", "meta-data", "network-config")


class ImageError(Exception):
    """The image or card cannot be written as asked; the message says why."""


@dataclass(frozen=True)
class Partition:
    number: int
    type_id: int
    offset: int  # bytes
    size: int  # bytes


def partitions(image: Path) -> list[Partition]:
    """The primary partitions of an MBR partition table."""
    try:
        with image.open("rb") as f:
            mbr = f.read(SECTOR)
    except OSError as e:
        raise ImageError(f"{image}: cannot be read: {e.strerror}") from None
    if len(mbr) < SECTOR or mbr[510:512] != b"\x55\xaa":
        raise ImageError(f"{image}: no MBR partition table (is this a Raspberry Pi OS image or SD card?)")
    found = []
    for i in range(4):
        entry = mbr[446 + 16 * i: 446 + 16 * (i + 1)]
        type_id = entry[4]
        start, sectors = struct.unpack_from("<II", entry, 8)
        if type_id == 0xEE:
            raise ImageError(f"{image}: a GPT disk; Raspberry Pi OS images use an MBR partition table")
        if type_id and sectors:
            found.append(Partition(i + 1, type_id, start * SECTOR, sectors * SECTOR))
    return found


def boot_partition(image: Path) -> Partition:
    size = image.stat().st_size if image.is_file() else None
    for p in partitions(image):
        if p.type_id in FAT_TYPES:
            if size is not None and p.offset + p.size > size:
                raise ImageError(f"{image}: partition {p.number} ends past the end of the file "
                                 "(a truncated image?)")
            return p
    raise ImageError(f"{image}: no FAT partition, so no Raspberry Pi OS boot partition")


class FatPartition:
    """Files in a FAT file system at a byte offset of an image, through mtools."""

    def __init__(self, image: Path, offset: int) -> None:
        if shutil.which("mcopy") is None:
            raise ImageError("mtools is not installed: apt-get install mtools (brew install mtools)")
        self.target = f"{image}@@{offset}"
        self.env = dict(os.environ, MTOOLS_SKIP_CHECK="1", MTOOLS_NO_VFAT="0")

    def _run(self, *argv: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(argv, capture_output=True, env=self.env, timeout=120)

    def names(self, folder: str = "") -> set[str]:
        done = self._run("mdir", "-b", "-i", self.target, f"::/{folder}")
        if done.returncode != 0:
            message = done.stderr.decode(errors="replace").strip()
            raise ImageError(f"cannot read the boot partition as FAT: {message}")
        return {line.decode(errors="replace").rstrip("/").rsplit("/", 1)[-1]
                for line in done.stdout.splitlines() if line.strip()}

    def read(self, path: str) -> bytes | None:
        done = self._run("mtype", "-i", self.target, f"::/{path}")
        return done.stdout if done.returncode == 0 else None

    def write(self, path: str, data: bytes) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / Path(path).name
            local.write_bytes(data)
            self._check(self._run("mcopy", "-o", "-i", self.target, str(local), f"::/{path}"), path)

    def replace_tree(self, local: Path, name: str) -> None:
        """Put folder `local` at ::/`name`, dropping whatever an earlier run left there."""
        if name in self.names():
            self._check(self._run("mdeltree", "-i", self.target, f"::/{name}"), name)
        self._check(self._run("mcopy", "-s", "-o", "-i", self.target, str(local), f"::/{name}"), name)

    @staticmethod
    def _check(done: subprocess.CompletedProcess[bytes], path: str) -> None:
        if done.returncode != 0:
            message = done.stderr.decode(errors="replace").strip()
            if "No free clusters" in message or "Disk full" in message:
                message = "the boot partition is full"
            raise ImageError(f"cannot write {path} on the boot partition: {message}")


def detect_style(fat: FatPartition) -> str:
    """Trixie images carry cloud-init's files in the boot partition; Bookworm ones do not."""
    names = fat.names()
    if "cmdline.txt" not in names:
        raise ImageError("the FAT partition has no cmdline.txt: not a Raspberry Pi OS boot partition")
    return TRIXIE if any(n in names for n in CLOUD_INIT_FILES) else BOOKWORM


def stage_luot_folder(folder: Path, bundles: Path, fb: FirstBoot, repo: Repository) -> None:
    """The `luot/` folder of the boot partition: each device's bundle, the repository's key
    (and on the hub the repository itself), stage two. The units come with the wheel."""
    folder.mkdir()
    for d in fb.devices:
        shutil.copytree(bundles / d.id, folder / "devices" / d.id)
    shutil.copy(repo.key, folder / KEY_FILE)
    if "hub" in fb.roles:
        shutil.copytree(repo.folder, folder / "repo")
    (folder / "install.sh").write_text(install_sh(fb))
    (folder / "firstboot.sh").write_text(firstboot_sh(fb))
    (folder / "luot-firstboot.service").write_text(FIRSTBOOT_UNIT)
    shutil.copy(install_report.__file__, folder / "report-install.py")


def mounted_from(device: Path, mounts: str) -> list[tuple[str, str]]:
    """(partition, mount point) of `device` in /proc/mounts text: a card must not be mounted
    while mtools writes to it, or the system's cached view overwrites ours."""
    found = []
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0].startswith(str(device)):
            rest = fields[0][len(str(device)):]
            if rest == "" or rest.lstrip("p").isdigit():
                found.append((fields[0], fields[1].replace("\\040", " ")))
    return found


def tree_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def write_image(image: Path, bundles: Path, fb: FirstBoot, repo: Repository, *,
                style: str = "auto") -> tuple[str, Partition]:
    """Write the Pi's bundles and first-boot files; returns the style used and the partition."""
    for d in fb.devices:
        if not (bundles / d.id / "device.toml").is_file():
            raise ImageError(f"{bundles / d.id}: no device.toml; run `luot provision bundle` first")
    if image.is_block_device():
        mounted = mounted_from(image.resolve(), Path("/proc/mounts").read_text())
        if mounted:
            part, where = mounted[0]
            raise ImageError(f"{part} is mounted at {where}: unmount it first (udisksctl unmount -b {part})")
    partition = boot_partition(image)
    fat = FatPartition(image, partition.offset)
    detected = detect_style(fat)
    chosen = detected if style == "auto" else style
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "luot"
        stage_luot_folder(folder, bundles, fb, repo)
        digest = tree_digest(folder)
        fat.replace_tree(folder, "luot")
    if chosen == BOOKWORM:
        cmdline = fat.read("cmdline.txt")
        if cmdline is None:
            raise ImageError("cannot read cmdline.txt from the boot partition")
        fat.write("firstrun.sh", firstrun_sh(fb).encode())
        fat.write("cmdline.txt", cmdline_with_firstrun(cmdline.decode()).encode())
    else:
        fat.write("user-data", user_data(fb).encode())
        fat.write("network-config", network_config(fb).encode())
        fat.write("meta-data", meta_data(fb, digest).encode())
    return chosen, partition
