"""Password hashing against the real Mosquitto, `[broker]` options, and the city bridge."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from helpers import SITE_FILE, wait_for

from broker_config import (
    Bridge,
    check_password_line,
    load_broker_options,
    password_file_text,
    password_line,
    render_conf,
    write_broker_files,
)
from luot import EXAMPLE_SITE
from luot.config import ConfigError, SiteConfig, load_site
from luot.mqtt import make_paho_client, unique_client_id
from provisioning.probe import connect_reason
from testbed.broker import Mosquitto


def test_our_password_lines_are_accepted_by_mosquitto(tmp_path: Path, site: SiteConfig) -> None:
    broker = Mosquitto(tmp_path, site.id, {"hub": "hub", "kiosk-1": "kiosk"})
    broker.passwords["kiosk-1"] = "mật khẩu có dấu ✓"
    broker.files.password_file.write_text(password_file_text(broker.passwords))
    broker.start()
    try:
        assert connect_reason(broker.host, broker.port, "kiosk-1", "mật khẩu có dấu ✓") == 0
        assert connect_reason(broker.host, broker.port, "hub", broker.passwords["hub"]) == 0
        assert connect_reason(broker.host, broker.port, "kiosk-1", "mat khau co dau") != 0
    finally:
        broker.stop()


@pytest.mark.skipif(shutil.which("mosquitto_passwd") is None, reason="mosquitto_passwd is not installed")
def test_lines_made_by_mosquitto_passwd_verify_with_our_checker(tmp_path: Path) -> None:
    passwd = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwd), "quay-1", "Mật-khẩu 42"], check=True)
    line = passwd.read_text().strip()
    assert line.startswith("quay-1:$7$101$")
    assert check_password_line(line, "Mật-khẩu 42")
    assert not check_password_line(line, "Mật-khẩu 43")


def test_password_line_format_and_bad_input() -> None:
    line = password_line("tv-1", "x", salt=bytes(12))
    assert line.startswith("tv-1:$7$101$AAAAAAAAAAAAAAAA$") and len(line.split("$")[4]) == 88
    assert not check_password_line("tv-1:plain", "x")
    assert not check_password_line("tv-1:$6$abc$def", "x")
    assert not check_password_line("tv-1:$7$many$!!$??", "x")
    with pytest.raises(ValueError, match="':'"):
        password_line("a:b", "x")
    with pytest.raises(ValueError, match="12 bytes"):
        password_line("a", "x", salt=b"short")


def test_regenerating_keeps_the_lines_of_unchanged_passwords(tmp_path: Path) -> None:
    first = password_file_text({"a": "one", "b": "two"})
    again = password_file_text({"a": "one", "b": "three", "c": "four"}, first)
    a_line = first.splitlines()[0]
    assert again.splitlines()[0] == a_line
    assert first.splitlines()[1] != again.splitlines()[1]
    assert check_password_line(again.splitlines()[1], "three")
    files = write_broker_files(tmp_path, site="s", passwords={"a": "one"}, roles={"a": "kiosk"},
                               listeners=[], persistence_dir=None)
    assert set(files.changed) == {files.conf, files.password_file, files.acl_file}
    files = write_broker_files(tmp_path, site="s", passwords={"a": "one"}, roles={"a": "kiosk"},
                               listeners=[], persistence_dir=None)
    assert files.changed == ()
    assert oct(files.password_file.stat().st_mode & 0o777) == "0o640"


def site_with_broker(tmp_path: Path, broker_toml: str) -> SiteConfig:
    path = tmp_path / "site.toml"
    path.write_text(SITE_FILE.read_text() + "\n[broker]\n" + broker_toml)
    return load_site(path)


def test_broker_options_with_tls_and_bridge(tmp_path: Path) -> None:
    options = load_broker_options(site_with_broker(tmp_path, """
