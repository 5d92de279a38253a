from helpers import wait_for, write_device_toml

from tools.admin import main


def test_admin_closes_and_opens_the_day_and_shows_the_queue(dispatcher, broker, site, connect, tmp_path,
                                                            capsys):
    config = write_device_toml(
        tmp_path / "admin.toml", device_id="admin", role="admin", site=site.id,
        host=broker.host, port=broker.port, password=broker.passwords["admin"],
    )
    kiosk = connect("kiosk-1")
    kiosk.request("take", service="HT")
    assert main(["--config", str(config), "close"]) == 0
    assert "đóng (open: False)" in capsys.readouterr().out
    wait_for(lambda: kiosk.state("state/site")["open"] is False, what="the closed day")
    assert main(["--config", str(config), "open"]) == 0
    out = capsys.readouterr().out
    assert "mở (open: True)" in out
    assert site.name in out
    assert "HT" in out and "B001" not in out  # waiting, not yet at a counter


def test_admin_names_a_wrong_role(tmp_path, capsys):
    config = write_device_toml(
        tmp_path / "k.toml", device_id="kiosk-1", role="kiosk", site="test-ward",
        host="127.0.0.1", port=1, password="x",
    )
    assert main(["--config", str(config), "status"]) == 2
    assert "role" in capsys.readouterr().out
