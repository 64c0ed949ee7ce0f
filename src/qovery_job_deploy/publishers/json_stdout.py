"""The JSON result as the only thing on stdout (`docker run ... > result.json`, a terminal, any runner)."""

from __future__ import annotations

from qovery_job_deploy.outcome import RunOutcome
from qovery_job_deploy.publishers import Target, attempt
from qovery_job_deploy.results import result_json


class JsonOnStdout:
    def __init__(self, target: Target) -> None:
        self.stdout = target.stdout

    def publish(self, outcome: RunOutcome) -> list[str]:
        problems: list[str] = []
        attempt(problems, "the JSON result", lambda: self._print(result_json(outcome)))
        return problems

    def _print(self, line: str) -> None:
        self.stdout.write(line + "\n")
        self.stdout.flush()
