"""What GitHub's runner would execute in a stream of output lines (actions/runner ActionCommand.cs).

`::cmd::` counts at the start of a line after leading white space; the legacy `##[cmd]` anywhere in it.
Between `::stop-commands::TOKEN` and `::TOKEN::` nothing counts. Each stream is checked on its own:
the runner may handle one stream's lines before the other's, so only a frame in the same stream holds.
"""

from __future__ import annotations

import re

# The legacy form, as the runner parses it: `##[` then a command name; `##[\cmd]` names no command.
LEGACY = re.compile(r"##\[(?!\\)")


def commands_outside_frames(text: str) -> list[str]:
    """The lines the runner would take as commands, frames' own start lines included."""
    found = []
    stop_token: str | None = None
    for line in text.splitlines():
        if stop_token is not None:
            if line.strip() == f"::{stop_token}::":
                stop_token = None
            continue
        stripped = line.lstrip()
        if stripped.startswith("::") or LEGACY.search(line):
            found.append(line)
        if stripped.startswith("::stop-commands::"):
            stop_token = stripped.removeprefix("::stop-commands::")
    return found
