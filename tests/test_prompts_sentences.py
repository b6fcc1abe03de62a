"""Joined sentences: the fragments' samples in order behind one WAV header, written once,
refused for sounds that are missing or of another kind, swept when old."""

from __future__ import annotations

import os
import wave
from pathlib import Path

import pytest

from ivr.agi_channel import AgiPort
from prompts.sentences import FOLDER, SentenceSounds, wav_header, wav_pcm
from prompts.utterance import Utterance


def write_wav(path: Path, samples: bytes, rate: int = 8000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(samples)


@pytest.fixture
def sounds(tmp_path: Path) -> Path:
    write_wav(tmp_path / "fa/num/1.wav", b"\x01\x00" * 800)
    write_wav(tmp_path / "fa/num/2.wav", b"\x02\x00" * 400)
    write_wav(tmp_path / "fa/unit/rial.wav", b"\x03\x00" * 200)
    return tmp_path


def test_a_joined_sentence_holds_every_fragment_in_order(sounds: Path) -> None:
    sentences = SentenceSounds(sounds)
    name = sentences.join(["fa/num/2", "fa/num/1", "fa/unit/rial"])
    assert name is not None and name.startswith(f"{FOLDER}/")
    with wave.open(str(sounds / f"{name}.wav")) as joined:
        assert (joined.getframerate(), joined.getnchannels(), joined.getsampwidth()) == (8000, 1, 2)
        frames = joined.readframes(joined.getnframes())
    assert frames == b"\x02\x00" * 400 + b"\x01\x00" * 800 + b"\x03\x00" * 200
    assert sentences.joined == 1


def test_the_same_sentence_is_written_once_and_the_order_matters(sounds: Path) -> None:
    sentences = SentenceSounds(sounds)
    first = sentences.join(["fa/num/1", "fa/num/2"])
    again = sentences.join(["fa/num/1", "fa/num/2"])
    other = sentences.join(["fa/num/2", "fa/num/1"])
    assert first == again != other
    assert (sentences.joined, sentences.reused) == (2, 1)
    # A second server process finds the file already there.
    assert SentenceSounds(sounds).join(["fa/num/1", "fa/num/2"]) == first


def test_a_missing_or_foreign_fragment_means_no_sentence(sounds: Path) -> None:
    write_wav(sounds / "fa/num/3.wav", b"\x00\x00" * 100, rate=16000)
    sentences = SentenceSounds(sounds)
    assert sentences.join(["fa/num/1", "fa/num/404"]) is None
    assert sentences.join(["fa/num/1", "fa/num/3"]) is None
    assert not (sounds / FOLDER).exists() or not any((sounds / FOLDER).glob("*.wav"))


def test_wav_reading_skips_extra_chunks_and_refuses_junk() -> None:
    pcm = b"\x05\x00" * 10
    plain = wav_header(len(pcm)) + pcm
    assert wav_pcm(plain) == pcm
    # sox may put a LIST chunk before the data.
    listed = plain[:36] + b"LIST" + (4).to_bytes(4, "little") + b"INFO" + plain[36:]
    listed = listed[:4] + (len(listed) - 8).to_bytes(4, "little") + listed[8:]
    assert wav_pcm(listed) == pcm
    assert wav_pcm(b"not a wav at all") is None
    assert wav_pcm(b"RIFF\x00\x00\x00\x00WAVEdata\x02\x00\x00\x00ab") is None  # no fmt chunk


def test_sweep_removes_old_sentences_and_they_are_written_again(sounds: Path) -> None:
    sentences = SentenceSounds(sounds)
    name = sentences.join(["fa/num/1", "fa/num/2"])
    path = sounds / f"{name}.wav"
    old = path.stat().st_mtime - 2 * 86400
    os.utime(path, (old, old))
    assert sentences.sweep(keep_s=86400) == 1
    assert not path.exists()
    assert sentences.join(["fa/num/1", "fa/num/2"]) == name
    assert path.exists()


class Line:
    """Asterisk's side as far as playing goes: which sounds were asked for, and which exist."""

    def __init__(self, playable: set[str], key_on: str | None = None) -> None:
        self.playable = playable
        self.key_on = key_on
        self.played: list[str] = []

    async def stream_file(self, name: str, escape_digits: str = "") -> str | None:
        from agi_scripts.channel import AgiError

        self.played.append(name)
        if name not in self.playable and not name.startswith(f"tamas/{FOLDER}/"):
            raise AgiError(f"no sound {name}")
        return "5" if name == self.key_on else None


async def test_the_port_plays_a_sentence_with_one_command(sounds: Path) -> None:
    line = Line(set())
    port = AgiPort(line, SentenceSounds(sounds))  # type: ignore[arg-type]
    key = await port.play(Utterance("دو یک", ("fa/num/2", "fa/num/1")))
    assert key is None
    assert len(line.played) == 1 and line.played[0].startswith(f"tamas/{FOLDER}/")
    # One fragment is played as it is.
    await port.play(Utterance("یک", ("fa/num/1",)))
    assert line.played[-1] == "tamas/fa/num/1"


async def test_without_a_sentence_the_port_plays_fragment_by_fragment(sounds: Path) -> None:
    line = Line({"tamas/fa/num/1"}, key_on="tamas/fa/num/1")
    port = AgiPort(line, SentenceSounds(sounds))  # type: ignore[arg-type]
    # fa/num/404 has no sound, so no sentence: the missing fragment is skipped, the key kept.
    key = await port.play(Utterance("x", ("fa/num/404", "fa/num/1", "fa/num/2")))
    assert key == "5"
    assert line.played == ["tamas/fa/num/404", "tamas/fa/num/1"]


async def test_old_sentences_are_swept_in_a_thread_once_an_hour(
    sounds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from prompts import sentences as module

    (sounds / FOLDER).mkdir()
    (sounds / FOLDER / ".swept").touch()  # another process swept a moment ago
    sentences = SentenceSounds(sounds)
    old = sentences.join(["fa/num/1", "fa/num/2"])
    path = sounds / f"{old}.wav"
    stale = path.stat().st_mtime - 2 * module.KEEP_S
    os.utime(path, (stale, stale))
    sentences.join(["fa/num/2"])  # within the hour: nothing swept
    assert path.exists()

    monkeypatch.setattr(module, "SWEEP_EVERY_S", 0)
    sentences.join(["fa/num/2", "fa/unit/rial"])  # due: swept off the event loop
    for _ in range(100):
        if not path.exists():
            break
        await asyncio.sleep(0.01)
    assert not path.exists()
    assert sentences.join(["fa/num/1", "fa/num/2"]) == old  # written again when needed
