"""GitHub Actions' step summary: the Markdown of `summary.py`, appended to GITHUB_STEP_SUMMARY."""

from __future__ import annotations

from qovery_job_deploy.outcome import RunOutcome
from qovery_job_deploy.publishers import Target, append_file, attempt
from qovery_job_deploy.summary import summary_markdown


class GitHubSummary:
    def __init__(self, target: Target) -> None:
        self.path = target.environ.get("GITHUB_STEP_SUMMARY")

    def publish(self, outcome: RunOutcome) -> list[str]:
        problems: list[str] = []
        if path := self.path:
            attempt(problems, "the step summary", lambda: append_file(path, summary_markdown(outcome)))
        return problems
