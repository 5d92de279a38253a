"""Taking hours that differ by weekday: the example's Saturday is a morning duty."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from check_site_rig import check, write

from kiosk import texts
from luot import EXAMPLE_SITE
from luot.config import ConfigError, load_site

SATURDAY = datetime(2026, 11, 28)
FRIDAY = datetime(2026, 11, 27)


def test_the_example_saturday_gives_numbers_in_the_morning_only():
    site = load_site(EXAMPLE_SITE)
    tz = site.timezone
    assert site.hours.is_taking(SATURDAY.replace(hour=9, tzinfo=tz))
    assert not site.hours.is_taking(SATURDAY.replace(hour=14, tzinfo=tz)), "no numbers on Saturday afternoon"
    assert site.hours.is_taking(FRIDAY.replace(hour=14, tzinfo=tz))
    catalogue = site.catalogue()
    assert catalogue["hours"]["days"] == {"6": [["07:30", "11:30"]]}
    assert texts.hours_text(catalogue, 6)[0] == "Giờ lấy số: 07:30–11:30"
    assert texts.hours_text(catalogue, 5)[0] == "Giờ lấy số: 07:30–11:30, 13:30–16:30"


def test_check_site_names_the_weekday_and_its_mistakes(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    code, out = check(capsys, EXAMPLE_SITE)
    assert code == 0 and "07:30–11:30, 13:30–16:30; saturday 07:30–11:30" in out
    text = EXAMPLE_SITE.read_text().replace('saturday = [["07:30", "11:30"]]',
                                            'saturday = [["07:30", "11:30"], ["11:00", "12:00"]]')
    code, out = check(capsys, write(tmp_path, "site.toml", text))
    assert code == 2 and "hours.days.saturday: 07:30–11:30 and 11:00–12:00 overlap" in out
    typo = EXAMPLE_SITE.read_text().replace("saturday = ", "satuday = ")
    with pytest.raises(ConfigError) as e:
        load_site(write(tmp_path, "typo.toml", typo))
    assert "hours.days.satuday" in str(e.value)
