"""The kiosk's parts without the hub: CCCD codes, printer URLs, settings, the ticket image."""

from __future__ import annotations

import importlib.util
import os
import tty
from datetime import date, datetime

import pytest
from escpos.constants import PAPER_FULL_CUT, PAPER_PART_CUT
from escpos.printer import Dummy
from helpers import wait_for, write_device_toml
from pyzbar.pyzbar import decode

from kiosk.cccd import CardError, citizen_hash, parse_card
from kiosk.layout import Layout
from kiosk.printer import job_bytes
from kiosk.scanner import CardScanner, split_lines
from kiosk.settings import load_kiosk_settings, parse_printer_url, profile_width
from kiosk.texts import OTHER_ERROR, refusal
from kiosk.ticket import TicketInfo, render_ticket, ticket_info
from luot.config import ConfigError, load_device

SECRET = "site-secret-0123456789"
TODAY = date(2026, 11, 23)
LP0 = '[kiosk]\nprinter = "file:///dev/usb/lp0"\n'
CARD = "001095012345|123456789|Nguyễn Văn An|15041960|Nam|Số 1 Lê Lợi, phường Bến Thành, TP.HCM|20052021"


# ---------------------------------------------------------------- CCCD


def test_a_card_gives_only_a_salted_hash_and_the_age():
    citizen = parse_card(CARD, SECRET, TODAY)
    assert citizen.age == 66
    assert citizen.is_elderly(60)
    assert citizen.id_hash == citizen_hash("001095012345", SECRET)
    assert "001095012345" not in repr(citizen) and "Nguyễn" not in repr(citizen)
    assert len(citizen.id_hash) == 64


def test_every_kiosk_of_a_site_agrees_and_other_sites_differ():
    assert parse_card(CARD, SECRET, TODAY).id_hash == parse_card(CARD + "\r\n", SECRET, TODAY).id_hash
    other_site = parse_card(CARD, "another-site-secret-99", TODAY)
    assert other_site.id_hash != parse_card(CARD, SECRET, TODAY).id_hash


def test_age_counts_whole_years_to_the_birthday():
    young = CARD.replace("15041960", "24112008")
    assert parse_card(young, SECRET, TODAY).age == 17
    assert parse_card(young, SECRET, date(2026, 11, 24)).age == 18


def test_a_card_without_old_id_number_is_read():
    assert parse_card(CARD.replace("|123456789|", "||"), SECRET, TODAY).age == 66


@pytest.mark.parametrize(
    "code",
    [
        "",
        "https://example.com/not-a-card",
        "8934567890123",
        "00109501234|123456789|Nguyễn Văn An|15041960|Nam|addr|20052021",  # 11 digits
        "001095012345|123456789||15041960|Nam|addr|20052021",  # no name
        "001095012345|123456789|Nguyễn Văn An|15041960|Nam|addr",  # six fields
        "ABC|DEF|GHI|JKL|MNO|PQR|STU",
        "x" * 5000,
        "\ufffd\ufffd|\ufffd",
    ],
)
def test_foreign_codes_get_a_plain_message(code):
    with pytest.raises(CardError) as e:
        parse_card(code, SECRET, TODAY)
    assert "căn cước / CCCD" in e.value.vi and "ID card" in e.value.en


@pytest.mark.parametrize("birth", ["31021960", "15042030", "1504196", "00001960"])
def test_impossible_birth_dates_are_refused_plainly(birth):
    with pytest.raises(CardError) as e:
        parse_card(CARD.replace("15041960", birth), SECRET, TODAY)
    assert e.value.vi and e.value.en


def test_scanner_lines_split_on_cr_or_lf_and_survive_garbage():
    buffer = bytearray()
    assert split_lines(buffer, CARD[:20].encode()) == []
    assert split_lines(buffer, CARD[20:].encode() + b"\r\nsecond") == [CARD]
    assert split_lines(buffer, b"\n\xff\xfe\r") == ["second", "\ufffd\ufffd"]
    assert split_lines(buffer, b"z" * 2000) == [] and not buffer


