"""`luot provision bundle`, `rotate` and `check` on the test site and a real Mosquitto."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
from helpers import SITE_FILE

from broker_config import check_password_line, parse_password_file, updater_users
from luot.config import load_device, load_site
from provisioning.__main__ import main
from provisioning.bundle import KIOSK_TABLE, make_bundles, read_secrets
from testbed.broker import Mosquitto, free_port


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


@pytest.fixture
def bundles(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    site = tmp_path / "site.toml"
    site.write_text(SITE_FILE.read_text() + '\n[network]\nhub_host = "luot-hub.local"\n')
    out = tmp_path / "out"
    code, text = run(capsys, "bundle", "--site", str(site), "--out", str(out))
    assert code == 0, text
    return site, out


def snapshot(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_every_device_gets_a_bundle_that_loads(bundles: tuple[Path, Path]) -> None:
    site_file, out = bundles
    site = load_site(site_file)
    secrets = read_secrets(out)
    updaters = updater_users(site)
    assert set(secrets) == {d.id for d in site.devices} | set(updaters)
    assert oct((out / "secrets").stat().st_mode & 0o777) == "0o600"
    passwd = parse_password_file((out / "hub/broker/passwd").read_text())
    for d in site.devices:
        folder = out / d.id
        assert oct((folder / "password").stat().st_mode & 0o777) == "0o600"
        assert (folder / "password").read_text().strip() == secrets[d.id]
        assert check_password_line(passwd[d.id], secrets[d.id])
        text = (folder / "device.toml").read_text().replace(f"/etc/luot/{d.role}.password",
                                                            str(folder / "password"))
        (folder / "here.toml").write_text(text)
        device = load_device(folder / "here.toml")
        assert (device.id, device.role, device.site) == (d.id, d.role, site.id)
        assert device.broker.password == secrets[d.id]
        assert device.broker.host == ("localhost" if d.role == "hub" else "luot-hub.local")
        if d.role != "admin":  # the updater of the device's Pi logs in as updater.<hostname>
            login = tomllib.loads((folder / "updater.toml").read_text())
            updater = login["user"]
            assert updater == f"updater.{d.hostname}" and d.id in updaters[updater]
            assert login["password_file"] == "/etc/luot/updater.password"  # where first boot puts it
            assert oct((folder / "updater.password").stat().st_mode & 0o777) == "0o600"
            assert (folder / "updater.password").read_text().strip() == secrets[updater]
            assert check_password_line(passwd[updater], secrets[updater])
    hub = tomllib.loads((out / "hub/device.toml").read_text())
    assert hub["hub"] == {"site_file": "/etc/luot/site.toml", "database": "/var/lib/luot/luot.db",
                          "backup": {"folder": "/var/lib/luot/backups", "keep_days": 14},
                          "retention": {"citizen_days": 1, "ticket_months": 12, "command_days": 30}}
    assert (out / "hub/site.toml").read_text() == site_file.read_text()
    conf = (out / "hub/broker/mosquitto.conf").read_text()
    assert "password_file /etc/luot/broker/passwd\n" in conf and "allow_anonymous false\n" in conf
    assert KIOSK_TABLE in (out / "kiosk-1/device.toml").read_text()


def test_running_again_changes_only_what_must_change(bundles: tuple[Path, Path],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    site_file, out = bundles
    before = snapshot(out)
    code, text = run(capsys, "bundle", "--site", str(site_file), "--out", str(out))
    assert code == 0 and "nothing changed" in text
    assert snapshot(out) == before

    site_file.write_text(site_file.read_text() + '\n[[devices]]\nid = "tv-2"\nrole = "display"\n')
    code, text = run(capsys, "bundle", "--site", str(site_file), "--out", str(out))
    after = snapshot(out)
    changed = {k for k in after if before.get(k) != after[k]}
    assert changed == {"secrets", "tv-2/device.toml", "tv-2/password", "hub/site.toml",
                       "hub/broker/passwd", "hub/broker/acl", "tv-2/updater.toml", "tv-2/updater.password"}
    assert "new passwords: tv-2" in text
    old_passwd = parse_password_file(before["hub/broker/passwd"].decode())
    new_passwd = parse_password_file(after["hub/broker/passwd"].decode())
    assert {u: line for u, line in new_passwd.items() if u not in ("tv-2", "updater.luot-tv-2")} == old_passwd

    site_file.write_text(SITE_FILE.read_text().replace('[[devices]]\nid = "kiosk-2"\nrole = "kiosk"\n', ""))
    code, text = run(capsys, "bundle", "--site", str(site_file), "--out", str(out))
    assert code == 0 and "removed kiosk-2" in text
    assert not (out / "kiosk-2").exists() and "kiosk-2" not in read_secrets(out)
    assert "updater.luot-kiosk-2" not in read_secrets(out)  # that Pi's updater goes with it


def test_rotate_changes_one_password(bundles: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    site_file, out = bundles
    before = snapshot(out)
    old = read_secrets(out)
    code, text = run(capsys, "rotate", "quay-3", "--site", str(site_file), "--out", str(out))
    assert code == 0, text
    after = snapshot(out)
    changed = {k for k in after if before.get(k) != after[k]}
    assert changed == {"secrets", "quay-3/password", "hub/broker/passwd"}
    new = read_secrets(out)
    assert new["quay-3"] != old["quay-3"]
    assert {k: v for k, v in new.items() if k != "quay-3"} == {k: v for k, v in old.items() if k != "quay-3"}
    line = parse_password_file(after["hub/broker/passwd"].decode())["quay-3"]
    assert check_password_line(line, new["quay-3"]) and not check_password_line(line, old["quay-3"])

    code, text = run(capsys, "rotate", "quay-99", "--site", str(site_file), "--out", str(out))
    assert code == 2 and "no device 'quay-99'" in text


def broker_from_bundle(tmp_path: Path, out: Path, site_id: str, roles: dict[str, str]) -> Mosquitto:
    """A real Mosquitto using the bundle's own passwd and ACL files."""
    broker = Mosquitto(tmp_path / "broker", site_id, roles, persistence=False)
    shutil.copy(out / "hub/broker/passwd", broker.files.password_file)
    shutil.copy(out / "hub/broker/acl", broker.files.acl_file)
    broker.start()
    return broker


