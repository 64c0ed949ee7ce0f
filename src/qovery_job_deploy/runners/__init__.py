"""One module per way of talking to a CI runner; `detect` picks the one for the current environment."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from qovery_job_deploy.runners.github import GitHubRunner
from qovery_job_deploy.runners.gitlab import GitLabRunner
from qovery_job_deploy.runners.plain import Runner

__all__ = ["GitHubRunner", "GitLabRunner", "Runner", "detect"]


def detect(environ: Mapping[str, str], stdout: TextIO, dotenv_file: Path | None = None) -> Runner:
    """The runner of this environment. Made twice by `main`: first to mask the token and report input
    errors, before the settings exist; then from the settings (the `dotenv-file` input)."""
    if environ.get("GITHUB_ACTIONS") == "true":
        return GitHubRunner(environ, stdout, dotenv_file)
    if environ.get("GITLAB_CI") == "true":
        return GitLabRunner(environ, stdout, dotenv_file)
    return Runner(environ, stdout, dotenv_file)