# ---------------------------------------------------------------- printer URLs and settings


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("usb://04b8:0e15", {"scheme": "usb", "vendor": 0x04B8, "product": 0x0E15}),
        ("serial:///dev/ttyUSB0?baudrate=19200",
         {"scheme": "serial", "path": "/dev/ttyUSB0", "baudrate": 19200}),
        ("serial:///dev/ttyS0", {"scheme": "serial", "baudrate": 9600}),
        ("tcp://192.168.1.50:9100", {"scheme": "tcp", "host": "192.168.1.50", "port": 9100}),
        ("tcp://printer.local", {"scheme": "tcp", "port": 9100}),
        ("file:///dev/usb/lp0", {"scheme": "file", "path": "/dev/usb/lp0"}),
        ("cups://TM-T20II", {"scheme": "cups", "path": "TM-T20II"}),
        ("png:///var/lib/luot/tickets", {"scheme": "png", "path": "/var/lib/luot/tickets"}),
    ],
)
def test_printer_urls(url, expected):
    target = parse_printer_url(url)
    for key, value in expected.items():
        assert getattr(target, key) == value


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("lpt://1", "expected a URL"),
        ("usb://04b8", "VID:PID"),
        ("serial:///dev/ttyUSB0?baudrate=fast", "baudrate"),
        ("serial:///dev/ttyUSB0?parity=E", "unknown option"),
        ("serial://dev/ttyUSB0", "three slashes"),
        ("tcp://host:port", "numeric port"),
        ("tcp://:9100", "tcp://host"),
        ("cups://", "cups://queue"),
        ("png://", "png:///path"),
        ("tcp://host:9100?x=1", "no ?options"),
    ],
)
def test_bad_printer_urls_say_what_is_wrong(url, words):
    with pytest.raises(ValueError, match=words.replace("?", r"\?")):
        parse_printer_url(url)


def test_profiles_give_the_paper_width():
    assert profile_width("TM-T88V") == 512
    assert profile_width("TM-T20II") == 576
    assert profile_width("POS-5890") == 384
    assert profile_width("default") is None
    assert profile_width("no-such-printer") is None


def _device(tmp_path, kiosk_table: str):
    path = write_device_toml(tmp_path / "device.toml", device_id="kiosk-1", role="kiosk", site="test-ward",
                             host="127.0.0.1", port=1883, password="x", extra=kiosk_table)
    return load_device(path)


def test_kiosk_settings_read_every_key(tmp_path):
    device = _device(tmp_path, f'[kiosk]\nprinter = "png://{tmp_path}/t"\nprofile = "POS-5890"\n'
                               f'citizen_secret = "{SECRET}"\nscanner = "/dev/ttyACM0"\nreturn_after_s = 5\n')
    settings = load_kiosk_settings(device)
    assert settings.paper_px == 384
    assert settings.printer.path == f"{tmp_path}/t"
    assert settings.scanner == "/dev/ttyACM0" and settings.scanner_baudrate == 9600
    assert settings.return_after_s == 5.0


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ("[kiosk]\n", "kiosk.printer", "required"),
        ('[kiosk]\nprinter = "lpt://1"\n', "kiosk.printer", "expected a URL"),
        (f'{LP0}profile = "Nope"\n', "kiosk.profile", "python-escpos profile"),
        (f'{LP0}scanner = "/dev/ttyACM0"\n', "kiosk.scanner", "citizen_secret"),
        (f'{LP0}citizen_secret = "short"\n', "kiosk.citizen_secret", "16"),
        (f'{LP0}printerr = 1\n', "kiosk.printerr", "did you mean"),
        ('[kiosk]\nprinter = "png:///no/such/folder/at/all"\n', "kiosk.printer", "does not exist"),
        pytest.param('[kiosk]\nprinter = "cups://queue"\n', "kiosk.printer", "pycups",
                     marks=pytest.mark.skipif(importlib.util.find_spec("cups") is not None,
                                              reason="pycups is installed here")),
    ],
)
def test_kiosk_settings_errors_name_the_key(tmp_path, table, key, words):
    with pytest.raises(ConfigError) as e:
        load_kiosk_settings(_device(tmp_path, table))
    assert e.value.key == key
    assert words in e.value.message


def test_luot_kiosk_reports_a_config_error_before_starting(tmp_path, capsys):
    from kiosk.__main__ import main

    path = write_device_toml(tmp_path / "device.toml", device_id="kiosk-1", role="kiosk", site="test-ward",
                             host="127.0.0.1", port=1883, password="x", extra='[kiosk]\nprinter = "lpt://1"\n')
    assert main(["--config", str(path)]) == 2
    assert "kiosk.printer" in capsys.readouterr().out


# ---------------------------------------------------------------- the ticket


def _info(site, **changes) -> TicketInfo:
    reply = {
        "ticket": {"number": "A023", "service": "CT", "priority": None,
                   "issued_at": "2026-11-23T09:41:07+07:00"},
        "ahead": 12,
        "est_wait_min": 35,
    }
    reply["ticket"].update(changes)
    return ticket_info(site.catalogue(), reply)


@pytest.mark.parametrize("profile", ["POS-5890", "TM-T88V", "TM-T20II"])
def test_ticket_fits_the_paper_and_its_qr_decodes_to_the_checklist(site, artifacts, profile):
    width = profile_width(profile)
    image = render_ticket(_info(site), width)
    image.save(artifacts / f"kiosk_ticket_{profile}.png")
    assert image.mode == "1" and image.width == width
    decoded = decode(image.convert("L"))
    assert [d.data.decode() for d in decoded] == [site.service("CT").checklist_url]
    printer = Dummy(profile=profile)
    printer.image(image)  # raises ImageWidthError if it were wider than the paper


