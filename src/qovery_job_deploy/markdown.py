"""Markdown that untrusted text cannot break: running text escaped, API values in code spans.

Everything here is pure: the summary's file I/O lives with each runner. Values are folded to one line and
bounded first, so that no value can end a table row, a list item or a block early.
"""

from __future__ import annotations

import html
import re

from qovery_job_deploy.text import one_line

MAX_CELL = 200
# Characters with a meaning in running Markdown text (`_` is handled apart: see `text`).
_SPECIALS = "\\`*[]#!~|"
# An underscore opens or closes emphasis only at a word's edge; inside a word (DEPLOYMENT_ERROR) it is
# plain text in GitHub's Markdown, so it is escaped only there, to keep raw files readable.
_EDGE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_BACKTICKS = re.compile(r"`+")
PLACEHOLDER = "–"  # the one way every writer shows an unknown value


def folded(value: object, limit: int = MAX_CELL) -> str:
    """`text.one_line`, with every run of white space folded to one space (a table cell's text)."""
    return " ".join(one_line(value, limit).split())


def text(value: object, limit: int = MAX_CELL) -> str:
    """Running text: Markdown specials escaped, then HTML (no raw tag, comment or entity survives)."""
    escaped = folded(value, limit)
    for char in _SPECIALS:  # backslash first, so the escapes added after it stay single
        escaped = escaped.replace(char, "\\" + char)
    escaped = _EDGE_UNDERSCORE.sub(r"\\_", escaped)
    # HTML last, so that no entity it writes gets a Markdown escape inside it (`&#x27;`).
    return html.escape(escaped, quote=False)


def code(value: object, limit: int = MAX_CELL) -> str:
    """An API value (a state, an id) as a code span, shown exactly as sent, inside a table cell too.

    The fence is one backtick longer than the longest run inside the value, padded with a space when the
    value starts or ends with a backtick (CommonMark's rule). `|` stays escaped: GitHub splits table cells
    before it reads code spans.
    """
    content = folded(value, limit)
    if not content:
        return PLACEHOLDER
    longest = max((len(run) for run in _BACKTICKS.findall(content)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if content.startswith("`") or content.endswith("`") else ""
    content = content.replace("|", "\\|")
    return f"{fence}{pad}{content}{pad}{fence}"
