"""Durations as a user writes them (`90`, `90s`, `10m`, `1m30s`, `1h`, `500ms`): parsing, formatting, the
bounds a duration input accepts (`Duration`, field metadata of the model) and the default and limit durations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic.fields import FieldInfo

DEFAULT_TIMEOUT_SECONDS = 30 * 60.0
# The longest pause between two status reads. 3 s matches the cadence of Qovery's own CLI, so we never
# read more than it does, while the adaptive schedule (see `polling.py`) reads earlier when that pays off.
DEFAULT_POLL_INTERVAL_SECONDS = 3.0

DEFAULT_REQUEST_TIMEOUT_SECONDS = 30.0
MIN_POLL_INTERVAL_SECONDS = 0.2
HOUR = 3600.0

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# One part of a duration: a number and its unit (`1m`, `30s`). `ms` before `m`, or `5ms` reads as `5m`.
_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|h|m|s)", re.IGNORECASE)
# The units, largest first: the order the parts of `1h2m3s` must come in, each at most once.
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_UNIT_ORDER = list(_UNIT_SECONDS)
MALFORMED = "expected a duration such as 90, 90s, 2m, 1m30s or 1h (units h, m, s, ms; largest first)"


@dataclass(frozen=True)
class Duration:
    """Field metadata: the input is a duration (`90`, `90s`, `10m`, `1h`), within these bounds (seconds).

    The upper bound keeps absurd values (`9999999h`) an input error instead of an overflow later on.
    """

    minimum: float
    maximum: float
    why_minimum: str = ""

    def check(self, seconds: float) -> float:
        if seconds < self.minimum:
            raise ValueError(f"must be at least {format_duration(self.minimum)}{self.why_minimum}")
        if seconds > self.maximum:
            raise ValueError(f"must be at most {format_duration(self.maximum)}")
        return seconds


def parse_duration(text: str | float) -> float:
    """Seconds from `90`, `90s`, `10m`, `1m30s`, `1h2m` or `500ms` (a number alone means seconds). The
    parts of a compound duration go from the largest unit to the smallest, each once, so that `30s1m`
    or `1h30` (30 what?) is refused rather than guessed."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        seconds = float(text)
    else:
        seconds = _seconds(str(text).strip())
    if seconds < 0:
        raise ValueError("must be greater than zero")
    return seconds  # zero is refused by the field's bounds, which say what the least is


def _seconds(text: str) -> float:
    if _NUMBER.fullmatch(text):
        return float(text)
    seconds, position, last_unit = 0.0, 0, -1
    while position < len(text):
        part = _PART.match(text, position)
        if part is None and last_unit >= 0 and _NUMBER.fullmatch(rest := text[position:]):
            smaller = _UNIT_ORDER[min(last_unit + 1, len(_UNIT_ORDER) - 1)]
            raise ValueError(
                f"`{rest}` at its end has no unit: write `{text}{smaller}` (units largest first)"
            )
        if part is None:
            raise ValueError(MALFORMED)
        unit = _UNIT_ORDER.index(part.group(2).lower())
        if unit <= last_unit:  # `30s1m`, `1m1m`
            raise ValueError(MALFORMED)
        seconds += float(part.group(1)) * _UNIT_SECONDS[_UNIT_ORDER[unit]]
        position, last_unit = part.end(), unit
    if last_unit < 0:  # empty
        raise ValueError(MALFORMED)
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest exact way to write a duration as a user would: 1800 -> `30m`, 0.2 -> `0.2s`."""
    for unit, size in (("h", 3600.0), ("m", 60.0)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def duration_bounds(field: FieldInfo) -> Duration | None:
    return next((item for item in field.metadata if isinstance(item, Duration)), None)
