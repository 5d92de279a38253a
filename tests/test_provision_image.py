"""`luot provision image` on small Raspberry Pi OS-like images made here: an MBR with a FAT
boot partition (mkfs.vfat) and a root partition, read back with mtools and checked."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass
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


def make_repo(folder: Path, wheel_bytes: bytes = b"PK\x05\x06" + bytes(18)) -> Path:
    """A repository as `luot provision repo` lays it out, small: what `image` reads from it."""
    wheels = folder / "wheels"
    wheels.mkdir(parents=True)
    wheel = wheels / "luot-0.1.0-py3-none-any.whl"
    wheel.write_bytes(wheel_bytes)
    (wheels / "index.html").write_text(f'<a href="{wheel.name}">{wheel.name}</a>\n')
    (folder / "debian/bookworm").mkdir(parents=True)
    (folder / "debian/bookworm/InRelease").write_text("signed index\n")
    (folder / "repo.gpg").write_bytes(b"\x99public key")
    digest = hashlib.sha256(wheel_bytes).hexdigest()
    (folder / "manifest.json").write_text(json.dumps({"luot": {"wheel": wheel.name, "sha256": digest}}))
    return folder


@dataclass(frozen=True)
class Provision:
    """`luot provision image` with this test's site, bundle folder, SSH key and repository,
    so that a test names only the image, the device and what it changes."""

    site: Path
    out: Path
    key: Path
    capsys: pytest.CaptureFixture[str]

    @property
    def repo(self) -> Path:
        return self.site.parent / "repo"

    def __call__(self, image: Path, device: str, *extra: str, key: Path | None = None) -> tuple[int, str]:
        code = main(["image", "--site", str(self.site), "--out", str(self.out), "--device", device,
                     "--image", str(image), "--ssh-key", str(key or self.key), "--repo", str(self.repo),
                     *extra])
        return code, self.capsys.readouterr().out


@pytest.fixture
def provision(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Provision:
    site = tmp_path / "site.toml"
    site.write_text(SITE_FILE.read_text() + '\n[network]\nhub_host = "luot-hub.local"\n'
                    'wifi_ssid = "UBND Phường"\nwifi_password = "mật khẩu wifi"\nwifi_country = "VN"\n')
    key = tmp_path / "id_ed25519.pub"
    key.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests kythuat@laptop\n")
    make_repo(tmp_path / "repo")
    return Provision(site, tmp_path / "bundles", key, capsys)


def root_untouched(image: Path) -> bool:
    with image.open("rb") as f:
        f.seek((BOOT_START + 16 * MiB // 512) * 512)
        return f.read(len(ROOT_FILL)) == ROOT_FILL


def bash_syntax_ok(script: str) -> bool:
    return subprocess.run(["bash", "-n"], input=script.encode(), capture_output=True).returncode == 0


def test_bookworm_image_gets_firstrun_and_the_bundle(tmp_path: Path, provision: Provision) -> None:
    image = make_image(tmp_path, cloud_init=False)
    code, text = provision(image, "quay-3")
    assert code == 0, text
    assert "bookworm style" in text and "from the hub (luot-hub.local)" in text
    assert read_back(image, "luot/devices/quay-3/device.toml") == \
        (provision.out / "quay-3/device.toml").read_text()
    assert read_back(image, "luot/devices/quay-3/password") == (provision.out / "quay-3/password").read_text()
    assert read_back(image, "luot/report-install.py").startswith('"""Tell the hub how')
    names = listing(image, "luot")
    assert {"install.sh", "firstboot.sh", "luot-firstboot.service", "repo.gpg"} <= names
    assert "repo" not in names and "systemd" not in names, "a counter gets the key, not the repository"
    install = read_back(image, "luot/install.sh")
    assert bash_syntax_ok(install) and "systemctl enable luot-counter.service" in install
    assert "pip install --no-index --find-links http://luot-hub.local:8090/wheels/index.html" in install
    wheel = "luot-0.1.0-py3-none-any.whl"
    digest = hashlib.sha256((provision.repo / "wheels" / wheel).read_bytes()).hexdigest()
    assert f"'luot @ http://luot-hub.local:8090/wheels/{wheel}#sha256={digest}'" in install
    assert "pygame" not in install and "[screen]" not in install, "a counter draws nothing"
    assert "take \"$B/devices/quay-3/password\" /etc/luot/counter.password 0640" in install
    firstrun = read_back(image, "firstrun.sh")
    assert bash_syntax_ok(firstrun) and bash_syntax_ok(read_back(image, "luot/firstboot.sh"))
    assert "set_hostname luot-quay-3" in firstrun and "kythuat" in firstrun
    assert "enable_ssh -k 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests kythuat@laptop'" in firstrun
    assert "set_wlan 'UBND Phường' 'mật khẩu wifi' VN" in firstrun
    assert "set_timezone Asia/Ho_Chi_Minh" in firstrun
    assert "systemctl enable luot-firstboot.service" in firstrun
    cmdline = read_back(image, "cmdline.txt")
    assert cmdline == CMDLINE.strip() + " " + CMDLINE_RUN + "\n"
    assert "user-data" not in listing(image, "")
    assert root_untouched(image)

    code, text = provision(image, "quay-3")  # again: nothing doubles
    assert code == 0 and read_back(image, "cmdline.txt") == cmdline


