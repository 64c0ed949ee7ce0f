"""GitHub Actions' step outputs: the file at GITHUB_OUTPUT, every value in a heredoc."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from qovery_job_deploy.outcome import RunOutcome
from qovery_job_deploy.publishers import Target, append_file, attempt
from qovery_job_deploy.results import outputs


def format_outputs(values: Mapping[str, str]) -> str:
    """The GITHUB_OUTPUT format, every value in a heredoc with a random delimiter.

    The runner splits on LF only and needs the delimiter alone on a line, so a value that contained it
    would end early and break the file: pick another delimiter in that (astronomically rare) case.
    """
    chunks = []
    for name, value in values.items():
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
        while delimiter in value or delimiter in name:
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
        chunks.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return "".join(chunks)


class GitHubOutputs:
    def __init__(self, target: Target) -> None:
        self.path = target.environ.get("GITHUB_OUTPUT")

    def publish(self, outcome: RunOutcome) -> list[str]:
        problems: list[str] = []
        if path := self.path:
            attempt(problems, "GITHUB_OUTPUT", lambda: append_file(path, format_outputs(outputs(outcome))))
        return problems
