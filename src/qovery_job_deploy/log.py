"""The human log: one line per event, prefixed with the time elapsed since the step started."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from qovery_job_deploy.streams import Writer
from qovery_job_deploy.text import one_line


class Log(Protocol):
    """What domain code needs of a log (tests and the benchmark pass their own)."""

    def info(self, message: str) -> None: ...

    def warning(self, message: str) -> None: ...

    def state(self, state: str) -> None: ...


def inert(text: str) -> str:
    """GitHub's runner obeys the legacy `##[cmd]` anywhere in a line: break it the way the runner breaks
    its own markers (`##[\\cmd]` names no command)."""
    return text.replace("##[", "##[\\")


class HumanLog:
    """Writes to `stream` (stderr), so that stdout stays free for machine-readable output."""

    def __init__(self, stream: Writer, now: Callable[[], float], started_at: float) -> None:
        self._stream = stream
        self._now = now
        self._started_at = started_at

    def _line(self, text: str) -> None:
        elapsed = max(0.0, self._now() - self._started_at)
        # The prefix keeps `::` from starting a line (a GitHub command); `inert` does the rest.
        self._stream.write(f"[{elapsed:4.0f}s] {inert(text)}\n")
        self._stream.flush()

    def info(self, message: str) -> None:
        self._line(one_line(message, 2000))

    def warning(self, message: str) -> None:
        self._line("warning: " + one_line(message, 2000))

    def state(self, state: str) -> None:
        self._line(one_line(state, 100))

    def raw(self, text: str) -> None:
        """Runner control sequences (GitLab sections): written as they are, no prefix."""
        self._stream.write(text)
        self._stream.flush()

    def prefixed(self, name: str) -> PrefixedLog:
        """A log whose lines name one job: with several jobs, each line says which it is about."""
        return PrefixedLog(self, one_line(name, 60))


class PrefixedLog:
    def __init__(self, log: HumanLog, prefix: str) -> None:
        self._log = log
        self._prefix = prefix

    def info(self, message: str) -> None:
        self._log.info(f"{self._prefix}: {message}")

    def warning(self, message: str) -> None:
        self._log.warning(f"{self._prefix}: {message}")

    def state(self, state: str) -> None:
        self._log.state(f"{self._prefix}: {one_line(state, 100)}")
