"""`luot provision image` on small Raspberry Pi OS-like images made here: an MBR with a FAT
boot partition (mkfs.vfat) and a root partition, read back with mtools and checked."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from helpers import SITE_FILE

from provisioning.__main__ import main
from provisioning.firstboot import CMDLINE_RUN
from provisioning.image import mounted_from

MKFS = shutil.which("mkfs.vfat") or next((p for p in ("/usr/sbin/mkfs.vfat", "/sbin/mkfs.vfat")
                                          if Path(p).exists()), None)
pytestmark = pytest.mark.skipif(MKFS is None or shutil.which("mcopy") is None,
                                reason="needs dosfstools (mkfs.vfat) and mtools")

MiB = 1024 * 1024
BOOT_START = 8192  # sectors, as Raspberry Pi OS images have it
ROOT_FILL = b"ext4 root partition, must stay untouched " * 100
CMDLINE = ("console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 "
           "fsck.repair=yes rootwait\n")
MTOOLS_ENV = dict(os.environ, MTOOLS_SKIP_CHECK="1")


def mbr_entry(type_id: int, start: int, sectors: int) -> bytes:
    return struct.pack("<B3sB3sII", 0, b"\xfe\xff\xff", type_id, b"\xfe\xff\xff", start, sectors)


def make_image(tmp_path: Path, *, cloud_init: bool, fat_type: int = 0x0C, boot_mib: int = 16) -> Path:
    """An image with partition 1 FAT (boot) at 4 MiB, partition 2 Linux (root, 4 MiB) after it."""
    assert MKFS is not None
    part = tmp_path / "boot.fat"
    subprocess.run([MKFS, "-C", "-n", "bootfs", str(part), str(boot_mib * 1024)], check=True,
                   capture_output=True)
    files = tmp_path / "bootfiles"
    files.mkdir()
    (files / "cmdline.txt").write_text(CMDLINE)
    (files / "config.txt").write_text("dtparam=audio=on\n")
    if cloud_init:
        for name in ("user-data", "meta-data", "network-config"):
            (files / name).write_text("# placeholder\n")
    for f in files.iterdir():
        subprocess.run(["mcopy", "-i", str(part), str(f), "::/"], check=True, env=MTOOLS_ENV)
    boot_sectors = boot_mib * MiB // 512
    root_start = BOOT_START + boot_sectors
    mbr = bytearray(512)
    mbr[440:444] = b"\x91\x90\x63\x4e"
    mbr[446:462] = mbr_entry(fat_type, BOOT_START, boot_sectors)
    mbr[462:478] = mbr_entry(0x83, root_start, 4 * MiB // 512)
    mbr[510:512] = b"\x55\xaa"
    image = tmp_path / "raspios.img"
    with image.open("wb") as f:
        f.write(mbr)
        f.seek(BOOT_START * 512)
        f.write(part.read_bytes())
        f.seek(root_start * 512)
        f.write(ROOT_FILL)
        f.truncate(root_start * 512 + 4 * MiB)
    return image


def read_back(image: Path, path: str) -> str:
    """A file from the boot partition, located by this test's own layout, not the writer's parser."""
    done = subprocess.run(["mtype", "-i", f"{image}@@{BOOT_START * 512}", f"::/{path}"],
                          capture_output=True, env=MTOOLS_ENV, check=True)
    return done.stdout.decode()


def listing(image: Path, folder: str) -> set[str]:
    done = subprocess.run(["mdir", "-b", "-i", f"{image}@@{BOOT_START * 512}", f"::/{folder}"],
                          capture_output=True, env=MTOOLS_ENV)
    return {line.rstrip("/").rsplit("/", 1)[-1] for line in done.stdout.decode().splitlines() if line}


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    site = tmp_path / "site.toml"
    site.write_text(SITE_FILE.read_text() + '\n[network]\nhub_host = "luot-hub.local"\n'
                    'wifi_ssid = "UBND Phường"\nwifi_password = "mật khẩu wifi"\nwifi_country = "VN"\n')
    key = tmp_path / "id_ed25519.pub"
    key.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests kythuat@laptop\n")
    return site, tmp_path / "bundles", key


def provision(capsys: pytest.CaptureFixture[str], site: Path, out: Path, key: Path, image: Path,
              device: str, *extra: str) -> tuple[int, str]:
    code = main(["image", "--site", str(site), "--out", str(out), "--device", device, "--image", str(image),
                 "--ssh-key", str(key), *extra])
    return code, capsys.readouterr().out


def root_untouched(image: Path) -> bool:
    with image.open("rb") as f:
        f.seek((BOOT_START + 16 * MiB // 512) * 512)
        return f.read(len(ROOT_FILL)) == ROOT_FILL


def bash_syntax_ok(script: str) -> bool:
    return subprocess.run(["bash", "-n"], input=script.encode(), capture_output=True).returncode == 0


def test_bookworm_image_gets_firstrun_and_the_bundle(tmp_path: Path, setup: tuple[Path, Path, Path],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    site, out, key = setup
    image = make_image(tmp_path, cloud_init=False)
    code, text = provision(capsys, site, out, key, image, "quay-3")
    assert code == 0, text
    assert "bookworm style" in text
    assert read_back(image, "luot/device.toml") == (out / "quay-3/device.toml").read_text()
    assert read_back(image, "luot/password") == (out / "quay-3/password").read_text()
    assert {"luot-counter.service", "luot-display.service"} <= listing(image, "luot/systemd")
    install = read_back(image, "luot/install.sh")
    assert bash_syntax_ok(install) and "systemctl enable luot-counter.service" in install
    assert "python3-lgpio" in install and "pip install --upgrade luot" in install
    firstrun = read_back(image, "firstrun.sh")
    assert bash_syntax_ok(firstrun)
    assert "set_hostname luot-quay-3" in firstrun and "kythuat" in firstrun
    assert "enable_ssh -k 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests kythuat@laptop'" in firstrun
    assert "set_wlan 'UBND Phường' 'mật khẩu wifi' VN" in firstrun
    assert "set_timezone Asia/Ho_Chi_Minh" in firstrun
    cmdline = read_back(image, "cmdline.txt")
    assert cmdline == CMDLINE.strip() + " " + CMDLINE_RUN + "\n"
    assert "user-data" not in listing(image, "")
    assert root_untouched(image)

    code, text = provision(capsys, site, out, key, image, "quay-3")  # again: nothing doubles
    assert code == 0 and read_back(image, "cmdline.txt") == cmdline


def test_trixie_image_gets_cloud_init(tmp_path: Path, setup: tuple[Path, Path, Path],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    site, out, key = setup
    image = make_image(tmp_path, cloud_init=True)
    wheel = tmp_path / "luot-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"PK\x05\x06" + bytes(18))
    code, text = provision(capsys, site, out, key, image, "hub", "--wheel", str(wheel))
    assert code == 0, text
    assert "trixie style" in text
    user_data = read_back(image, "user-data")
    assert user_data.startswith("#cloud-config\n")
    assert 'hostname: "luot-hub"' in user_data and 'name: "kythuat"' in user_data
    assert "[bash, /boot/firmware/luot/install.sh]" in user_data
    network = read_back(image, "network-config")
    assert '"UBND Phường":\n          password: "mật khẩu wifi"' in network
    meta = read_back(image, "meta-data")
    assert meta.startswith("instance-id: luot-hub-")
    assert read_back(image, "cmdline.txt") == CMDLINE, "cloud-init needs no change to cmdline.txt"
    assert "firstrun.sh" not in listing(image, "")
    names = listing(image, "luot")
    assert {"device.toml", "password", "site.toml", "install.sh", wheel.name, "broker"} <= names
    assert read_back(image, "luot/broker/acl") == (out / "hub/broker/acl").read_text()
    assert "luot.conf" in listing(image, "luot/systemd/mosquitto.service.d")
    install = read_back(image, "luot/install.sh")
    assert bash_syntax_ok(install) and f'pip install --upgrade "$B/{wheel.name}"' in install
    assert "systemctl enable mosquitto.service luot-dispatcher.service" in install
    assert root_untouched(image)

    provision(capsys, site, out, key, image, "hub", "--wheel", str(wheel))
    assert read_back(image, "meta-data") == meta, "the same content keeps the same instance id"
    main(["rotate", "hub", "--site", str(site), "--out", str(out)])
    provision(capsys, site, out, key, image, "hub", "--wheel", str(wheel))
    assert read_back(image, "meta-data") != meta, "new content: cloud-init must run again"


def test_style_can_be_forced(tmp_path: Path, setup: tuple[Path, Path, Path],
                             capsys: pytest.CaptureFixture[str]) -> None:
    site, out, key = setup
    image = make_image(tmp_path, cloud_init=False, fat_type=0x0B)
    code, text = provision(capsys, site, out, key, image, "tv-1", "--style", "trixie")
    assert code == 0 and "trixie style" in text
    assert "luot-display.service" in read_back(image, "luot/install.sh")
    assert read_back(image, "user-data").startswith("#cloud-config")


def test_bad_images_and_inputs_are_explained(tmp_path: Path, setup: tuple[Path, Path, Path],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    site, out, key = setup
    junk = tmp_path / "junk.img"
    junk.write_bytes(b"\0" * 4096)
    code, text = provision(capsys, site, out, key, junk, "quay-1")
    assert code == 2 and "no MBR partition table" in text

    (tmp_path / "a").mkdir()
    linux_only = make_image(tmp_path / "a", cloud_init=False, fat_type=0x83)
    code, text = provision(capsys, site, out, key, linux_only, "quay-1")
    assert code == 2 and "no FAT partition" in text

    code, text = provision(capsys, site, out, key, tmp_path / "missing.img", "quay-1")
    assert code == 2 and "cannot be read" in text

    (tmp_path / "b").mkdir()
    image = make_image(tmp_path / "b", cloud_init=False)
    code, text = provision(capsys, site, out, key, image, "admin")
    assert code == 2 and "technician's computer" in text
    code, text = provision(capsys, site, out, key, image, "quay-42")
    assert code == 2 and "no device 'quay-42'" in text
    bad_key = tmp_path / "key.pub"
    bad_key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    code, text = provision(capsys, site, out, bad_key, image, "quay-1")
    assert code == 2 and "not one OpenSSH public key line" in text
    code, text = provision(capsys, site, out, key, image, "quay-1", "--wheel", str(key))
    assert code == 2 and "not a wheel file" in text

    (tmp_path / "c").mkdir()
    small = make_image(tmp_path / "c", cloud_init=False, boot_mib=1)
    wheel = tmp_path / "luot-0.1.0-py3-none-any.whl"
    wheel.write_bytes(os.urandom(2 * MiB))
    code, text = provision(capsys, site, out, key, small, "quay-1", "--wheel", str(wheel))
    assert code == 2 and "the boot partition is full" in text


def test_a_mounted_card_is_recognised() -> None:
    mounts = ("/dev/sdb1 /media/kythuat/bootfs vfat rw 0 0\n"
              "/dev/sdb2 /media/kythuat/root\\040fs ext4 rw 0 0\n"
              "/dev/sdbc1 /mnt vfat rw 0 0\n"
              "/dev/mmcblk0p1 /boot/firmware vfat rw 0 0\n")
    assert mounted_from(Path("/dev/sdb"), mounts) == [("/dev/sdb1", "/media/kythuat/bootfs"),
                                                      ("/dev/sdb2", "/media/kythuat/root fs")]
    assert mounted_from(Path("/dev/mmcblk0"), mounts) == [("/dev/mmcblk0p1", "/boot/firmware")]
    assert mounted_from(Path("/dev/sdc"), mounts) == []
