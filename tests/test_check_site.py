"""`luot check-site` on good files and on broken ones: the error names the file and the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from check_site_rig import check, write
from helpers import SITE_FILE

from luot import EXAMPLE_SITE as EXAMPLE


def test_the_example_site_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    code, text = check(capsys, EXAMPLE)
    assert code == 0, text
    assert "Trung tâm Phục vụ hành chính công phường Bến Thành (phuong-ben-thanh)" in text
    assert "dịch vụ / services: 8" in text and "CT (A001…)" in text
    assert "thiết bị / devices: 1 admin, 12 counter, 2 display, 1 hub, 1 kiosk" in text
    assert text.rstrip().endswith("Hợp lệ / valid.")


def test_every_provisioned_device_file_passes_its_roles_own_checks(
        devices: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, text = check(capsys, SITE_FILE, *devices.values())
    assert code == 0, text
    for role in ("hub", "kiosk", "display", "counter"):
        assert f"[{role}] checked" in text
    assert "quay-10 (counter) → luot-hub.local:1883" in text


@pytest.mark.parametrize(("change", "expected"), [
    (("[[devices]]\nid = \"tv-1\"", "[[devices]]\nid = \"TV 1\""),
     "devices[4] (TV 1).id: expected lower-case"),
    (('id = "test-ward"', 'id = "test-ward"\nnmae = "x"'), "site.nmae: unknown key; did you mean 'name'?"),
    (("number = 3\nservices = [\"HT\"]", "number = 3\nservices = [\"XX\"]"),
     "counters[2] (quầy 3).services[0]: unknown service"),
])
def test_a_broken_site_names_file_and_key(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          change: tuple[str, str], expected: str) -> None:
    site = write(tmp_path, "site.toml", SITE_FILE.read_text().replace(*change, 1))
    code, text = check(capsys, site)
    assert code == 2
    assert re.match(rf"✗ LỖI / error: {re.escape(str(site))}:\d+: ", text) and expected in text


def test_broken_broker_and_network_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = write(tmp_path, "site.toml", SITE_FILE.read_text() + '\n[broker]\nport = "1883"\n')
    line = site.read_text().splitlines().index('port = "1883"') + 1
    expected = f"✗ LỖI / error: {site}:{line}: broker.port: expected an integer, got a string\n"
    assert check(capsys, site) == (2, expected)
    site = write(tmp_path, "site.toml", SITE_FILE.read_text() + '\n[network]\nwifi_country = "Vietnam"\n')
    code, text = check(capsys, site)
    assert code == 2 and "network.wifi_country: expected a two-letter country code" in text
    for outside in ('"pool.ntp.org"', '"8.8.8.8"', '"127.0.0.1"', "123"):
        site = write(tmp_path, "site.toml", SITE_FILE.read_text()
                     + f'\n[network]\ntime_servers = ["192.168.1.1", {outside}]\n')
        code, text = check(capsys, site)
        assert code == 2 and "network.time_servers[1]: expected the address of a time server on the " \
                             "centre's LAN" in text, outside
    site = write(tmp_path, "site.toml", SITE_FILE.read_text() + '\n[network]\ntime_servers = ["10.1.2.3"]\n')
    assert check(capsys, site)[0] == 0


@pytest.mark.parametrize(("device", "change", "expected"), [
    ("quay-3", ("number = 3 ", "number = 4 "), "counter.number: is 4 but"),
    ("admin", ('role = "admin"', 'role = "kiosk"'), "role: is 'kiosk' but"),
    ("quay-3", ('role = "counter"', 'role = "kiosk"'), "counter: unknown key"),
    ("quay-3", ('id = "quay-3"', 'id = "quay-99"'), "id: 'quay-99' is not in the inventory"),
    ("quay-3", ('site = "test-ward"', 'site = "other-ward"'), "site: is 'other-ward' but"),
    ("quay-3", ("next = 17", "next = 99"), "counter.pins.next: expected a GPIO number 0 to 53"),
    ("kiosk-1", ('profile = "TM-T20II"', 'profile = "TM-9999"'), "kiosk.profile:"),
    ("tv-1", ('kind = "tv"', 'kind = "tv"\ncounterz = [1]'), "display.counterz: unknown key"),
    ("hub", ("[broker]", "[brokr]"), "broker: is required but missing (there is 'brokr': a typo?)"),
])
def test_a_broken_device_file_names_file_and_key(devices: dict[str, Path], capsys: pytest.CaptureFixture[str],
                                                 device: str, change: tuple[str, str], expected: str) -> None:
    path = devices[device]
    path.write_text(path.read_text().replace(*change, 1))
    code, text = check(capsys, SITE_FILE, path)
    assert code == 2
    assert re.search(rf"✗ LỖI / error: {re.escape(str(path))}:\d+: ", text) and expected in text


def test_missing_and_unreadable_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, text = check(capsys, tmp_path / "nope.toml")
    assert code == 2 and "nope.toml: file not found" in text
    bad = write(tmp_path, "bad.toml", "[site\n")
    code, text = check(capsys, bad)
    assert code == 2 and "bad.toml: not valid TOML" in text
    code, text = check(capsys, SITE_FILE, bad)
    assert code == 2 and "bad.toml: not valid TOML" in text


def test_an_led_display_is_checked_by_the_led_board_rules(devices: dict[str, Path],
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    head = devices["tv-1"].read_text().split("\n[display]\n")[0]
    led = (
        '\n[display]\nkind = "led"\n\n[display.led]\nport = "/dev/ttyUSB0"\nprotocol = "ascii"\n'
        'width = 8\n\n[[display.led.rows]]\naddress = 1\n'
    )
    good = write(devices["tv-1"].parent, "led.toml", head + led)
    code, text = check(capsys, SITE_FILE, good)
    assert code == 0, text
    narrow = write(devices["tv-1"].parent, "narrow.toml", head + led.replace("width = 8", "width = 4"))
    code, text = check(capsys, SITE_FILE, narrow)
    assert code != 0
    assert "display.led.width" in text
