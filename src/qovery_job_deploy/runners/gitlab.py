"""GitLab CI: collapsible log sections and the dotenv report (artifacts:reports:dotenv)."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from qovery_job_deploy.log import HumanLog
from qovery_job_deploy.outcome import RunOutcome
from qovery_job_deploy.report import dotenv
from qovery_job_deploy.runners.plain import Runner, attempt, printable
from qovery_job_deploy.text import CONTROL

# GitLab's dotenv rules: KEY=VALUE lines, keys of letters, digits and `_`, no multi-line values, no
# quote processing, and the whole file under 5 KB (a violation fails the artifact upload).
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_VALUE_BYTES = 512  # a value's bytes at most; fewer when many variables must share the 5 KB
MAX_FILE_BYTES = 5 * 1024


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
    share = min(MAX_VALUE_BYTES, room // max(1, len(values)))
    text = "".join(f"{key}={dotenv_value(value, share)}\n" for key, value in values.items())
    if len(text.encode()) > MAX_FILE_BYTES:  # cannot happen: the shares add up to less; a safety net
        raise ValueError("dotenv report over GitLab's 5 KB limit")
    return text


def write_dotenv(path: Path, values: Mapping[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(format_dotenv(values), encoding="utf-8", errors="replace")


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

    def publish(self, outcome: RunOutcome) -> list[str]:
        problems: list[str] = []
        attempt(problems, "the dotenv report", lambda: write_dotenv(self.dotenv_path(), dotenv(outcome)))
        return problems + super().publish(outcome)

    def dotenv_path(self) -> Path:
        if self.dotenv_file is not None:
            return self.dotenv_file
        return Path(self.environ.get("CI_PROJECT_DIR", ".")) / "qovery.env"