def test_long_names_wrap_and_nothing_is_cut_off(site, artifacts):
    info = _info(site, priority="nguoi-cao-tuoi")
    long = TicketInfo(**{
        **info.__dict__,
        "centre": "Trung tâm Phục vụ hành chính công phường Nguyễn Thái Bình, thành phố Hồ Chí Minh",
        "service": "Lao động, thương binh, người có công với cách mạng và bảo trợ xã hội",
        "number": "3005",
    })
    short = render_ticket(info, 384)
    tall = render_ticket(long, 384)
    tall.save(artifacts / "kiosk_ticket_long_names_POS-5890.png")
    assert tall.height > short.height
    # Every column of ink stays inside the margins: nothing runs off the paper's edge.
    left_edge = tall.crop((0, 0, 4, tall.height))
    right_edge = tall.crop((tall.width - 4, 0, tall.width, tall.height))
    assert left_edge.getextrema() == (255, 255) and right_edge.getextrema() == (255, 255)


def test_ticket_says_the_priority_and_the_wait(site):
    plain = render_ticket(_info(site), 512)
    priority = render_ticket(_info(site, priority="khuyet-tat"), 512)
    assert priority.height > plain.height
    assert _info(site, priority="khuyet-tat").priority == "Người khuyết tật"
    assert _info(site).issued_at == datetime.fromisoformat("2026-11-23T09:41:07+07:00")


def test_printer_bytes_hold_the_image_then_the_cut(site):
    image = render_ticket(_info(site), 576)
    job = job_bytes(image, "TM-T20II")
    header = b"\x1dv0\x00" + (576 // 8).to_bytes(2, "little")
    fragments = job.count(header)
    assert fragments == -(-image.height // 960)  # python-escpos sends 960-row fragments
    assert job.endswith(PAPER_FULL_CUT) or job.endswith(PAPER_PART_CUT)
    assert job.index(header) < job.rindex(b"\x1dV")
    first = job.index(header) + len(header)
    rows = int.from_bytes(job[first:first + 2], "little")
    ink = job[first + 2:first + 2 + 72 * rows]
    assert any(ink) and len(ink) == 72 * rows


def test_scanner_on_a_serial_port_hands_on_each_code(tmp_path):
    master, slave = os.openpty()
    tty.setraw(slave)
    codes: list[str] = []
    states: list[str] = []
    scanner = CardScanner(os.ttyname(slave), 9600, codes.append, states.append)
    scanner.start()
    try:
        wait_for(lambda: states == ["ok"], what="the scanner port")
        os.write(master, CARD.encode()[:30])
        os.write(master, CARD.encode()[30:] + b"\r")
        os.write(master, b"\xff\xfegarbage\r\n")
        wait_for(lambda: len(codes) == 2, what="two codes")
        assert codes[0] == CARD
        with pytest.raises(CardError):
            parse_card(codes[1], SECRET, TODAY)
    finally:
        scanner.stop()
        os.close(master)
        os.close(slave)


def test_a_missing_scanner_is_reported_not_fatal(tmp_path):
    states: list[str] = []
    scanner = CardScanner(str(tmp_path / "ttyACM7"), 9600, lambda _code: None, states.append)
    scanner.start()
    try:
        wait_for(lambda: states, what="the scanner state")
        assert states[0].startswith("not available")
    finally:
        scanner.stop()


# ---------------------------------------------------------------- layout and words


@pytest.mark.parametrize("size", [(800, 480), (1080, 1920), (1920, 1080), (1024, 600), (768, 1366)])
@pytest.mark.parametrize("count", [1, 2, 3, 5, 8, 12])
def test_grid_cells_stay_on_screen_and_never_overlap(size, count):
    layout = Layout(*size)
    area = layout.body()
    cells = layout.grid(count, area)
    assert len(cells) == count
    ax, ay, aw, ah = area
    for x, y, w, h in cells:
        assert ax <= x and x + w <= ax + aw + 1 and ay <= y and y + h <= ay + ah + 1
        assert w >= layout.u * 3 and h >= layout.u * 1.2
    for i, (x1, y1, w1, h1) in enumerate(cells):
        for x2, y2, w2, h2 in cells[i + 1:]:
            assert x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1
    assert area[1] + area[3] <= layout.bottom_button()[1]


def test_refusals_are_said_plainly():
    vi, en = refusal("duplicate_citizen", "this citizen already holds number A007")
    assert "A007" in vi and "A007" in en
    assert refusal("outside_hours", "") == ("Hiện tại chưa đến giờ lấy số hoặc đã hết giờ!",
                                            "Numbers are given only during the taking hours.")
    assert refusal("internal", "boom") == OTHER_ERROR
