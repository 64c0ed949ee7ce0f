"""Time as the program sees it, injected at the top (`main.run`): the system's, or a test's virtual one."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Monotonic seconds and a way to wait. Tests pass a virtual clock that moves only when slept."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class Deadline:
    """The step's `timeout` as a point in time, made once (`main`) and passed where it is needed: the
    client's retries, the engine's last chances to start or cancel, the explain step's budget."""

    def __init__(self, at: float, clock: Clock) -> None:
        self.at = at
        self._clock = clock

    def left(self) -> float:
        """Seconds until the deadline (negative once it has passed)."""
        return self.at - self._clock.now()

    def at_least(self, seconds: float) -> Deadline:
        """This deadline, or `seconds` from now when that is later."""
        return Deadline(max(self.at, self._clock.now() + seconds), self._clock)


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


class VirtualClock:
    """A clock that never waits: `sleep` moves `now` forward at once. With it, a deployment that takes ten
    simulated minutes is followed in milliseconds, and every timeline is repeatable."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        self._now += max(0.0, seconds)
