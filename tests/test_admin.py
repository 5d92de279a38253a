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


def test_admin_status_exits_non_zero_when_the_dispatcher_or_a_device_is_offline(
        dispatcher, broker, site, connect, tmp_path, capsys):
    config = write_device_toml(
        tmp_path / "admin.toml", device_id="admin", role="admin", site=site.id,
        host=broker.host, port=broker.port, password=broker.passwords["admin"],
    )
    connect("kiosk-1")
    assert main(["--config", str(config), "status"]) == 0
    assert "dispatcher): trực tuyến (online)" in capsys.readouterr().out
    connect("tv-1").stop()  # a device that said goodbye: offline
    assert main(["--config", str(config), "status"]) == 1
    assert "devices offline): tv-1" in capsys.readouterr().out
    dispatcher.stop()  # the broker stays up, with the last retained state
    assert main(["--config", str(config), "status"]) == 1
    out = capsys.readouterr().out
    assert "OFFLINE" in out and "Đã cấp" in out, "the stale state is shown, and said to be stale"
