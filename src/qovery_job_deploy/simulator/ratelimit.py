"""A rate limit the simulator can impose, as Qovery documents its own (about 1000 requests an hour per API
token): `QoverySimulator(rate_limit=RateLimit(1000, 3600))`, or `--rate-limit 1000/1h` on the command line.

Each token (the `Authorization` header) has a fixed window that opens with its first request and lasts
`window` seconds; every answer says where the token stands (`X-RateLimit-Limit`, `X-RateLimit-Remaining`,
and `X-RateLimit-Reset` in seconds until the window closes, rounded up), and a request beyond the limit
is answered 429 with `Retry-After` (the same seconds), Qovery doing nothing with it. A refused request
does not count. The spec declares neither the headers nor the 429: extra headers are allowed by it, and
the contract check leaves a 429 unchecked, as any undocumented answer.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}
_FORM = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*([smh]?)\s*$")


@dataclass(frozen=True)
class RateLimit:
    limit: int  # requests per window and token
    window: float  # seconds

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """`1000/1h`, `12/40s`, `60/m`, `100/90` (seconds): requests per window."""
        match = _FORM.match(text)
        if not match:
            raise ValueError(f"{text!r} is no rate limit: give requests/window, e.g. 1000/1h or 12/40s")
        count, amount, unit = match.groups()
        window = float(amount or 1) * _UNITS[unit]
        if int(count) < 1 or window <= 0:
            raise ValueError(f"{text!r} allows nothing: give at least 1 request in a window longer than 0")
        return cls(int(count), window)

    def said(self) -> str:
        """`1000 requests per 3600s`: for the simulator's introduction."""
        return f"{self.limit} requests per {self.window:g}s"


class Budgets:
    """Each token's window and what it spent in it. Not thread-safe: the simulator holds its lock."""

    def __init__(self, rate_limit: RateLimit) -> None:
        self.rate_limit = rate_limit
        self._windows: dict[str, tuple[float, int]] = {}  # token -> (window opened at, requests in it)
        self.refused = 0  # requests answered 429, all tokens

    def take(self, token: str, now: float) -> tuple[bool, dict[str, str]]:
        """Whether one more request of `token` is allowed now, and the headers its answer carries."""
        limit, window = self.rate_limit.limit, self.rate_limit.window
        opened, used = self._windows.get(token, (now, 0))
        if now >= opened + window:
            opened, used = now, 0
        allowed = used < limit
        if allowed:
            used += 1
        else:
            self.refused += 1
        self._windows[token] = (opened, used)
        reset = str(max(0, math.ceil(opened + window - now)))
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(limit - used),
            "X-RateLimit-Reset": reset,
        }
        if not allowed:
            headers["Retry-After"] = reset
        return allowed, headers