port = 1883
bind = "192.168.1.10"
persistence_dir = "/srv/mosquitto"
[broker.tls]
ca_file = "/etc/luot/tls/ca.crt"
cert_file = "/etc/luot/tls/hub.crt"
key_file = "/etc/luot/tls/hub.key"
clients = true
[broker.bridge]
host = "mqtt.tphcm.gov.vn"
username = "phuong-1"
password = "s3cret"
"""))
    assert options.device_endpoint() == (8883, True, "/etc/luot/tls/ca.crt")
    assert options.bridge == Bridge("mqtt.tphcm.gov.vn", 8883, "phuong-1", "s3cret", True,
                                    "/etc/ssl/certs/ca-certificates.crt", "luot-test-ward")
    conf = render_conf(listeners=options.listeners(), password_file=Path("/p"), acl_file=Path("/a"),
                       persistence_dir=options.persistence_dir)
    assert "listener 1883 192.168.1.10\n" in conf
    assert ("listener 8883 192.168.1.10\nuse_username_as_clientid true\ncafile /etc/luot/tls/ca.crt\n"
            "certfile /etc/luot/tls/hub.crt\n") in conf
    assert "persistence_location /srv/mosquitto/\n" in conf and "allow_anonymous false\n" in conf


@pytest.mark.parametrize(("toml", "key", "expected"), [
    ('port = "1883"', "broker.port", "expected an integer"),
    ("port = 70000", "broker.port", "from 1 to 65535"),
    ('persistence_dir = "data"', "broker.persistence_dir", "absolute path"),
    ("brigde = 1", "broker.brigde", "did you mean 'bridge'"),
    ('[broker.tls]\nport = 1883\nca_file = "a"\ncert_file = "b"\nkey_file = "c"', "broker.tls.port",
     "cannot share port 1883"),
    ('[broker.tls]\nca_file = "a"\ncert_file = "b"', "broker.tls.key_file", "required"),
    ("[broker.bridge]\nport = 1883", "broker.bridge.host", "required"),
    ("max_packet_size = 10", "broker.max_packet_size", "from 8192"),
])
def test_broker_mistakes_name_the_key(tmp_path: Path, toml: str, key: str, expected: str) -> None:
    site = site_with_broker(tmp_path, toml)
    with pytest.raises(ConfigError) as e:
        load_broker_options(site)
    assert e.value.key == key and expected in e.value.message and e.value.file.endswith("site.toml")


class Listener:
    """Collects the messages one user receives on a broker."""

    def __init__(self, broker: Mosquitto, user: str, pattern: str) -> None:
        self.messages: dict[str, bytes] = {}
        self.subscribed = threading.Event()
        self.client = make_paho_client(broker.settings(user), unique_client_id(user, "test"))
        self.client.on_connect = lambda c, *_: c.subscribe(pattern, qos=1)
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = lambda _c, _u, m: self.messages.__setitem__(m.topic, m.payload)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert self.subscribed.wait(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_bridge_sends_state_and_events_to_the_city_and_nothing_else(tmp_path: Path, site: SiteConfig) -> None:
    city = Mosquitto(tmp_path / "city", site.id, {site.id: "hub", "city-report": "admin"}, persistence=False)
    city.start()
    bridge = Bridge("127.0.0.1", city.port, site.id, city.passwords[site.id], tls=False,
                    client_id=f"luot-{site.id}")
    hub = Mosquitto(tmp_path / "hub", site.id, {"hub": "hub", "admin": "admin"}, persistence=False,
                    bridge=bridge)
    hub.start()
    report = Listener(city, "city-report", f"luot/{site.id}/#")
    technician = Listener(hub, "admin", f"luot/{site.id}/device/hub/bridge")
    try:
        wait_for(lambda: technician.messages.get(f"luot/{site.id}/device/hub/bridge") == b"1",
                 what="the bridge to come up")
        publisher = make_paho_client(hub.settings("hub"), unique_client_id("hub", "test"))
        publisher.connect(hub.host, hub.port)
        publisher.loop_start()
        root = f"luot/{site.id}/"
        for rel in ("config", "cmd/hub", "reply/kiosk-1", "state/site", "event/call"):
            publisher.publish(root + rel, b'{"x": 1}', qos=1).wait_for_publish(5)
        wait_for(lambda: root + "event/call" in report.messages, what="the call at the city broker")
        publisher.disconnect()
        publisher.loop_stop()
        assert sorted(report.messages) == [root + "event/call", root + "state/site"]
    finally:
        report.close()
        technician.close()
        hub.stop()
        city.stop()


def test_the_commented_broker_options_of_the_example_site_are_valid(tmp_path: Path) -> None:
    """The example site documents every [broker] key as comments; uncommented, they load."""
    example = EXAMPLE_SITE
    head, broker = example.read_text().split("\n[broker]\n")
    lines = [line[2:] if line.startswith(("# ", "#\t")) and ("=" in line or line.startswith("# [")) else line
             for line in broker.splitlines()]
    (tmp_path / "site.toml").write_text(head + "\n[broker]\n" + "\n".join(lines) + "\n")
    options = load_broker_options(load_site(tmp_path / "site.toml"))
    assert options.tls is not None and options.tls.clients and options.tls.port == 8883
    assert options.bridge is not None and options.bridge.host == "mqtt.example.gov.vn"
    assert options.persistence_dir == "/var/lib/luot-mosquitto"


def test_the_bundle_conf_started_by_hand_says_why_it_stops(tmp_path: Path) -> None:
    """A technician runs `mosquitto -c` on the bundle's files: a mistake is printed on the
    terminal, not only sent to syslog (finding 9 of issue 11)."""
    import subprocess

    from broker_config import Listener, write_broker_files
    from testbed.broker import mosquitto_binary

    files = write_broker_files(tmp_path / "broker", site="test-ward", passwords={"hub": "pw"},
                               roles={"hub": "hub"}, listeners=[Listener(1, "127.0.0.1")],
                               persistence_dir=tmp_path / "persist", run_as_user=None)
    files.password_file.unlink()  # the mistake: the password file is not where the conf says
    done = subprocess.run([mosquitto_binary(), "-c", str(files.conf)], capture_output=True, text=True,
                          timeout=10)
    assert done.returncode != 0
    assert str(files.password_file) in done.stderr + done.stdout
