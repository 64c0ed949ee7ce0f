"""The runner runs of the e2e checks, all started at once: act's (the four workflows' jobs, the documentation's
GitHub examples, the README's GitHub preview example on two events) and gitlab-ci-local's (the pipeline, its failing
job, the documentation's GitLab examples, the README's GitLab preview example's two jobs; these one at a time, see
`Runs._gitlab`). On this 2-core machine they mostly wait (containers starting, the deployments' timelines, the
step's polling), so they overlap well; one after another they took most of the stage. (The checks that time something run alone before them:
the image's builds and signals, act's start-up with and without building the Dockerfile.)

Each run goes in a thread of the test process, which only waits on its runner, in a copy of its repository and a
home of its own, against simulators served by processes of their own (harness.SimulatorProcess), stopped when its
run ends. The checks (test_act.py, test_gitlab.py, test_readme_examples.py) read what they need from `Runs`
(conftest's `runs`); whatever a run raises, a documented example without a deploy job say, is raised by the checks
that read it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from support.github import HEAD

from qovery_job_deploy.simulator import FAILURE_JOB

from .harness import (
    IMAGE,
    REPO,
    VAR_TOKEN,
    GitHubProcess,
    Run,
    SimulatorProcess,
    head_commit,
    once_more_if_podman_raced,
)
from .readme_examples import (
    MalformedExample,
    as_workflow,
    deploy_jobs,
    deploying_first,
    documented_examples,
    jobs_needing,
    steps_using_the_action,
)
from .runners import NO_GITHUB, Act, GitlabCiLocal, JobsRun

T = TypeVar("T")

README_CHECK = "E2E-README-CHECK"  # what the documented examples' steps and jobs after the deployment echo
GITLAB_PIPELINE = "tests/e2e/gitlab/.gitlab-ci.yml"
# The documented GitHub examples run as a pull request's jobs (act --eventpath): pull request 7, its head commit.
PULL_REQUEST = 7
PULL_REQUEST_EVENT = {
    "number": PULL_REQUEST,
    "pull_request": {
        "number": PULL_REQUEST,
        "head": {"sha": HEAD, "ref": "feature"},
        "base": {"ref": "main"},
    },
}
# The README's preview example on GitHub runs as that pull request's life: opened (its deploy job), then closed
# (its cleanup job), the payload's `action` telling them apart.
PREVIEW_ACTIONS = ("opened", "closed")
# These workflows' jobs run side by side in one act run, in the release form of the action (the pre-built image,
# nothing built; main's form, `image: Dockerfile`, is covered by test_act.py's success check). Every job keeps
# its id (unique across the files) and reaches its workflow's own simulator through a job-level
# `env: QOVERY_API_URL` alone.
SHARED_WORKFLOWS = (
    "deploy-failure.yml",
    "deploy-hostile-log.yml",
    "deploy-token-not-secret.yml",
    "deploy-release.yml",
)


def readme_examples(platform: str) -> list[str]:
    """The documentation's examples for `platform` (readme_examples.DOCUMENTS); none when a document is
    malformed, which test_readme_marks_its_examples then says (not the collection of every test run)."""
    try:
        return documented_examples(REPO, platform)
    except MalformedExample:
        return []


@dataclass(frozen=True)
class ActJobs:
    """An act run of several jobs (Act.run_jobs), and by job the simulator it reached."""

    act: JobsRun
    sims: dict[str, SimulatorProcess]
    sha: str  # github.sha in the run: the image tag and the commit a release deploys
    github: GitHubProcess | None = None  # the fake GitHub API the run's GITHUB_API_URL named, if any


@dataclass(frozen=True)
class PreviewRuns:
    """The GitHub preview example's act runs, by the pull request's action (PREVIEW_ACTIONS), against one simulator
    with staging, the blueprint, and one fake GitHub: what the first run made, the second deletes."""

    runs: dict[str, JobsRun]
    sim: SimulatorProcess
    github: GitHubProcess


@dataclass(frozen=True)
class GitlabRun:
    """A gitlab-ci-local run, the simulator it reached, and the repository it ran in (its artifacts are there)."""

    result: Run
    sim: SimulatorProcess
    repo: Path


@dataclass(frozen=True)
class GitlabPreviewRuns:
    """The GitLab preview example's gitlab-ci-local runs, by job (the review job, then its stop job), in one
    repository (the review job's artifacts are there) against one simulator with staging, the blueprint."""

    runs: dict[str, Run]
    sim: SimulatorProcess
    repo: Path


@dataclass(frozen=True)
class Runners:
    """What the runs are run with: the session's fixtures."""

    act_release: Act  # a release's action.yml (the image just built, by digest)
    gitlab: GitlabCiLocal
    scratch: Path  # a directory of their own for the runs' copies


class Launch(Generic[T]):
    """One run, started by `start()` (or by the first `result()`) in a thread of the pool."""

    def __init__(self, module: str, pool: ThreadPoolExecutor, run: Callable[[], T]) -> None:
        self.module = module  # the checks that read it: started at once only when some of them are selected
        self._pool, self._run = pool, run
        self._future: Future[T] | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._future is None:
                self._future = self._pool.submit(once_more_if_podman_raced, self._run)

    def result(self) -> T:
        self.start()
        assert self._future is not None
        return self._future.result()


class Runs:
    """Every runner run of the session, each a `Launch`; `start` starts those the selected checks read."""

    def __init__(self, runners: Runners, pool: ThreadPoolExecutor) -> None:
        self.runners = runners
        self.sims: list[SimulatorProcess] = []  # each one started, for the contract check at the end
        self.githubs: list[GitHubProcess] = []  # likewise
        self._gitlab_turn = threading.Lock()
        self.act_shared = Launch("test_act", pool, self._act_shared)
        self.gitlab_pipeline = Launch("test_gitlab", pool, self._gitlab_pipeline)
        self.gitlab_failure = Launch("test_gitlab", pool, self._gitlab_failure)
        self.readme_github = Launch("test_readme_examples", pool, self._readme_github)
        self.readme_github_preview = Launch("test_readme_examples", pool, self._readme_github_preview)
        self.readme_gitlab_preview = Launch("test_readme_examples", pool, self._readme_gitlab_preview)
        self.readme_gitlab = [
            Launch("test_readme_examples", pool, functools.partial(self._readme_gitlab, number))
            for number in range(len(readme_examples("gitlab")))
        ]

    def start(self, modules: set[str]) -> None:
        launches: list[Launch[Any]] = [self.act_shared, self.gitlab_pipeline, self.gitlab_failure,
                                       self.readme_github, self.readme_github_preview,
                                       *self.readme_gitlab, self.readme_gitlab_preview]  # fmt: skip
        for launch in launches:
            if launch.module in modules:
                launch.start()

    def simulator(self, name: str, *, previews: bool = False) -> SimulatorProcess:
        sim = SimulatorProcess(name, previews=previews)
        self.sims.append(sim)
        return sim

    def github(self, name: str) -> GitHubProcess:
        github = GitHubProcess(name)
        self.githubs.append(github)
        return github

    def _apart(self, name: str) -> Path:
        return self.runners.scratch / name

    # -- act ---------------------------------------------------------------------------------------------

    def _act_shared(self) -> ActJobs:
        act = self.runners.act_release
        jobs: dict[str, dict[str, Any]] = {}
        sims: dict[str, SimulatorProcess] = {}
        for workflow in SHARED_WORKFLOWS:
            sim = self.simulator(f"e2e-github-{Path(workflow).stem}")
            path = REPO / "tests/e2e/github" / workflow
            for job_id, job in yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"].items():
                assert job_id not in jobs, (
                    f"{workflow}: job id {job_id} is taken by another workflow of the run"
                )
                jobs[job_id], sims[job_id] = job, sim
        # A configuration variable (act --var-file), which the runner does not mask, for deploy-token-not-secret.yml.
        variables = act.home / "act.vars"
        variables.write_text(f"QOVERY_API_TOKEN={VAR_TOKEN}\n", encoding="utf-8")
        variables.chmod(0o600)
        return self._act_jobs(act, "e2e-github", jobs, sims, "--var-file", str(variables))

    def _readme_github(self) -> tuple[ActJobs, list[int]]:
        """Each GitHub example as written, but for the action from the working tree (`uses: ./`) on the simulator's
        failing job (a release's first service); its URL comes as a job-level `env:`. The example's own lines
        untouched. With, by example, how many steps after the action read its outputs."""
        jobs: dict[str, dict[str, Any]] = {}
        readers: list[int] = []
        for number, example in enumerate(readme_examples("github")):
            workflow = as_workflow(yaml.safe_load(example))
            [(steps, index)] = steps_using_the_action(workflow)
            deploy = steps[index]
            reading = [
                step for step in steps[index + 1 :] if f"steps.{deploy.get('id')}.outputs" in str(step)
            ]
            deploy["uses"] = "./"
            deploy["with"] = deploying_first(deploy["with"], FAILURE_JOB, one="job-id", several="services")
            # act copies the working tree: nothing downloaded.
            steps.insert(0, {"uses": "actions/checkout@v4"})
            for reader, step in enumerate(reading):
                step["run"] = (
                    f"{step['run'].rstrip()}\n"
                    f'echo "{README_CHECK}-{reader} state=${{{{ steps.{deploy["id"]}.outputs.state }}}}"'
                )
            [jobs[f"example-{number}"]] = [
                job for job in workflow["jobs"].values() if steps is job.get("steps")
            ]
            readers.append(len(reading))
        sims = {job: self.simulator(f"readme-github-{job}") for job in jobs}
        # A pull request's run (the event `pull_request`, its payload's number and head commit), which the examples
        # with `github-deployment` and `pr-comment` ask for, against a fake GitHub on the loopback; the others read
        # none of it.
        event = self._apart("readme-github") / "pull_request.json"
        event.parent.mkdir(parents=True, exist_ok=True)
        event.write_text(json.dumps(PULL_REQUEST_EVENT), encoding="utf-8")
        github = self.github("readme-github-api")
        try:
            done = self._act_jobs(
                self.runners.act_release, "readme-github", jobs, sims, "--eventpath", str(event),
                event="pull_request", github_api_url=github.url,
            )  # fmt: skip
        finally:
            github.stop()
        return dataclasses.replace(done, github=github), readers

    def _readme_github_preview(self) -> PreviewRuns:
        """The README's preview example as written, but for the action from the working tree (`uses: ./`): its
        workflow run on the pull request's `opened` event (the deploy job; the cleanup job's `if:` skips it), then
        on its `closed` event (the cleanup job), each job reaching the same simulator through a job-level `env:`
        and the same fake GitHub through GITHUB_API_URL."""
        [example] = readme_examples("github-preview")
        workflow = as_workflow(yaml.safe_load(example))
        for steps, index in steps_using_the_action(workflow):
            steps[index]["uses"] = "./"
            # act copies the working tree: nothing downloaded.
            steps.insert(0, {"uses": "actions/checkout@v4"})
        jobs: dict[str, dict[str, Any]] = workflow["jobs"]
        apart = self._apart("readme-github-preview")
        apart.mkdir(parents=True, exist_ok=True)
        sim = self.simulator("readme-github-preview", previews=True)
        github = self.github("readme-github-preview-api")
        runs: dict[str, JobsRun] = {}
        try:
            for action in PREVIEW_ACTIONS:
                event = apart / f"pull_request-{action}.json"
                event.write_text(json.dumps(PULL_REQUEST_EVENT | {"action": action}), encoding="utf-8")
                runs[action] = self.runners.act_release.run_jobs(
                    f"readme-github-preview-{action}", jobs, dict.fromkeys(jobs, sim.url),
                    "--eventpath", str(event), event="pull_request", github_api_url=github.url,
                )  # fmt: skip
        finally:
            sim.stop()
            github.stop()
        return PreviewRuns(runs, sim, github)

    def _act_jobs(
        self,
        act: Act,
        name: str,
        jobs: dict[str, dict[str, Any]],
        sims: dict[str, SimulatorProcess],
        *extra: str,
        event: str = "push",
        github_api_url: str = NO_GITHUB,
    ) -> ActJobs:
        try:
            urls = {job: sim.url for job, sim in sims.items()}
            run = act.run_jobs(name, jobs, urls, *extra, event=event, github_api_url=github_api_url)
        finally:
            for sim in sims.values():
                sim.stop()
        return ActJobs(run, sims, head_commit(run.repo))

    # -- gitlab-ci-local ---------------------------------------------------------------------------------

    def _gitlab(
        self, name: str, pipeline: str, *jobs: str, prepare: Callable[[Path], None] | None = None
    ) -> GitlabRun:
        """One gitlab-ci-local run at a time (beside act's): it copies a job's artifacts out of a helper container
        the moment that container exits, which races podman 4.3's cleanup of it (the podman service logs `error in
        copier subprocess: ... merged: no such file or directory`, and the artifacts are lost). Four runs at once,
        beside act's, lost the release's dotenv report once in five sessions; one at a time, it still happens
        now and then, and the run is made once more (harness.GITLAB_ARTIFACTS_LOST)."""
        gitlab = self.runners.gitlab.apart(self._apart(name))
        if prepare is not None:
            prepare(gitlab.repo)
        with self._gitlab_turn:
            sim = self.simulator(name)
            try:
                result = gitlab.run(name, pipeline, sim.url, *jobs)
            finally:
                sim.stop()
        return GitlabRun(result, sim, gitlab.repo)

    def _gitlab_pipeline(self) -> GitlabRun:
        """The whole pipeline: the single job (deploy, verify), then the release (release, verify-release)."""
        return self._gitlab("gitlab-pipeline", GITLAB_PIPELINE)

    def _gitlab_failure(self) -> GitlabRun:
        return self._gitlab("gitlab-failure", GITLAB_PIPELINE, "deploy-failing")

    def _readme_gitlab(self, number: int) -> tuple[GitlabRun, list[str]]:
        """A GitLab example as written, but for the image (the one built here) and the job (the simulator's failing
        one, a release's first service); the API URL and the token come as project variables. Nothing else of the
        example changes; each job after the deploy job (returned with the run) echoes what its dotenv report gave it."""
        pipeline = yaml.safe_load(readme_examples("gitlab")[number])
        deploys = deploy_jobs(pipeline)
        assert len(deploys) == 1, f"expected one job with the qovery-job-deploy image, found {deploys}"
        [deploy] = deploys
        followers = jobs_needing(pipeline, deploy)
        assert followers, f"no job `needs: [{deploy}]`: nothing shows that the report reaches a later job"
        job = pipeline[deploy]
        if isinstance(job["image"], dict):
            job["image"]["name"] = IMAGE
        else:
            job["image"] = IMAGE
        job["variables"] = deploying_first(
            job.get("variables", {}), FAILURE_JOB, one="QOVERY_JOB_ID", several="QOVERY_SERVICES"
        )
        for reader, name in enumerate(followers):
            pipeline[name]["script"].append(
                f'echo "{README_CHECK}-{reader} state=$QOVERY_STATE request=$QOVERY_DEPLOYMENT_REQUEST_ID"'
            )

        def write(repo: Path) -> None:
            (repo / "readme-example.gitlab-ci.yml").write_text(
                yaml.safe_dump(pipeline, sort_keys=False), encoding="utf-8"
            )

        run = self._gitlab(f"readme-gitlab-{number}", "readme-example.gitlab-ci.yml", prepare=write)
        return run, followers

    def _readme_gitlab_preview(self) -> GitlabPreviewRuns:
        """The README's preview example as written, but for the image (the one built here) in both jobs; the API
        URL and the token come as project variables, CI_PIPELINE_SOURCE as a merge request's pipeline would have
        it (the jobs' `rules:`). The review job runs, then its stop job (`gitlab-ci-local stop-review`, as GitLab
        runs it when the branch goes), in the same repository against the same simulator; one gitlab-ci-local run
        at a time (`_gitlab`)."""
        [example] = readme_examples("gitlab-preview")
        pipeline = yaml.safe_load(example)
        jobs = deploy_jobs(pipeline)
        assert len(jobs) == 2, f"expected a review job and its stop job, found {jobs}"
        for job in jobs:
            image = pipeline[job]["image"]
            pipeline[job]["image"] = image | {"name": IMAGE} if isinstance(image, dict) else IMAGE
        [review] = [job for job in jobs if pipeline[job]["environment"].get("on_stop")]
        order = [review, pipeline[review]["environment"]["on_stop"]]
        gitlab = self.runners.gitlab.apart(self._apart("readme-gitlab-preview"))
        (gitlab.repo / "readme-preview.gitlab-ci.yml").write_text(
            yaml.safe_dump(pipeline, sort_keys=False), encoding="utf-8"
        )
        runs: dict[str, Run] = {}
        with self._gitlab_turn:
            sim = self.simulator("readme-gitlab-preview", previews=True)
            try:
                for job in order:
                    runs[job] = gitlab.run(
                        f"readme-gitlab-preview-{job}", "readme-preview.gitlab-ci.yml", sim.url, job,
                        predefined={"CI_PIPELINE_SOURCE": "merge_request_event"},
                    )  # fmt: skip
            finally:
                sim.stop()
        return GitlabPreviewRuns(runs, sim, gitlab.repo)