def test_trixie_hub_carries_the_repository(tmp_path: Path, provision: Provision) -> None:
    image = make_image(tmp_path, cloud_init=True)
    code, text = provision(image, "hub")
    assert code == 0, text
    assert "trixie style" in text and "from its own card" in text
    user_data = read_back(image, "user-data")
    assert user_data.startswith("#cloud-config\n")
    assert 'hostname: "luot-hub"' in user_data and 'name: "kythuat"' in user_data
    assert "[systemctl, start, --no-block, luot-firstboot.service]" in user_data, "retried, not runcmd once"
    network = read_back(image, "network-config")
    assert '"UBND Phường":\n          password: "mật khẩu wifi"' in network
    meta = read_back(image, "meta-data")
    assert meta.startswith("instance-id: luot-hub-")
    assert read_back(image, "cmdline.txt") == CMDLINE, "cloud-init needs no change to cmdline.txt"
    assert "firstrun.sh" not in listing(image, "")
    assert {"device.toml", "password", "site.toml", "broker"} <= listing(image, "luot/devices/hub")
    assert read_back(image, "luot/devices/hub/broker/acl") == (provision.out / "hub/broker/acl").read_text()
    assert read_back(image, "luot/repo/manifest.json") == (provision.repo / "manifest.json").read_text()
    assert "luot-0.1.0-py3-none-any.whl" in listing(image, "luot/repo/wheels")
    install = read_back(image, "luot/install.sh")
    assert bash_syntax_ok(install)
    assert "deb [signed-by=/etc/luot/repo.gpg] file:///srv/luot/repo/debian/$VERSION_CODENAME ./" in install
    assert "--find-links file:///srv/luot/repo/wheels/index.html" in install
    assert "--trusted-host" not in install
    assert "systemctl enable mosquitto.service luot-repo.service luot-dispatcher.service luot-backup.timer" \
        in install
    assert "mosquitto lighttpd" in install
    assert root_untouched(image)

    provision(image, "hub")
    assert read_back(image, "meta-data") == meta, "the same content keeps the same instance id"
    main(["rotate", "hub", "--site", str(provision.site), "--out", str(provision.out)])
    provision(image, "hub")
    assert read_back(image, "meta-data") != meta, "new content: cloud-init must run again"


def test_hub_and_kiosk_on_one_pi(tmp_path: Path, provision: Provision) -> None:
    image = make_image(tmp_path, cloud_init=False)
    code, text = provision(image, "kiosk-1", "--device", "hub")
    assert code == 0, text
    assert "hub (hub), kiosk-1 (kiosk), host name luot-hub" in text
    assert {"hub", "kiosk-1"} <= listing(image, "luot/devices")
    install = read_back(image, "luot/install.sh")
    for role, device in (("hub", "hub"), ("kiosk", "kiosk-1")):
        assert f'take "$B/devices/{device}/device.toml" /etc/luot/{role}.toml 0640' in install
        assert f'take "$B/devices/{device}/password" /etc/luot/{role}.password 0640' in install
    kiosk = read_back(image, "luot/devices/kiosk-1/device.toml")
    assert 'password_file = "/etc/luot/kiosk.password"' in kiosk
    assert "'luot[screen] @ file:///srv/luot/repo/wheels/" in install
    assert "luot-dispatcher.service luot-backup.timer luot-kiosk.service" in install
    assert "mosquitto lighttpd fonts-dejavu-core" in install
    firstboot = read_back(image, "luot/firstboot.sh")
    assert '"$ETC/hub.toml" luot/test-ward/device/hub/status luot/test-ward/device/hub/install' in firstboot
    assert '"$ETC/kiosk.toml" luot/test-ward/device/kiosk-1/status' in firstboot

    code, text = provision(image, "kiosk-1", "--device", "kiosk-2")
    assert code == 2 and "one Pi runs one kiosk: kiosk-1 and kiosk-2 cannot share it" in text


URL = re.compile(r"\b([a-z][a-z0-9+.-]*)://([^/\s\"'\]:]*)")
INTERNET = ("pypi", "pythonhosted", "debian.org", "raspberrypi.com", "raspberrypi.org", "github", "ubuntu")


@pytest.mark.parametrize(("device", "cloud_init"), [("hub", False), ("quay-1", False), ("tv-1", True),
                                                    ("kiosk-1", True)])
