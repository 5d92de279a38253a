"""The board's spoken calls: the voice pack built offline, calls spoken in order and never cut off,
a recall spoken again, a replayed state never."""

from __future__ import annotations

import threading
import wave
from collections.abc import Callable
from pathlib import Path

import pytest
from display_rig import Centre, fill_and_call, served_now, shown

from display.__main__ import main
from display.voice import Announcer, VoicePack
from luot import protocol as p
from luot.speech import CHIME, CallSpeech, voice_clips
from luot.update_hooks import HELD, HOLD, READY, UpdateHooks

# ---------------------------------------------------------------------- speech


def test_voice_pack_builder_writes_every_clip(voice_pack: Path, tmp_path: Path) -> None:
    for name in [CHIME, *voice_clips()]:
        path = voice_pack / f"{name}.wav"
        with wave.open(str(path)) as clip:
            assert clip.getnframes() > 0, name
    # A site's own recording survives a rebuild.
    own = tmp_path / "pack"
    own.mkdir()
    (own / "den-quay-so.wav").write_bytes((voice_pack / "en-counter.wav").read_bytes())
    assert main(["--build-voice", str(own)]) == 0
    assert (own / "den-quay-so.wav").read_bytes() == (voice_pack / "en-counter.wav").read_bytes()
    assert (own / "moi-cong-dan.wav").stat().st_size > 1000


def test_voice_pack_builder_mistakes_are_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    occupied = tmp_path / "a-file"
    occupied.write_text("not a folder")
    assert main(["--build-voice", str(occupied / "voice")]) == 1
    assert "cannot make the voice pack folder" in capsys.readouterr().out
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["--build-voice", str(tmp_path / "voice")]) == 1
    assert "espeak-ng is not installed: apt-get install espeak-ng" in capsys.readouterr().out


def test_missing_clips_are_left_out_not_fatal(voice_pack: Path, tmp_path: Path, mixer: None) -> None:
    partial = tmp_path / "partial"
    partial.mkdir()
    for name in ("chime", "moi-cong-dan", "den-quay-so"):
        (partial / f"{name}.wav").write_bytes((voice_pack / f"{name}.wav").read_bytes())
    (partial / "vi-hai.wav").write_bytes(b"RIFF but not a wave file")
    pack = VoicePack(partial)
    clips = CallSpeech(repeat=1).clips("A023", 5)
    assert "letter-a" in pack.missing(clips) and "vi-hai" in pack.missing(clips)
    samples = pack.assemble(clips)
    expected = sum(len(pack.clips[n]) for n in ("chime", "moi-cong-dan", "den-quay-so"))
    assert len(samples) == expected


def test_two_calls_spoken_in_order_never_cut_off(centre: Callable[..., Centre], voice_pack: Path,
                                                 mixer: None) -> None:
    c = centre(4, repeat=1)
    kiosk, admin = c.link("kiosk-1"), c.link("admin")
    for code in ("CT", "HT"):
        kiosk.request("take", service=code)
    announcer = Announcer(VoicePack(voice_pack))
    app = c.board((1280, 720), announcer=announcer)
    assert app.run(until=lambda: app.state.online and app.state.name, timeout=10)
    first = admin.request("next", counter=1)["ticket"]["number"]
    assert app.run(until=lambda: app.state.newest is not None, timeout=10)
    second = admin.request("next", counter=2)["ticket"]["number"]
    assert app.run(until=lambda: len(announcer.spoken) == 2, timeout=30)
    one, two = announcer.spoken
    speech = CallSpeech(repeat=1)
    assert one.clips == speech.clips(first, 1)
    assert two.clips == speech.clips(second, 2)
    assert one.length_s > 2 and two.length_s > 2
    assert one.ended - one.started >= one.length_s * 0.98, "the first call was cut off"
    assert two.started >= one.ended, "the calls overlapped"
    assert two.ended - two.started >= two.length_s * 0.98
    announcer.stop()


