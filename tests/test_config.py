"""Configuration mistakes are reported with the file, the key and what was expected."""

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import SITE_FILE

from luot import EXAMPLE_SITE
from luot.config import ConfigError, load_device, load_site


def test_the_shipped_example_site_loads():
    site = load_site(EXAMPLE_SITE)
    assert len(site.counters) >= 12
    assert {s.name for s in site.services} >= {"Chứng thực", "Hộ tịch", "Đất đai", "Đăng ký kinh doanh"}
    assert site.service("CT").number(23) == "A023"
    assert site.device("quay-5").counter == 5


def write(tmp_path: Path, text: str, name: str = "file.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_broken_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_site(write(tmp_path, "[site\nid = 1"))
    with pytest.raises(ConfigError, match="file not found"):
        load_device(tmp_path / "absent.toml")


DEVICE = """id = "quay-1"
role = "counter"
site = "test-ward"

[broker]
host = "127.0.0.1"
password = "secret"
"""


def test_device_file_reads_and_keeps_the_role_table(tmp_path):
    device = load_device(write(tmp_path, DEVICE + "\n[counter]\nnumber = 1\n"))
    assert device.broker.username == "quay-1"
    assert device.broker.port == 1883
    with device.role_section() as section:
        assert section.int("number") == 1


def mutated(tmp_path: Path, load: Callable[[Path], object], old: str, new: str) -> Path:
    """The test site file (for load_site) or DEVICE (for load_device) with one mistake put in."""
    site = load is load_site
    text = SITE_FILE.read_text(encoding="utf-8") if site else DEVICE
    assert old in text
    return write(tmp_path, text.replace(old, new, 1), "site.toml" if site else "file.toml")


@pytest.mark.parametrize(
    ("load", "old", "new", "key", "expected"),
    [
        (load_site, 'daily_cap = 5', 'daily_cap = "five"', "services[2].daily_cap", "expected an integer"),
        (load_site, 'daily_cap = 5', 'daly_cap = 5', "services[2].daly_cap", "did you mean 'daily_cap'"),
        (load_site, 'prefix = "B"', 'prefix = "A"', "services[1].prefix", "already used"),
        (load_site, 'services = ["HT"]', 'services = ["XX"]', "counters[2].services[0]",
         "unknown service 'XX'"),
        (load_site, 'taking = [["00:00", "24:00"]]', 'taking = [["08:00", "7:30"]]', "hours.taking[0]",
         "HH:MM"),
        (load_site, 'working_days = [1, 2, 3, 4, 5, 6, 7]', 'working_days = [0]', "hours.working_days[0]",
         "weekday 1 (Monday)"),
        (load_site, 'counter = 3\n', 'counter = 42\n', "devices[7].counter", "no [[counters]] has number 42"),
        (load_site, 'timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Mars/Olympus"', "site.timezone", "IANA"),
        (load_site, 'code = "DD"\nblock_start = 3000', 'code = "DD"\nprefix = "C"\nblock_start = 3000',
         "services[2].prefix", "exactly one of prefix"),
        (load_device, 'role = "counter"', 'role = "printer"', "role", "expected one of hub, kiosk"),
        (load_device, 'id = "quay-1"', 'id = "Quầy 1"', "id", "lower-case letters"),
        (load_device, 'password = "secret"', 'pasword = "secret"', "broker.password", "there is 'pasword'"),
        (load_device, 'host = "127.0.0.1"', 'host = "127.0.0.1"\nport = 70000', "broker.port", "1 to 65535"),
    ],
)
def test_site_and_device_errors_name_file_and_key(tmp_path, load, old, new, key, expected):
    path = mutated(tmp_path, load, old, new)
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert caught.value.file == str(path)
    assert caught.value.key == key
    assert expected in caught.value.message
    assert str(path) in str(caught.value)


def test_password_file_is_read_and_a_missing_one_is_named(tmp_path):
    secret = write(tmp_path, "s3cret\n", "password")
    text = DEVICE.replace('password = "secret"', f'password_file = "{secret}"')
    assert load_device(write(tmp_path, text)).broker.password == "s3cret"
    text = DEVICE.replace('password = "secret"', 'password_file = "/nonexistent/pw"')
    with pytest.raises(ConfigError, match=r"broker\.password_file: cannot read"):
        load_device(write(tmp_path, text))


def test_every_mistake_in_a_file_is_reported_at_once_with_its_line(tmp_path):
    text = SITE_FILE.read_text(encoding="utf-8")
    text = text.replace("daily_cap = 5", 'daily_cap = "five"', 1).replace(
        'timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Mars/Olympus"\ncolour = "blue"', 1)
    path = write(tmp_path, text, "site.toml")
    with pytest.raises(ConfigError) as caught:
        load_site(path)
    keys = [e.key for e in caught.value.errors]
    assert set(keys) == {"site.timezone", "site.colour", "services[2].daily_cap"}
    lines = text.splitlines()
    for error in caught.value.errors:
        assert error.line is not None
        assert error.key.rsplit(".", 1)[-1] in lines[error.line - 1], error
        assert f"{path}:{error.line}: {error.key}: " in str(caught.value)
    assert [e.line for e in caught.value.errors] == sorted(e.line for e in caught.value.errors)


def test_unknown_keys_are_caught_by_leaving_the_block_not_by_a_call_to_remember(tmp_path):
    device = load_device(write(tmp_path, DEVICE + "\n[counter]\nnumber = 1\nnumbr = 2\n"))
    with pytest.raises(ConfigError) as caught, device.role_section() as section:
        section.int("number")
    assert caught.value.key == "counter.numbr" and "did you mean 'number'" in caught.value.message
    assert caught.value.line == DEVICE.count("\n") + 4


def test_a_section_read_outside_its_block_is_a_programming_error(tmp_path):
    device = load_device(write(tmp_path, DEVICE))
    with pytest.raises(RuntimeError, match="inside `with"):
        device.role_section().int("number")
