"""GitLab CI: collapsible log sections. The dotenv report and the JSON result file are publishers'
(`publishers/gitlab_dotenv.py`, `publishers/gitlab_result.py`): the job log is for people."""

from __future__ import annotations

import time
from collections.abc import Sequence

from qovery_job_deploy.runners.plain import PlainPresenter, printable


def section_start(name: str, header: str, now: float, *, collapsed: bool = False) -> str:
    flag = "[collapsed=true]" if collapsed else ""
    return f"\x1b[0Ksection_start:{int(now)}:{name}{flag}\r\x1b[0K{header}\n"


def section_end(name: str, now: float) -> str:
    return f"\x1b[0Ksection_end:{int(now)}:{name}\r\x1b[0K"


class GitLabPresenter(PlainPresenter):
    def begin(self, title: str) -> None:
        self.log.raw(section_start("qovery_deploy", printable(title), time.time()))  # it holds API names

    def end(self) -> None:
        self.log.raw(section_end("qovery_deploy", time.time()) + "\n")

    def show_log(self, title: str, lines: Sequence[str]) -> None:
        self.log.raw(section_start("qovery_deployment_log", printable(title), time.time(), collapsed=True))
        self.log.raw("".join(f"{printable(line)}\n" for line in lines))
        self.log.raw(section_end("qovery_deployment_log", time.time()) + "\n")
