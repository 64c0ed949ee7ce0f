"""Making untrusted text safe to show in a log line. (Runner file formats escape in their own modules.)"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(value: object, limit: int = 200) -> str:
    """Control characters (newlines, ESC, CR) folded to a space, cut to `limit` characters."""
    text = _CONTROL.sub(" ", str(value)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
