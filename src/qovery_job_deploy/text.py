"""Making untrusted text safe to show in a log line. (Runner file formats escape in their own modules.)"""

from __future__ import annotations

import re

# C0, DEL, C1 (NEL among them), and the line and paragraph separators: what may break a line or drive a
# terminal. The one rule for every writer.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(value: object, limit: int = 200) -> str:
    """Control characters (newlines, ESC, CR) folded to a space, cut to `limit` characters."""
    text = CONTROL.sub(" ", str(value)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


# CSI sequences (colours, cursor moves), OSC sequences (titles, hyperlinks) and two-character escapes.
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]"
)


def strip_ansi(value: str) -> str:
    """Text without terminal escape sequences: `\\x1b[31mred` becomes `red`, not ` [31mred`."""
    return _ANSI.sub("", value)
