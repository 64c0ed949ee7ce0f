"""The action under nektos/act, a real GitHub Actions runner emulator: `uses: ./` in the workflows of
tests/e2e/github/, against the simulator."""

from __future__ import annotations

import dataclasses
import re
import uuid
from pathlib import Path

import pytest
from support.sims import SimFactory

from qovery_job_deploy.simulator import (
    API_CONTAINER,
    BROKEN_APPLICATION,
    FAILURE_JOB,
    HOSTILE_LOG_JOB,
    POSTGRES_DATABASE,
    SUCCESS_JOB,
    WEB_APPLICATION,
    QoverySimulator,
)

from .conftest import BuiltImage
from .harness import (
    PODMAN_PROC_RACE,
    RUNNER_TIMEOUT,
    VAR_TOKEN,
    PodmanRaced,
    Run,
    act_repo,
    commit_all,
    metric,
    once_more_if_podman_raced,
    podman,
    unless_podman_raced,
)
from .runners import Act
from .runs import SHARED_WORKFLOWS, ActJobs, Runs

pytestmark = pytest.mark.timeout(RUNNER_TIMEOUT + 60)
SUCCESS_WORKFLOW = "tests/e2e/github/deploy-success.yml"
ACT_BUILT_IMAGE = "act-dockeraction:latest"  # what act tags the image it builds for `uses: ./`


def assert_success(result: Run, sim: QoverySimulator) -> None:
    result.assert_no_token()
    log = result.stdout + result.stderr
    assert result.code == 0, result.tail(60)
    assert "E2E-CHECK-OK outputs" in log, "the step checking outputs.state == DEPLOYED did not pass"
    assert "Job succeeded" in log
    # act prints what the step wrote to GITHUB_STEP_SUMMARY as "Summary - ..." lines.
    assert "Summary - " in log, "no step summary (GITHUB_STEP_SUMMARY not written?)"
    assert len(sim.deployments_of(SUCCESS_JOB)) == 1


@pytest.fixture(scope="module")
def shared(runs: Runs) -> ActJobs:
    """The jobs of runs.SHARED_WORKFLOWS side by side in one act run, in the release form of the action; by job,
    the simulator of the job's workflow."""
    done = runs.act_shared.result()
    jobs = done.act.workflow["jobs"]
    metric(f"act: {len(jobs)} jobs of {len(SHARED_WORKFLOWS)} workflows in one run (s)", done.act.run.seconds)
    return done


def test_failed_deployment_fails_the_job_and_keeps_outputs(shared: ActJobs) -> None:
    shared.act.run.assert_no_token()
    log = shared.act.log("failure")
    assert "Job failed" in log, f"the failed deployment did not fail the job\n{log[-4000:]}"
    assert "Failure - Main ./" in log, "the action's step did not fail"
    assert "E2E-CHECK-OK failure-outputs" in log, "outputs.state of the failed step is not DEPLOYMENT_ERROR"
    assert len(shared.sims["failure"].deployments_of(FAILURE_JOB)) == 1


def test_a_hostile_deployment_log_runs_no_runner_command(shared: ActJobs) -> None:
    """Issue 10's rules under a real runner emulator: the log lines are shown, none acts as a command."""
    shared.act.run.assert_no_token()
    log = shared.act.log("hostile-log")
    assert "Job failed" in log, log[-4000:]
    assert "E2E-CHECK-OK hostile-log" in log, log[-4000:]
    assert "state=DEPLOYMENT_ERROR" in log  # `::add-mask::DEPLOYED` from the log did not run
    assert "::add-mask::DEPLOYED" in log  # shown, as text, inside the stop-commands frame
    assert "Check the job's output above" in log  # Qovery's hint, in the annotation and the log
    assert len(shared.sims["hostile-log"].deployments_of(HOSTILE_LOG_JOB)) == 1


def test_token_from_a_plain_variable_is_masked_by_the_step(shared: ActJobs) -> None:
    # VAR_TOKEN is no secret of the run, which act would mask itself: only the step's own `::add-mask::` keeps
    # it out of the log (assert_no_token scans for it).
    shared.act.run.assert_no_token()
    log = shared.act.log("token-var")
    assert "Job succeeded" in log, log[-4000:]
    assert "E2E-CHECK-OK token-not-secret" in log
    sim = shared.sims["token-var"]
    sent = {
        value
        for exchange in sim.exchanges
        for key, value in exchange.headers.items()
        if key.lower() == "authorization"
    }
    assert sent == {f"Token {VAR_TOKEN}"}, "the step did not deploy with the variable's token"
    assert len(sim.deployments_of(SUCCESS_JOB)) == 1


