"""The updater's own files on a Pi: its role files tell it the devices and the broker,
`updater.toml` its login. A mistake is a clear error naming the file and key, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet.__main__ import main, read_pi
from fleet.updater import PiRole
from luot.config import ConfigError, device_file

BROKER = {"host": "hub.local", "port": 8883, "password": "role-secret", "tls": True,
          "ca_file": "/etc/luot/ca.crt"}


@pytest.fixture
def etc(tmp_path: Path) -> Path:
    """A kiosk-and-counter Pi, as the bundle leaves it: role files, the updater's login."""
    for device_id, role in (("kiosk-1", "kiosk"), ("quay-1", "counter")):
        text = device_file(device_id, role, "test-ward", BROKER)
        (tmp_path / f"{role}.toml").write_text(text, encoding="utf-8")
    (tmp_path / "updater.password").write_text("updater-secret\n", encoding="utf-8")
    (tmp_path / "updater.toml").write_text(
        f'user = "updater.pi-7"\npassword_file = "{tmp_path / "updater.password"}"\n', encoding="utf-8")
    return tmp_path


def test_the_updater_logs_in_as_its_own_user_to_the_broker_its_roles_use(etc: Path) -> None:
    roles, site, broker, ready_timeout_s = read_pi(etc)
    assert sorted(roles, key=lambda r: r.role) == [PiRole("quay-1", "counter"), PiRole("kiosk-1", "kiosk")]
    assert site == "test-ward"
    assert (broker.host, broker.port, broker.tls) == ("hub.local", 8883, True)
    assert broker.ca_file == "/etc/luot/ca.crt"
    assert (broker.username, broker.password) == ("updater.pi-7", "updater-secret")
    assert ready_timeout_s == 180.0


def test_a_login_written_before_password_file_was_named_reads_the_password_beside_it(etc: Path) -> None:
    (etc / "updater.toml").write_text('user = "updater.pi-7"\nready_timeout_s = 240\n', encoding="utf-8")
    _, _, broker, ready_timeout_s = read_pi(etc)
    assert broker.password == "updater-secret" and ready_timeout_s == 240.0


def _error(etc: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        read_pi(etc)
    return caught.value


def test_a_pi_without_role_files_is_told_which_files_it_looks_for(tmp_path: Path) -> None:
    error = str(_error(tmp_path))
    assert "no role file" in error and "kiosk" in error and "counter" in error


def test_a_missing_login_names_the_file(etc: Path) -> None:
    (etc / "updater.toml").unlink()
    assert str(_error(etc)) == f"{etc / 'updater.toml'}: file not found"


def test_an_unreadable_password_file_names_the_key_and_the_file(etc: Path) -> None:
    (etc / "updater.password").unlink()
    error = _error(etc)
    assert error.key == "password_file" and error.line == 2
    assert f"cannot read {etc / 'updater.password'}" in str(error)


def test_every_mistake_of_the_login_is_reported_at_once(etc: Path) -> None:
    (etc / "updater.toml").write_text(
        'user = 7\npassword = "x"\npassword_file = "/nowhere"\nready_timeout_s = 1\nspeed = "fast"\n',
        encoding="utf-8")
    error = str(_error(etc))
    for key in ("user", "password_file", "ready_timeout_s", "speed"):
        assert f": {key}: " in error, (key, error)
    assert "either password or password_file" in error


def test_the_command_explains_a_configuration_error_and_exits_2(etc: Path, capsys) -> None:
    (etc / "updater.password").unlink()
    assert main(["--etc", str(etc), "--root", str(etc / "opt"), "--record", str(etc / "record.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("luot updater: ") and "password_file" in err