def test_first_boot_reaches_nothing_but_the_hub(tmp_path: Path, provision: Provision, device: str,
                                                 cloud_init: bool) -> None:
    """Every script the card runs names no host but the hub, and pip never asks an index."""
    image = make_image(tmp_path, cloud_init=cloud_init)
    assert provision(image, device)[0] == 0
    scripts = ["luot/install.sh", "luot/firstboot.sh", "luot/luot-firstboot.service",
               "luot/report-install.py"]
    scripts += ["user-data", "network-config"] if cloud_init else ["firstrun.sh", "cmdline.txt"]
    for name in scripts:
        text = read_back(image, name)
        hosts = {(scheme, host) for scheme, host in URL.findall(text)}
        assert hosts <= {("http", "luot-hub.local"), ("file", "")}, f"{name} names {hosts}"
        assert not [w for w in INTERNET if w in text.lower()], name
        assert not re.search(r"pip3? install(?: --upgrade)? luot", text), name
        for line in re.findall(r".*pip3? (?:install|download).*", text):
            assert "--no-index" in line, f"{name}: {line}"
    install = read_back(image, "luot/install.sh")
    assert install.count("apt-get") == 1 and "Dir::Etc::SourceParts=/etc/luot/apt/parts" in install, \
        "apt reads only the hub's source"
    # Debian's chrony.conf (a public pool) is replaced whole: the time comes from the hub alone.
    chrony = install.split("cat > /etc/chrony/chrony.conf <<'LUOT_CHRONY'\n")[1].split("\nLUOT_CHRONY\n")[0]
    servers = re.findall(r"^(?:server|pool|peer) (\S+)", chrony, re.M)
    assert servers == ([] if device == "hub" else ["luot-hub.local"])
    assert ("local stratum 10" in chrony) == (device == "hub")
    assert "SystemMaxUse=200M" in install and "SystemKeepFree=1G" in install, "the journal is capped"


def test_every_secret_on_the_card_is_taken_off_it_first(tmp_path: Path, provision: Provision) -> None:
    image = make_image(tmp_path, cloud_init=True)
    assert provision(image, "hub", "--device", "tv-1")[0] == 0
    install = read_back(image, "luot/install.sh")
    secrets_step = install.index('step "secrets off the card"')
    assert secrets_step < install.index('step "the centre\'s repository"') < install.index("apt-get")
    on_card = [f"devices/{d}/{name}" for d in ("hub", "tv-1") for name in listing(image, f"luot/devices/{d}")]
    for path in on_card:
        if path.endswith("/broker"):
            assert f'for f in "$B/{path}"/*; do take "$f"' in install
        else:
            assert f'take "$B/{path}" /etc/luot/' in install, path
    assert 'rm -f "$B/../network-config"' in install, "the Wi-Fi password in network-config leaves too"
    assert oct((provision.out / "hub/site.toml").stat().st_mode & 0o777) == "0o600"
    for secret in ("hub/broker/passwd", "hub/broker/mosquitto.conf", "hub/password", "secrets"):
        assert oct((provision.out / secret).stat().st_mode & 0o777) == "0o600", secret


def test_style_can_be_forced(tmp_path: Path, provision: Provision) -> None:
    image = make_image(tmp_path, cloud_init=False, fat_type=0x0B)
    code, text = provision(image, "tv-1", "--style", "trixie")
    assert code == 0 and "trixie style" in text
    assert "luot-display.service" in read_back(image, "luot/install.sh")
    install = read_back(image, "luot/install.sh")
    assert "'luot[screen] @ http://luot-hub.local:8090/" in install
    assert "runuser -u luot -- /opt/luot/venv/bin/luot display --build-voice /var/lib/luot/voice" in install
    assert read_back(image, "user-data").startswith("#cloud-config")


def test_bad_images_and_inputs_are_explained(tmp_path: Path, provision: Provision) -> None:
    junk = tmp_path / "junk.img"
    junk.write_bytes(b"\0" * 4096)
    code, text = provision(junk, "quay-1")
    assert code == 2 and "no MBR partition table" in text

    (tmp_path / "a").mkdir()
    linux_only = make_image(tmp_path / "a", cloud_init=False, fat_type=0x83)
    code, text = provision(linux_only, "quay-1")
    assert code == 2 and "no FAT partition" in text

    code, text = provision(tmp_path / "missing.img", "quay-1")
    assert code == 2 and "cannot be read" in text

    (tmp_path / "b").mkdir()
    image = make_image(tmp_path / "b", cloud_init=False)
    code, text = provision(image, "admin")
    assert code == 2 and "technician's computer" in text
    code, text = provision(image, "quay-42")
    assert code == 2 and "no device 'quay-42'" in text
    bad_key = tmp_path / "key.pub"
    bad_key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    code, text = provision(image, "quay-1", key=bad_key)
    assert code == 2 and "not one OpenSSH public key line" in text
    (provision.repo / "wheels/luot-0.1.0-py3-none-any.whl").write_bytes(b"PK tampered")
    code, text = provision(image, "quay-1")
    assert code == 2 and "its SHA-256 differs from the manifest's" in text
    code, text = provision(image, "quay-1", "--repo", str(tmp_path / "nowhere"))
    assert code == 2 and "no manifest.json; make the repository with `luot provision repo`" in text

    (tmp_path / "c").mkdir()
    small = make_image(tmp_path / "c", cloud_init=False, boot_mib=1)
    shutil.rmtree(provision.repo)
    make_repo(provision.repo, os.urandom(2 * MiB))
    code, text = provision(small, "hub")
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
