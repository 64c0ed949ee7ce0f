"""GitLab CI: the JSON result in its own file beside the dotenv report (`artifacts: paths:`). In the job log
it would be one line of kilobytes that nobody reads there; jq reads the file, or a later job gets it."""

from __future__ import annotations

import os
from pathlib import Path

from qovery_job_deploy.outcome import RunOutcome
from qovery_job_deploy.publishers import Target, attempt, write_whole
from qovery_job_deploy.publishers.gitlab_dotenv import dotenv_path, project_dir
from qovery_job_deploy.results import result_json

RESULT_FILE = "qovery-result.json"  # beside the dotenv report


class ResultFile:
    def __init__(self, target: Target) -> None:
        self.path = dotenv_path(target).parent / RESULT_FILE
        self.project = project_dir(target)
        self.log = target.log

    def publish(self, outcome: RunOutcome) -> list[str]:
        problems: list[str] = []
        if attempt(problems, "the JSON result", lambda: write_whole(self.path, result_json(outcome) + "\n")):
            self.log.info(f"The JSON result is in {self._shown()} (add it to artifacts: paths: to keep it)")
        return problems

    def _shown(self) -> str:
        """As `artifacts: paths:` names it: relative to the project directory when inside it."""
        project = Path(os.path.abspath(self.project))
        where = Path(os.path.abspath(self.path))
        return str(where.relative_to(project)) if where.is_relative_to(project) else str(where)
