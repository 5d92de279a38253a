"""`luot admin status` shows every device of the inventory and fails when something is wrong."""

from __future__ import annotations

from helpers import SITE_FILE, wait_for, write_device_toml

from tools.admin import main


def admin_file(broker, site, tmp_path):
    return write_device_toml(
        tmp_path / "admin.toml", device_id="admin", role="admin", site=site.id,
        host=broker.host, port=broker.port, password=broker.passwords["admin"],
    )


def test_status_lists_every_device_and_names_what_is_wrong(dispatcher, broker, site, connect, tmp_path,
                                                           capsys):
    kiosk = connect("kiosk-1")
    kiosk.publish_health({"role": "kiosk", "paper": "out", "printer_fault": "out_of_paper",
                          "unprinted": ["A003"], "versions": {"luot": "0.1.0"},
                          "at": "2026-11-23T08:00:00+07:00"})
    tv = connect("tv-1")
    tv.publish_health({"role": "display", "voice": "missing 40 of 40 clips in /var/lib/luot/voice"})
    wait_for(lambda: kiosk.connected and tv.connected, what="the devices")
    assert main(["--config", str(admin_file(broker, site, tmp_path)), "--site", str(SITE_FILE),
                 "status"]) == 1
    out = capsys.readouterr().out
    assert "None" not in out
    table = out[out.index("Thiết bị · Devices"):]
    for device in site.devices:
        assert f"\n{device.id} " in table, f"{device.id} is not listed"
    kiosk_row = next(line for line in table.splitlines() if line.startswith("kiosk-1 "))
    assert "online" in kiosk_row and "0.1.0" in kiosk_row and "A003" in kiosk_row
    assert "2026-11-23T08:00:00+07:00" in kiosk_row
    assert "kiosk-2: chưa từng kết nối" in out
    assert "kiosk-1: máy in (printer) out_of_paper" in out and "kiosk-1: 1 phiếu chưa in" in out
    assert "tv-1: giọng đọc (voice) missing 40 of 40" in out


def test_status_is_zero_when_every_device_is_online_and_well(dispatcher, broker, site, connect, tmp_path,
                                                             capsys):
    links = [connect(d.id) for d in site.devices if d.role not in ("hub", "admin")]
    wait_for(lambda: all(link.connected for link in links), what="every device")
    admin = admin_file(broker, site, tmp_path)
    assert main(["--config", str(admin), "--site", str(SITE_FILE), "status"]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "Cần xử lý" not in out and "None" not in out
