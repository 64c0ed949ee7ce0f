"""GitLab CI: collapsible log sections, the dotenv report (artifacts:reports:dotenv) and, beside it, the JSON
result as a file (artifacts:paths): the job log is for people, so the JSON is not printed there."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from qovery_job_deploy.log import HumanLog
from qovery_job_deploy.outcome import RunOutcome
from qovery_job_deploy.report import dotenv, result_json
from qovery_job_deploy.runners.plain import Runner, attempt, printable
from qovery_job_deploy.text import CONTROL

# GitLab's dotenv rules: KEY=VALUE lines, keys of letters, digits and `_`, no multi-line values, no
# quote processing, and the whole file under 5 KB (a violation fails the artifact upload).
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_VALUE_BYTES = 512  # a value's bytes at most; fewer when many variables must share the 5 KB
MAX_FILE_BYTES = 5 * 1024
RESULT_FILE = "qovery-result.json"  # beside the dotenv report


def section_start(name: str, header: str, now: float, *, collapsed: bool = False) -> str:
    flag = "[collapsed=true]" if collapsed else ""
    return f"\x1b[0Ksection_start:{int(now)}:{name}{flag}\r\x1b[0K{header}\n"


def section_end(name: str, now: float) -> str:
    return f"\x1b[0Ksection_end:{int(now)}:{name}\r\x1b[0K"


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


def write_whole(path: Path, text: str) -> None:
    """Write a file that a later job reads whole or not at all: into a file of our own beside it, then
    renamed over it, so that a full disk or a signal midway never leaves half a report (nor spoils the
    previous one). errors="replace": a character that cannot be encoded must not cost the whole file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        partial.write_text(text, encoding="utf-8", errors="replace")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)  # after a failure; after the rename it is gone already


class GitLabRunner(Runner):
    name = "gitlab"

    def begin(self, log: HumanLog, title: str) -> None:
        log.raw(section_start("qovery_deploy", printable(title), time.time()))  # it holds API names

    def end(self, log: HumanLog) -> None:
        log.raw(section_end("qovery_deploy", time.time()) + "\n")

    def show_log(self, log: HumanLog, title: str, lines: Sequence[str]) -> None:
        log.raw(section_start("qovery_deployment_log", printable(title), time.time(), collapsed=True))
        log.raw("".join(f"{printable(line)}\n" for line in lines))
        log.raw(section_end("qovery_deployment_log", time.time()) + "\n")

    def publish(self, log: HumanLog, outcome: RunOutcome) -> list[str]:
        """The dotenv report, then the JSON result in its own file: in the job log it would be one line of
        kilobytes that nobody reads there (jq reads the file, or a later job gets it as an artifact)."""
        problems: list[str] = []
        report, result = self.dotenv_path(), self.result_path()
        attempt(problems, "the dotenv report", lambda: write_whole(report, format_dotenv(dotenv(outcome))))
        if attempt(problems, "the JSON result", lambda: write_whole(result, result_json(outcome) + "\n")):
            log.info(f"The JSON result is in {self._shown(result)} (add it to artifacts: paths: to keep it)")
        return problems

    def dotenv_path(self) -> Path:
        if self.dotenv_file is not None:
            return self.dotenv_file
        return self._project_dir() / "qovery.env"

    def result_path(self) -> Path:
        return self.dotenv_path().parent / RESULT_FILE

    def _project_dir(self) -> Path:
        return Path(self.environ.get("CI_PROJECT_DIR", "."))

    def _shown(self, path: Path) -> str:
        """As `artifacts: paths:` names it: relative to the project directory when inside it."""
        project = Path(os.path.abspath(self._project_dir()))
        where = Path(os.path.abspath(path))
        return str(where.relative_to(project)) if where.is_relative_to(project) else str(where)
