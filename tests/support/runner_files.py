"""Readers for what the step writes, following each runner's own parsing rules."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any


class MalformedOutputFile(Exception):
    pass


def parse_github_output(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT as the runner reads it (FileCommandManager): split on LF only; `name=value`, or
    `name<<DELIM`, value lines, and a line exactly `DELIM`. Anything else fails the step."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line == "":
            index += 1
            continue
        heredoc = line.find("<<")
        equals = line.find("=")
        if heredoc > 0 and (equals < 0 or heredoc < equals):
            name, delimiter = line[:heredoc], line[heredoc + 2 :]
            if not delimiter:
                raise MalformedOutputFile(f"empty delimiter on line {index + 1}")
            body: list[str] = []
            index += 1
            while index < len(lines) and lines[index] != delimiter:
                body.append(lines[index])
                index += 1
            if index == len(lines):
                raise MalformedOutputFile(f"delimiter {delimiter!r} never closed")
            values[name] = "\n".join(body)
        elif equals > 0:
            values[line[:equals]] = line[equals + 1 :]
        else:
            raise MalformedOutputFile(f"invalid line {index + 1}: {line!r}")
        index += 1
    return values


def parse_dotenv(path: Path) -> dict[str, str]:
    """GitLab's dotenv report rules: KEY=VALUE lines, keys of letters, digits and `_`, no blank lines."""
    text = path.read_text(encoding="utf-8")
    assert len(text.encode()) < 5 * 1024, "dotenv report over GitLab's 5 KB limit"
    values = {}
    for line in text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"):
        key, sep, value = line.partition("=")
        assert sep and key and all(c.isalnum() or c == "_" for c in key) and key.isascii(), line
        assert "\r" not in value, line
        values[key] = value
    return values


def parse_result_file(path: Path) -> dict[str, Any]:
    """qovery-result.json: one JSON object, on one line, in ASCII (every API character escaped), so that
    it shows the same in any viewer and holds no control character; as `jq` reads it."""
    data = path.read_bytes()
    assert data.isascii() and data.endswith(b"\n") and data.count(b"\n") == 1, data[:200]
    assert all(byte >= 0x20 for byte in data[:-1]), "a control character in qovery-result.json"
    result: dict[str, Any] = json.loads(data)
    return result


def outside_code_spans(markdown_text: str) -> str:
    """The Markdown with its code spans cut out: inside them GitHub shows `<` as text, never as HTML."""
    return re.sub(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)", "", markdown_text)
