"""One module per way of talking to a CI runner; `detect` picks the one for the current environment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TextIO

from qovery_job_deploy.runners.github import GitHubRunner
from qovery_job_deploy.runners.gitlab import GitLabRunner
from qovery_job_deploy.runners.plain import Runner

__all__ = ["GitHubRunner", "GitLabRunner", "Runner", "detect"]


def detect(environ: Mapping[str, str], stdout: TextIO) -> Runner:
    if environ.get("GITHUB_ACTIONS") == "true":
        return GitHubRunner(environ, stdout)
    if environ.get("GITLAB_CI") == "true":
        return GitLabRunner(environ, stdout)
    return Runner(environ, stdout)