def test_recall_spoken_again_replay_never(centre: Callable[..., Centre], voice_pack: Path,
                                          mixer: None) -> None:
    c = centre(4, repeat=1)
    fill_and_call(c)
    announcer = Announcer(VoicePack(voice_pack))
    # A board that starts (or restarts) after the calls: shown, not spoken.
    app = c.board((1280, 720), announcer=announcer)
    assert app.run(until=lambda: shown(app) == served_now(c), timeout=10)
    assert app.board.flash_until == 0.0

    # The first thing said is the recall made after the board started: nothing of the replay.
    admin = c.link("admin")
    number = admin.request("recall", counter=1)["ticket"]["number"]
    assert app.run(until=lambda: len(announcer.spoken) >= 1, timeout=20)
    assert len(announcer.spoken) == 1
    assert announcer.spoken[0].clips == CallSpeech(repeat=1).clips(number, 1)

    # The broker goes and comes back: the retained state is replayed, nothing is said.
    c.broker.stop()
    assert app.run(until=lambda: not app.state.online, timeout=10)
    c.broker.start()
    assert app.run(until=lambda: app.state.online, timeout=20)
    # A recall made after the reconnection marks the end of the replay: it is the next thing said.
    assert admin.wait_connected(20)
    second = admin.request("recall", counter=2)["ticket"]["number"]
    assert app.run(until=lambda: len(announcer.spoken) >= 2, timeout=20)
    assert len(announcer.spoken) == 2
    assert announcer.spoken[1].clips == CallSpeech(repeat=1).clips(second, 2)
    announcer.stop()


def test_english_phrase_when_the_site_wants_it(centre: Callable[..., Centre]) -> None:
    c = centre(4, repeat=2, english=True)
    app = c.board((1280, 720))
    assert app.run(until=lambda: app.state.name, timeout=10)
    assert app.state.speech == CallSpeech(repeat=2, english=True)


def test_a_board_holds_for_an_update_only_while_it_says_nothing(centre: Callable[..., Centre],
                                                                voice_pack: Path, mixer: None,
                                                                tmp_path: Path) -> None:
    c = centre(4, repeat=1)
    kiosk, admin = c.link("kiosk-1"), c.link("admin")
    kiosk.request("take", service="CT")
    announcer = Announcer(VoicePack(voice_pack))
    hooks = UpdateHooks(tmp_path, version="9.9.9", check_every_s=0.0)
    app = c.board((1280, 720), announcer=announcer, update=hooks)
    assert app.run(until=lambda: (tmp_path / READY).exists(), timeout=10), "up once the catalogue is here"
    admin.request("next", counter=1)
    assert app.run(until=lambda: not announcer.quiet, timeout=10)
    (tmp_path / HOLD).write_text("9.9.10")
    held_while_speaking = []

    def spoken_to_the_end() -> bool:
        """Checked at every step of the board: held never while the call is being said."""
        held_while_speaking.append((tmp_path / HELD).exists() and not announcer.quiet)
        return announcer.quiet

    assert app.run(until=spoken_to_the_end, timeout=30)
    assert len(held_while_speaking) > 1 and not any(held_while_speaking), "held mid-announcement"
    assert app.run(until=lambda: (tmp_path / HELD).exists(), timeout=5), "quiet now: held"
    announcer.stop()


def test_a_call_heard_as_the_board_is_stopped_is_still_spoken(centre: Callable[..., Centre],
                                                              voice_pack: Path, mixer: None) -> None:
    """The updater stops a held board: a call that reaches it in that moment is said before it
    goes, since after the restart it comes back as retained state, shown and never said."""
    c = centre(4, repeat=1)
    kiosk, admin = c.link("kiosk-1"), c.link("admin")
    kiosk.request("take", service="CT")
    announcer = Announcer(VoicePack(voice_pack))
    app = c.board((1280, 720), announcer=announcer)
    assert app.run(until=lambda: app.state.online and app.state.name, timeout=10)
    heard = threading.Event()
    # Handlers run in order: once this one hears the call, the board's inbox holds it.
    app.link.add_handler(lambda topic, _payload, _retained: topic == p.CALL_EVENT and heard.set())
    app.stop_soon()
    number = admin.request("next", counter=1)["ticket"]["number"]
    assert heard.wait(5), "the call never reached the board's link"
    assert app.run() is False
    assert [s.clips for s in announcer.spoken] == [CallSpeech(repeat=1).clips(number, 1)]
    assert announcer.spoken[0].ended - announcer.spoken[0].started >= announcer.spoken[0].length_s * 0.98
    announcer.stop()
