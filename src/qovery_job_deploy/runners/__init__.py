"""One row per CI platform: how the run is presented in its log (a presenter, one module per way of talking
to the runner) and where its outcome is published (`publishers/`). `RUNNERS` is the one table; a new
destination is one publisher module and one entry in a row. A publisher that tracks the run (a GitHub
deployment record) is an entry like the others: the row's publishers are made before the run, and those
that are trackers are told of its events (`publishers.told`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from qovery_job_deploy.inputs.names import platform_of
from qovery_job_deploy.publishers import Publisher, Target
from qovery_job_deploy.publishers.github_deployment import GitHubDeployment
from qovery_job_deploy.publishers.github_outputs import GitHubOutputs
from qovery_job_deploy.publishers.github_summary import GitHubSummary
from qovery_job_deploy.publishers.gitlab_dotenv import DotenvReport
from qovery_job_deploy.publishers.gitlab_result import ResultFile
from qovery_job_deploy.publishers.json_stdout import JsonOnStdout
from qovery_job_deploy.publishers.pr_comment import PullRequestComment
from qovery_job_deploy.runners.github import GitHubPresenter
from qovery_job_deploy.runners.gitlab import GitLabPresenter
from qovery_job_deploy.runners.plain import PlainPresenter

__all__ = ["RUNNERS", "GitHubPresenter", "GitLabPresenter", "PlainPresenter", "Runner", "runner_of"]


@dataclass(frozen=True)
class Runner:
    presenter: type[PlainPresenter]
    publishers: tuple[type[Publisher], ...]  # in the order they write

    def publishers_for(self, target: Target) -> list[Publisher]:
        return [publisher(target) for publisher in self.publishers]


# Each platform of `inputs.names.PLATFORMS` (whose words the messages use).
RUNNERS: dict[str, Runner] = {
    "github": Runner(GitHubPresenter, (GitHubOutputs, GitHubSummary, GitHubDeployment, PullRequestComment)),
    "gitlab": Runner(GitLabPresenter, (DotenvReport, ResultFile)),
    "plain": Runner(PlainPresenter, (JsonOnStdout,)),
}


def runner_of(environ: Mapping[str, str]) -> Runner:
    return RUNNERS[platform_of(environ).name]
