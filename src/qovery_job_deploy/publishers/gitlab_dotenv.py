"""GitLab CI's dotenv report (`artifacts: reports: dotenv`): the outcome as variables for later jobs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from qovery_job_deploy.outcome import RunOutcome
from qovery_job_deploy.publishers import Target, attempt, write_whole
from qovery_job_deploy.results import dotenv
from qovery_job_deploy.text import CONTROL

# GitLab's dotenv rules: KEY=VALUE lines, keys of letters, digits and `_`, no multi-line values, no
# quote processing, and the whole file under 5 KB (a violation fails the artifact upload).
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_VALUE_BYTES = 512  # a value's bytes at most; fewer when many variables must share the 5 KB
MAX_FILE_BYTES = 5 * 1024


def dotenv_value(value: str, limit: int = MAX_VALUE_BYTES) -> str:
    """One line, no control characters, bounded in bytes; GitLab takes the rest of the line literally."""
    clean = CONTROL.sub(" ", value).strip()
    return clean.encode()[:limit].decode(errors="ignore")


def format_dotenv(values: Mapping[str, str]) -> str:
    """The report, each value cut to its share of GitLab's 5 KB, so that the file is never refused."""
    for key in values:
        if not _KEY.match(key):
            raise ValueError(f"invalid dotenv key {key!r}")
    room = MAX_FILE_BYTES - 64 - sum(len(key) + 2 for key in values)  # `=` and the newline; a margin
    clean = {key: dotenv_value(value) for key, value in values.items()}
    limits = _shares({key: len(value.encode()) for key, value in clean.items()}, room)
    text = "".join(f"{key}={dotenv_value(value, limits[key])}\n" for key, value in clean.items())
    if len(text.encode()) > MAX_FILE_BYTES:  # cannot happen: the shares add up to less; a safety net
        raise ValueError("dotenv report over GitLab's 5 KB limit")
    return text


def _shares(sizes: Mapping[str, int], room: int) -> dict[str, int]:
    """Each value's bytes within `room`: the short ones whole, what they leave shared by the longer ones
    (a console link longer than an even share stays whole while verdicts and states take a few bytes)."""
    limits: dict[str, int] = {}
    left = room
    by_size = sorted(sizes, key=lambda key: sizes[key])
    for done, key in enumerate(by_size):
        limits[key] = min(sizes[key], MAX_VALUE_BYTES, left // (len(by_size) - done))
        left -= limits[key]
    return limits


def project_dir(target: Target) -> Path:
    return Path(target.environ.get("CI_PROJECT_DIR", "."))


def dotenv_path(target: Target) -> Path:
    """The `dotenv-file` input, else $CI_PROJECT_DIR/qovery.env."""
    return target.dotenv_file if target.dotenv_file is not None else project_dir(target) / "qovery.env"


class DotenvReport:
    def __init__(self, target: Target) -> None:
        self.path = dotenv_path(target)

    def publish(self, outcome: RunOutcome) -> list[str]:
        problems: list[str] = []
        attempt(problems, "the dotenv report", lambda: write_whole(self.path, format_dotenv(dotenv(outcome))))
        return problems
