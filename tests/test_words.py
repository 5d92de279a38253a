"""The words a citizen reads: the card's current name, an offline printer, a short wait."""

from __future__ import annotations

from display.board import minutes
from kiosk import texts
from kiosk.cccd import NOT_A_CARD
from kiosk.ticket import wait_text


def test_the_card_is_called_can_cuoc_and_the_old_cccd_still_named() -> None:
    for vi in (texts.CARD_OK[0], NOT_A_CARD.vi):
        assert "căn cước / CCCD" in vi and "công dân" not in vi, vi


def test_an_offline_printer_is_not_ready_not_paused() -> None:
    assert texts.PRINTER_FAULTS["offline"] == ("Máy in không sẵn sàng", "The printer is not ready")


def test_a_wait_under_a_minute_reads_the_same_on_kiosk_ticket_and_board() -> None:
    assert wait_text(0) == ("Thời gian chờ dự kiến: dưới 1 phút", "Estimated wait: under a minute")
    assert minutes(0.4) == "dưới 1 phút"
    assert minutes(0) == "dưới 1 phút"
    assert wait_text(12)[0] == "Thời gian chờ dự kiến: khoảng 12 phút"
    assert minutes(12.4) == "12 phút"
    assert minutes(None) == "—"
    # With no counter serving the field there is no number to give, and the ticket says why.
    assert wait_text(None)[0] == "Thời gian chờ dự kiến: chưa xác định, chưa có quầy đang phục vụ"
