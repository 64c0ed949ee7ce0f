"""When to read the status next: a pure schedule, so that the wait loop stays simple and testable."""

from __future__ import annotations

from collections.abc import Iterator

# The first reads come sooner than the cap: a deployment that fails at once (bad image tag, a job
# without the forced event) is reported in a second or two rather than a full interval later.
RAMP_UP = (1.0, 2.0)


def poll_delays(longest: float) -> Iterator[float]:
    """Pauses between status reads: a short ramp, then `longest` for ever."""
    for delay in RAMP_UP:
        yield min(delay, longest)
    while True:
        yield longest
