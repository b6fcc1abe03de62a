"""Whole sentences as one sound: the fragments of an utterance joined into a single WAV.

Said fragment by fragment, "your claim was approved for one million two hundred and fifty
thousand rials" is a dozen STREAM FILE commands: a dozen AGI round trips, a dozen file opens in
Asterisk, a gap between words, and a moment between two commands in which Asterisk listens to
nobody (a key pressed then is lost). Joined, it is one command, spoken without gaps, with
barge-in over the whole sentence.

The joined file is `<sounds>/said/<digest>.wav`, named by the fragments it holds, so the same
sentence is written once and then only played. Asterisk must read what Tamas writes: the
FastAGI server and Asterisk share the sounds folder (same host, or a shared mount). Where they
do not, turn `ivr_join_sentences` off and sentences are played fragment by fragment.

    sentences = SentenceSounds(sounds_dir)
    name = sentences.join(("fa/prompt/claim_amount_approved", "fa/num/1000000", ...))
    # "said/3f2a..." (a fragment name), or None when a fragment has no sound yet
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import struct
import tempfile
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

from prompts.speech import SAMPLE_RATE

log = logging.getLogger(__name__)

FOLDER = "said"
# PCM of fragments kept in memory to join from (a million-rial amount reuses the same words).
CACHE_BYTES = 32 * 1024 * 1024
# Joined sentences not written again for this long are removed by `sweep`, at most every
# SWEEP_EVERY_S (a marker file says when the folder was last swept, by any process: FastAGI
# servers and process-AGI calls share it) and in a worker thread: amounts and dates make
# many distinct sentences, and a busy day's would otherwise pile up on Asterisk's disk.
KEEP_S = 24 * 3600
SWEEP_EVERY_S = 3600
SWEPT_MARKER = ".swept"
_HEADER = struct.Struct("<4sI4s4sIHHIIHH4sI")


def wav_header(pcm_bytes: int) -> bytes:
    """The 44-byte header of an 8 kHz mono 16-bit PCM WAV holding `pcm_bytes` of samples."""
    return _HEADER.pack(
        b"RIFF", 36 + pcm_bytes, b"WAVE", b"fmt ", 16, 1, 1, SAMPLE_RATE,
        SAMPLE_RATE * 2, 2, 16, b"data", pcm_bytes,
    )  # fmt: skip


def wav_pcm(data: bytes) -> bytes | None:
    """The samples of an 8 kHz mono 16-bit PCM WAV, or None for any other kind of file."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    position, pcm_format_seen = 12, False
    while position + 8 <= len(data):
        chunk = data[position : position + 4]
        size = int.from_bytes(data[position + 4 : position + 8], "little")
        body = position + 8
        if chunk == b"fmt ":
            audio_format, channels, rate = struct.unpack_from("<HHI", data, body)
            bits = struct.unpack_from("<H", data, body + 14)[0]
            if (audio_format, channels, rate, bits) != (1, 1, SAMPLE_RATE, 16):
                return None
            pcm_format_seen = True
        elif chunk == b"data":
            return data[body : body + size] if pcm_format_seen else None
        position = body + size + (size & 1)
    return None


class SentenceSounds:
    """Joins fragments into sentence files in `sounds_dir` (the folder Asterisk plays `tamas/`
    from) and remembers which it has written."""

    def __init__(self, sounds_dir: Path, cache_bytes: int = CACHE_BYTES) -> None:
        self.sounds_dir = sounds_dir
        self.folder = sounds_dir / FOLDER
        self.cache_bytes = cache_bytes
        self._pcm: OrderedDict[str, bytes] = OrderedDict()
        self._cached_bytes = 0
        self._written: set[str] = set()
        self.joined = 0  # sentences written by this process
        self.reused = 0  # sentences already there
        self._checked_at: float | None = None  # when this process last looked at the marker

    def join(self, fragments: Sequence[str]) -> str | None:
        """The fragment name of the sentence saying `fragments` in order, written if new.
        None when a fragment has no usable sound (the caller then hears them one by one,
        which skips the missing one) or the folder cannot be written."""
        digest = hashlib.sha1("\n".join(fragments).encode("utf-8"), usedforsecurity=False)
        name = f"{FOLDER}/{digest.hexdigest()}"
        self._sweep_when_due()
        if name in self._written:
            self.reused += 1
            return name
        target = self.sounds_dir / f"{name}.wav"
        if target.exists():
            self._written.add(name)
            self.reused += 1
            return name
        parts = []
        for fragment in fragments:
            pcm = self._fragment_pcm(fragment)
            if pcm is None:
                return None
            parts.append(pcm)
        samples = b"".join(parts)
        try:
            self._write(target, wav_header(len(samples)) + samples)
        except OSError as error:
            log.warning("cannot write a joined sentence into %s: %s", self.folder, error)
            return None
        self._written.add(name)
        self.joined += 1
        return name

    def _fragment_pcm(self, fragment: str) -> bytes | None:
        pcm = self._pcm.get(fragment)
        if pcm is not None:
            self._pcm.move_to_end(fragment)
            return pcm
        try:
            data = (self.sounds_dir / f"{fragment}.wav").read_bytes()
        except OSError:
            return None
        pcm = wav_pcm(data)
        if pcm is None:
            log.warning("sound %s is not 8 kHz mono 16-bit WAV; not joined", fragment)
            return None
        self._pcm[fragment] = pcm
        self._cached_bytes += len(pcm)
        while self._cached_bytes > self.cache_bytes and len(self._pcm) > 1:
            _old, dropped = self._pcm.popitem(last=False)
            self._cached_bytes -= len(dropped)
        return pcm

    def _write(self, target: Path, data: bytes) -> None:
        # Written aside and renamed: Asterisk never opens a half-written sentence.
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=".joining-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            os.chmod(temporary, 0o644)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def _sweep_when_due(self) -> None:
        now = time.monotonic()
        if self._checked_at is not None and now - self._checked_at < SWEEP_EVERY_S:
            return
        self._checked_at = now
        try:
            if time.time() - (self.folder / SWEPT_MARKER).stat().st_mtime < SWEEP_EVERY_S:
                return  # swept lately, by this process or another
        except OSError:
            pass  # never swept
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.sweep()  # no event loop to keep free (process AGI, tools)
            return
        # Listing thousands of files would stall every call on the loop: a thread does it.
        loop.run_in_executor(None, self.sweep)

    def forget(self, name: str) -> None:
        """`name` turned out not to play (removed meanwhile): write it again next time."""
        self._written.discard(name)

    def sweep(self, keep_s: float = KEEP_S, now: float | None = None) -> int:
        """Remove sentences older than `keep_s`; how many were removed."""
        cutoff = (time.time() if now is None else now) - keep_s
        removed = 0
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / SWEPT_MARKER).touch()
            entries = list(self.folder.iterdir())
        except OSError:
            return 0
        for path in entries:
            if path.name == SWEPT_MARKER:
                continue
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    self._written.discard(f"{FOLDER}/{path.stem}")
                    removed += 1
            except OSError:
                continue
        return removed