def test_a_job_level_env_gives_the_step_its_api_url(shared: ActJobs) -> None:
    """Issue 18, item 4: action.yml sets no `default:`, so QOVERY_API_URL from a job's `env:` applies. No job has
    `api-url` in `with:` and act passes no URL: each step reached its own simulator, and says where the URL came
    from."""
    for job, spec in shared.act.workflow["jobs"].items():
        [step] = [step for step in spec["steps"] if step.get("uses") == "./"]
        assert "api-url" not in step["with"], job
        log = shared.act.log(job)
        inputs = [line for line in log.splitlines() if "] Inputs: " in line]
        sim = shared.sims[job]
        assert len(inputs) == 1 and f"api-url `{sim.url}` from " in inputs[0], f"{job}\n{log[-4000:]}"
        assert "QOVERY_API_URL" in inputs[0].split("api-url ", 1)[1], inputs[0]
        assert sim.exchanges, f"{job}'s step never reached its simulator"


def test_a_release_succeeds_and_another_stops_at_a_failed_build(shared: ActJobs) -> None:
    """tests/e2e/github/deploy-release.yml, two jobs at once: `release` deploys the migrate job, the api container
    and the web application by name, each with its own value, and succeeds; `release-fails` deploys the postgres
    database, stops at web-broken's failed build, skips api and fails, the build log shown inside its log group."""
    shared.act.run.assert_no_token()
    released, failing = shared.act.log("release"), shared.act.log("release-fails")
    assert "E2E-CHECK-OK release-outputs" in released, released[-4000:]
    assert "E2E-CHECK-OK release-failure-outputs" in failing, failing[-4000:]
    assert "Job succeeded" in released, released[-4000:]
    assert "Job failed" in failing, f"the failed release did not fail its job\n{failing[-4000:]}"

    # One deploy per service, each with its own type's value (a database deploys its configuration, no
    # body); api, skipped by release-fails, only once.
    asked = {
        SUCCESS_JOB: {"image_tag": shared.sha},
        API_CONTAINER: {"image_tag": shared.sha},
        WEB_APPLICATION: {"git_commit_id": shared.sha},
        POSTGRES_DATABASE: None,
        BROKEN_APPLICATION: {"git_commit_id": shared.sha},
    }
    for service_id, body in asked.items():
        [deployment] = shared.sims["release"].deployments_of(service_id)
        assert deployment.asked["body"] == body, (service_id, deployment.asked)

    # `logs: live` in `release`: lines of each deployment while it ran, each service's named, framed.
    live = [line for line in released.splitlines() if re.search(r"\| (migrate|api|web) \| \S+ Deploy ", line)]
    assert live, "no live log line in the release job\n" + released[-4000:]

    # web-broken's build log, inside its group in the failing job's log.
    lines = failing.splitlines()
    begin = next(
        (i for i, line in enumerate(lines) if "::group::Qovery deployment log of web-broken" in line), None
    )
    assert begin is not None, "no log group for web-broken's deployment log\n" + failing[-4000:]
    end = next((i for i, line in enumerate(lines) if i > begin and "::endgroup::" in line), None)
    assert end is not None, "web-broken's log group is never closed\n" + "\n".join(lines[begin:])
    shown = "\n".join(lines[begin:end])
    assert "npm ERR! code ERESOLVE" in shown and "BUILD_ERROR" in shown, shown


def no_layer_cache(act: Act, directory: Path) -> Act:
    """act in a copy of its repository whose Dockerfile builds without layer cache from its builder stage
    on, as on a fresh runner (whose base image, unlike here, would also have to be pulled)."""
    repo = act_repo(directory, act.setup)
    dockerfile = repo / "Dockerfile"
    lines = dockerfile.read_text(encoding="utf-8").splitlines(keepends=True)
    builder = next(i for i, line in enumerate(lines) if re.match(r"FROM \S+ AS builder\b", line))
    lines.insert(builder + 1, f"RUN echo 'e2e: no layer cache from here on {uuid.uuid4()}'\n")
    dockerfile.write_text("".join(lines), encoding="utf-8")
    commit_all(repo, "e2e: Dockerfile without layer cache")
    return dataclasses.replace(act, repo=repo)


def start_to_first_request(run: Run, sim: QoverySimulator) -> float:
    """From act's start (the job's) to the step's first request to the API."""
    return min(exchange.received_at for exchange in sim.exchanges) - run.started_at


