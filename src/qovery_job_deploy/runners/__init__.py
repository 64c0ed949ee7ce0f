"""One module per way of talking to a CI runner; `detect` picks the one for the current environment."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from qovery_job_deploy.inputs.names import platform_of
from qovery_job_deploy.runners.github import GitHubRunner
from qovery_job_deploy.runners.gitlab import GitLabRunner
from qovery_job_deploy.runners.plain import Runner

__all__ = ["GitHubRunner", "GitLabRunner", "Runner", "detect"]


# The runner of each platform (`inputs.names.PLATFORMS`, whose words the messages use).
RUNNERS: dict[str, type[Runner]] = {"github": GitHubRunner, "gitlab": GitLabRunner, "plain": Runner}


def detect(environ: Mapping[str, str], stdout: TextIO, dotenv_file: Path | None = None) -> Runner:
    """The runner of this environment's platform. Made twice by `main`: first to mask the token and report
    input errors, before the settings exist; then from the settings (the `dotenv-file` input)."""
    return RUNNERS[platform_of(environ).name](environ, stdout, dotenv_file)