def test_check_reports_what_each_device_can_do(bundles: tuple[Path, Path], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    site_file, out = bundles
    site = load_site(site_file)
    broker = broker_from_bundle(tmp_path, out, site.id, {d.id: d.role for d in site.devices})
    try:
        code, text = run(capsys, "check", "--site", str(site_file), "--out", str(out),
                         "--host", broker.host, "--port", str(broker.port))
        assert code == 0, text
        assert "✓ kiosk-1 (kiosk)" in text and "all as granted" in text
        assert "can:    write cmd/kiosk-1, write device/kiosk-1/check," in text
        assert "cannot: write cmd/kiosk-2," in text
        assert "✓ anonymous clients are refused" in text
    finally:
        broker.stop()

    acl = broker.files.acl_file
    too_much = "user kiosk-1\ntopic readwrite luot/test-ward/#\n"
    acl.write_text(acl.read_text().replace("user kiosk-1\n", too_much))
    broker.start()
    try:
        code, text = run(capsys, "check", "--site", str(site_file), "--out", str(out),
                         "--host", broker.host, "--port", str(broker.port))
        assert code == 1
        assert "✗ kiosk-1 (kiosk)" in text and "NOT AS GRANTED: write cmd/kiosk-2 is allowed" in text
        assert "PROBLEMS FOUND" in text
    finally:
        broker.stop()


def test_mistakes_are_reported_not_raised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site.toml"
    site.write_text(SITE_FILE.read_text().replace('[[devices]]\nid = "hub"\nrole = "hub"\n', ""))
    code, text = run(capsys, "bundle", "--site", str(site), "--out", str(tmp_path / "o"))
    assert code == 2 and 'devices: expected exactly one device with role = "hub"; found 0' in text

    site.write_text(SITE_FILE.read_text() + '\n[network]\nwifi_ssid = "UBND"\nwifi_password = "short"\n')
    code, text = run(capsys, "bundle", "--site", str(site), "--out", str(tmp_path / "o"))
    assert code == 2 and "network.wifi_password: a WPA2 passphrase has 8 to 63 characters" in text

    out = tmp_path / "bad"
    out.mkdir()
    (out / "secrets").write_text("[passwords\n")
    code, text = run(capsys, "bundle", "--site", str(SITE_FILE), "--out", str(out))
    assert code == 2 and "secrets: not valid TOML" in text

    code, text = run(capsys, "check", "--site", str(SITE_FILE), "--out", str(tmp_path / "empty"))
    assert code == 2 and "run `luot provision bundle` first" in text

    make_bundles(SITE_FILE, tmp_path / "ok")
    code, text = run(capsys, "check", "--site", str(SITE_FILE), "--out", str(tmp_path / "ok"),
                     "--host", "127.0.0.1", "--port", str(free_port()), "--timeout", "0.5")
    assert code == 1 and "timed out waiting for the connection" in text


def test_the_web_service_and_the_kiosks_share_the_ticket_key_and_the_logins_are_hashed(
        bundles: tuple[Path, Path]) -> None:
    from kiosk.settings import load_kiosk_settings
    from web.settings import web_settings
    from web.users import Users

    site_file, out = bundles
    secrets = tomllib.loads((out / "secrets").read_text())
    key = secrets["keys"]["ticket_key"]
    assert len(key) >= 32
    site = load_site(site_file)
    web = next(d for d in site.devices if d.role == "web")
    assert set(secrets["logins"]) == {"admin", *(f"counter-{n}" for n in web.counters)}

    def device(folder: str) -> object:
        path = out / folder / "here.toml"
        role = folder.split("-")[0]
        path.write_text((out / folder / "device.toml").read_text()
                        .replace(f"/etc/luot/{role}.password", str(out / folder / "password")))
        assert oct((out / folder / "device.toml").stat().st_mode & 0o777) == "0o600"
        return load_device(path)

    settings = web_settings(device("web"))
    assert settings.ticket_key == key.encode() and settings.public_url == "http://luot-hub.local:8080"
    kiosk = load_kiosk_settings(device("kiosk-1"))
    assert (kiosk.follow_url, kiosk.ticket_key) == ("http://luot-hub.local:8080", key)
    users_file = out / "web" / "web-users"
    assert oct(users_file.stat().st_mode & 0o777) == "0o600"
    assert key not in users_file.read_text() and secrets["logins"]["admin"] not in users_file.read_text()
    users = Users.load(users_file)
    assert all(users.check(user, password) for user, password in secrets["logins"].items())
    assert not users.check("admin", "wrong password")
