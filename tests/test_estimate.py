"""The estimated wait counts the counters actually serving and how shared counters split."""

from __future__ import annotations

from queue_rig import Book


def state(book: Book, code: str = "CT") -> dict:
    return book.book.service_state(code, book.clock().replace(tzinfo=book.site.timezone))


def test_no_counter_serving_gives_no_number(site, tmp_path, clock):
    book = Book(site, tmp_path / "q.db", clock)
    for _ in range(5):
        book.take()
    reply = book.do("kiosk-1", "take", service="CT")
    assert reply["est_wait_min"] is None, "eight counters are configured for CT, none is staffed"
    assert state(book)["est_wait_min"] is None


def test_paused_and_long_silent_counters_do_not_count(site, tmp_path, clock):
    book = Book(site, tmp_path / "q.db", clock)
    for _ in range(4):
        book.take()
    assert book.call(1) == "A001"
    clock.advance(minutes=4)
    assert state(book)["est_wait_min"] is not None
    book.do("quay-1", "pause", counter=1)
    assert state(book)["est_wait_min"] is None, "a paused counter serves no one"
    book.do("quay-1", "resume", counter=1)
    book.call(1)
    book.do("quay-1", "done", counter=1)
    assert state(book)["est_wait_min"] is not None
    clock.advance(minutes=45)
    assert state(book)["est_wait_min"] is None, "nobody has been heard from counter 1 for 45 minutes"


def test_a_shared_counter_gives_each_field_the_part_of_its_time_it_spends_there(site, tmp_path,
                                                                                clock):
    """Counter 2 serves CT then HT; counter 3 only HT. When counter 2 has spent all its calls on CT,
    HT's line is served by counter 3 and a little of counter 2."""
    book = Book(site, tmp_path / "q.db", clock)
    for _ in range(6):
        book.take("CT")
    for _ in range(6):
        book.take("HT")
    for _ in range(3):  # counter 2 serves CT (its first choice), 5 min each; counter 3 serves HT
        assert book.call(2).startswith("A") and book.call(3).startswith("B")
        clock.advance(minutes=5)
        book.do("quay-2", "done", counter=2)
        book.do("quay-3", "done", counter=3)
    ct, ht = state(book, "CT")["est_wait_min"], state(book, "HT")["est_wait_min"]
    assert ct is not None and ht is not None
    # CT: 3 waiting, counter 2 gives it 4/5 of its time and is free: (3 - 1 + 1) × 5 ÷ 0.8 ≈ 19.
    # HT: 3 waiting, counter 3 (all its time) and 1/5 of counter 2, both free: (3 - 2 + 1) × 5 ÷ 1.2 ≈ 8.
    assert (ct, ht) == (19, 8)
