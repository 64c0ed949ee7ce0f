"""Qovery's rate limit as the answers state it: `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
`X-RateLimit-Reset`, read from every answer into one immutable `RateBudget`, and the spacing between
requests that makes what is left last until the limit resets.

Qovery documents about 1000 requests an hour per API token; its spec declares neither the headers nor a
429 on most operations, so both are optional here: without the headers nothing is paced (a 429 is still
waited out, `retry.py`). Parallel pipeline jobs share one token and so one budget: each sees `Remaining`
fall with the others' requests and slows down by itself. Spacing the requests left over the time left
(`spacing`) keeps any number of such steps from running it out before the reset: each slows as it falls.

`X-RateLimit-Reset` is read tolerantly, since APIs disagree on it and Qovery's docs do not say which it is:
a number up to 10^9 is seconds until the reset (the simulator's form); a larger one is a Unix time, in
seconds, or milliseconds beyond 10^12; an HTTP date is a moment too. A moment is counted from the answer's
own `Date` (the server's clock, so the runner's clock skew does not count), else from this machine's
clock. A reset that cannot be read, or lies more than a day away, counts as a whole window away (an hour).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime

DOCUMENTED_LIMIT = 1000  # requests per window, per API token, as Qovery's docs state it
DOCUMENTED_WINDOW = 3600.0  # seconds
# The pace slows only once at most this share of the limit is left: until then a budget that lasts is
# not worth a slower read (a fresh hour of 1000 would otherwise stretch the 3 s pace to 3.6 s from the
# start, for a deployment that needs 50 requests).
LOW_SHARE = 0.5
# Requests kept back from the pace: the deploy request, the deployment log after a failure, a cancel.
RESERVE = 2
MAX_RESET_SECONDS = 86400.0
EPOCH_SECONDS = 1e9  # beyond this, a reset is a Unix time (2001 onwards), not a number of seconds
EPOCH_MILLISECONDS = 1e12


@dataclass(frozen=True)
class RateBudget:
    """What one answer said of the token's budget, on the client's clock."""

    remaining: int
    resets_at: float
    seen_at: float
    limit: int | None = None

    @property
    def low(self) -> bool:
        """Whether so little is left that the pace must make it last."""
        return self.remaining <= LOW_SHARE * (self.limit or DOCUMENTED_LIMIT)

    def spacing(self) -> float:
        """The seconds between two requests, from when this was seen, that make what is left (but the
        reserve) last until the reset; 0 while enough is left. Nothing left: the wait until the reset."""
        if not self.low:
            return 0.0
        until_reset = max(0.0, self.resets_at - self.seen_at)
        spendable = self.remaining - RESERVE
        return until_reset if spendable < 1 else until_reset / spendable

    def next_at(self) -> float:
        """The earliest moment of the next paced request."""
        return self.seen_at + self.spacing()

    def after(self, at: float) -> RateBudget:
        """This budget as it would stand after one more request at `at`."""
        return replace(self, remaining=max(0, self.remaining - 1), seen_at=at)

    def reset_in(self, now: float) -> float:
        return max(0.0, self.resets_at - now)

    def said(self, now: float) -> str:
        """`6 of 12 requests left until it resets in 34s`: for the log."""
        of = f" of {self.limit}" if self.limit is not None else ""
        return f"{self.remaining}{of} requests left until it resets in {self.reset_in(now):.0f}s"


def read_budget(
    headers: Mapping[str, str], now: float, wall: Callable[[], float] = time.time
) -> RateBudget | None:
    """The budget an answer states (None when it states none). `now`: the client's clock; `wall`: this
    machine's Unix time, for a reset given as a moment in an answer without a `Date`."""
    remaining = _count(headers.get("X-RateLimit-Remaining"))
    if remaining is None:
        return None
    reset = reset_seconds(headers, wall)
    return RateBudget(
        remaining=remaining,
        resets_at=now + (DOCUMENTED_WINDOW if reset is None else reset),
        seen_at=now,
        limit=_count(headers.get("X-RateLimit-Limit")),
    )


def reset_seconds(headers: Mapping[str, str], wall: Callable[[], float] = time.time) -> float | None:
    """Seconds until the limit resets, from `X-RateLimit-Reset` in any of its forms (module docstring);
    None when absent, unreadable or implausible."""
    text = (headers.get("X-RateLimit-Reset") or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        moment = _http_date(text)
        seconds = None if moment is None else moment - _server_now(headers, wall)
    else:
        if not math.isfinite(value):
            return None
        if value >= EPOCH_MILLISECONDS:
            value /= 1000.0
        seconds = value - _server_now(headers, wall) if value >= EPOCH_SECONDS else value
    if seconds is None or seconds > MAX_RESET_SECONDS:
        return None
    return max(0.0, seconds)


def _count(text: str | None) -> int | None:
    try:
        value = float((text or "").strip())
    except ValueError:
        return None
    if not 0 <= value < 1e12:  # NaN fails this too
        return None
    return int(value)


def _http_date(text: str) -> float | None:
    try:
        return parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _server_now(headers: Mapping[str, str], wall: Callable[[], float]) -> float:
    """The server's Unix time when it answered (its `Date`), else this machine's."""
    date = _http_date(headers.get("Date") or "")
    return wall() if date is None else date
