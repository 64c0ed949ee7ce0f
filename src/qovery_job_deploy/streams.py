"""Streams whose reader may go away: `step 2>&1 >result.json | head -1` closes the log's pipe after one line.
Losing the log never stops a deployment, nor changes its verdict or the exit code: a write that fails marks
the stream lost, and later writes to it are dropped."""

from __future__ import annotations

import os
from typing import Protocol, TextIO


class Writer(Protocol):
    """What the log, the presenters and the publishers need of a stream."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


class Tolerant:
    """A text stream that survives its reader: a failed write or flush (a closed pipe, a full disk, a closed
    file) marks it lost, and from then on it takes everything and writes nothing."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.lost = False

    def write(self, text: str, /) -> int:
        if not self.lost:
            try:
                self._stream.write(text)
            except (OSError, ValueError):  # ValueError: a closed file
                self._lose()
        return len(text)

    def flush(self) -> None:
        if not self.lost:
            try:
                self._stream.flush()
            except (OSError, ValueError):
                self._lose()

    def _lose(self) -> None:
        """From now on nothing is written. What the stream still buffers would fail again when the
        interpreter flushes it at exit (and exit 120), so its descriptor is pointed at /dev/null."""
        self.lost = True
        try:
            descriptor = self._stream.fileno()
            null = os.open(os.devnull, os.O_WRONLY)
        except (OSError, ValueError):  # no descriptor (an in-memory stream): nothing is flushed at exit
            return
        try:
            os.dup2(null, descriptor)
        except OSError:
            pass
        finally:
            os.close(null)