def test_success_with_the_dockerfile_and_with_the_prebuilt_image(
    image: BuiltImage, act: Act, act_release: Act, served_simulator: SimFactory, tmp_path: Path
) -> None:
    """Both forms of action.yml succeed and set outputs and summary: main's (`image: Dockerfile`, built by
    the runner without layer cache, as on a fresh GitHub runner) and a release's (the pre-built image by
    digest). The release form builds nothing, and its first request leaves much sooner. It runs alone (before
    the runner runs of `runs` start): its figures are start-up times."""
    attempts = iter(range(2))

    def with_the_dockerfile() -> tuple[Run, QoverySimulator]:
        podman("rmi", ACT_BUILT_IMAGE)
        sim = served_simulator()
        repo = no_layer_cache(act, tmp_path / f"repo-{next(attempts)}")
        return repo.run("act-success-dockerfile", SUCCESS_WORKFLOW, sim.url), sim

    def with_the_prebuilt_image() -> tuple[Run, QoverySimulator]:
        sim = served_simulator()
        return act_release.run("act-success-prebuilt", SUCCESS_WORKFLOW, sim.url), sim

    built, sim = once_more_if_podman_raced(with_the_dockerfile)
    assert_success(built, sim)
    assert podman("image", "exists", ACT_BUILT_IMAGE).code == 0, "act did not build the Dockerfile?"
    podman("rmi", ACT_BUILT_IMAGE)

    prebuilt, sim_prebuilt = once_more_if_podman_raced(with_the_prebuilt_image)
    assert_success(prebuilt, sim_prebuilt)
    assert podman("image", "exists", ACT_BUILT_IMAGE).code != 0, "act built an image for the release form"

    with_build = start_to_first_request(built, sim)
    without = start_to_first_request(prebuilt, sim_prebuilt)
    metric("act: job start to first request, image: Dockerfile, no layer cache (s)", with_build)
    metric("act: job start to first request, pre-built image by digest (s)", without)
    metric("act: start-up ratio, Dockerfile / pre-built", f"{with_build / without:.1f}x")
    assert without < with_build, "the pre-built image did not start sooner than building the Dockerfile"


# What act printed when podman 4.3 raced a step container's exit (a CI run's log, 2026-12-06).
RACED_LINE = (
    "[readme-github/example-0] failed to list containers: Error response from daemon: "
    "read /proc/5769/cgroup: no such process"
)


def test_podman_race_is_told_apart_and_run_once_more() -> None:
    """podman's race (harness.PODMAN_PROC_RACE) is recognised in a runner's output, the run is made once more
    from scratch, and only once; any other failure is left to the checks."""
    raced = Run("act-raced", 1, RACED_LINE + "\n", "", 0.0, 1.0)
    failed = Run("act-failed", 1, "[x/y]   ❌  Failure - Main ./\n", "", 0.0, 1.0)
    assert PODMAN_PROC_RACE.search(RACED_LINE)
    assert unless_podman_raced(failed) is failed
    with pytest.raises(PodmanRaced):
        unless_podman_raced(raced)

    made: list[Run] = []
    retried: list[str] = []  # not the session's RETRIED, which the e2e figures list

    def attempt(outcomes: list[Run]) -> Run:
        made.append(outcomes[len(made)])
        return unless_podman_raced(made[-1])

    assert once_more_if_podman_raced(lambda: attempt([raced, failed]), retried) is failed
    assert made == [raced, failed]
    assert retried == ["act-raced: podman 4.3's race: read /proc/5769/cgroup: no such process"]
    made.clear()
    with pytest.raises(PodmanRaced):
        once_more_if_podman_raced(lambda: attempt([raced, raced, failed]), retried)
    assert len(made) == 2


# What gitlab-ci-local printed, and the podman service logged, when podman 4.3 raced the copy of a job's
# artifacts (a CI run's logs, 2026-12-06).
LOST_LINE = (
    "Error: ENOENT: no such file or directory, scandir "
    "'/tmp/pytest-of-root/pytest-179/runs0/readme-gitlab-1/repo/.gitlab-ci-local/artifacts/release'"
)
COPIER_LINE = (
    'time="2026-12-06T22:45:21Z" level=error msg="error in copier subprocess: changing to intended-new-root '
    'directory \\"/var/lib/containers/storage/overlay/6dcd/merged\\": chdir '
    '/var/lib/containers/storage/overlay/6dcd/merged: no such file or directory"'
)


@pytest.mark.parametrize(
    ("printed", "service_log", "raced"),
    [
        (LOST_LINE, COPIER_LINE, True),
        (LOST_LINE, "", False),  # artifacts lost with no race logged: the step's own doing, for the checks
        (
            "artifact reports dotenv 'qovery.env' could not be found",
            COPIER_LINE,
            False,
        ),  # the directory is there
    ],
    ids=["lost in the race", "lost, no race", "no report, a race elsewhere"],
)
def test_gitlab_artifacts_lost_in_podman_s_copier_race_are_told_apart(
    printed: str, service_log: str, raced: bool
) -> None:
    run = Run("gitlab-raced", 1, printed + "\n", "", 0.0, 1.0)
    if raced:
        with pytest.raises(PodmanRaced, match="scandir"):
            unless_podman_raced(run, service_log)
    else:
        assert unless_podman_raced(run, service_log) is run
