"""city.toml: the example in city/settings.py loads; mistakes are named with their line."""

from __future__ import annotations

import pytest

from city import settings as city_settings
from city.settings import load_city
from luot.config import ConfigError


def example() -> str:
    doc = city_settings.__doc__ or ""
    return "\n".join(line[4:] for line in doc.split("\n\n", 1)[1].splitlines()).replace("…", "x" * 20)


def test_the_documented_example_loads(tmp_path):
    path = tmp_path / "city.toml"
    path.write_text(example(), encoding="utf-8")
    loaded = load_city(path)
    assert [e.port for e in loaded.cluster.endpoints] == [8883, 8883, 8883]
    assert loaded.cluster.ca_file == "/etc/luot/city-ca.pem" and loaded.collector_name == "collector-1"
    [centre] = loaded.centres
    assert centre.id == "phuong-hai-chau" and centre.services == (("CT", "Chứng thực"), ("HT", "Hộ tịch"))


@pytest.mark.parametrize(("change", "key"), [
    (('"10.1.0.11:8883"', '"10.1.0.11"'), "cluster.nodes[0]"),
    (('port = 8090', 'port = 0'), "web.port"),
    (('citizen_secret = "' + "x" * 20, 'citizen_secret = "short'), "portal.centres[0].citizen_secret"),
    (('["HT", "Hộ tịch"]', '["HT"]'), "portal.centres[0].services[1]"),
    (('[database]', '[databse]'), "databse"),
])
def test_a_mistake_names_its_key_and_line(tmp_path, change, key):
    path = tmp_path / "city.toml"
    text = example()
    assert change[0] in text
    path.write_text(text.replace(change[0], change[1]), encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_city(path)
    assert key in [m.key for m in e.value.errors] and all(m.file == str(path) for m in e.value.errors)
