"""A GitLab pipeline under gitlab-ci-local, a real GitLab CI runner emulator (tests/e2e/gitlab/): the
dotenv reports of a single job's deployment and of a release reach their `needs:` jobs, and so does the
JSON result file as an artifact; a failed deployment fails its job."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.runner_files import parse_dotenv, parse_result_file

from qovery_job_deploy.simulator import API_CONTAINER, FAILURE_JOB, SUCCESS_JOB, WEB_APPLICATION

from .harness import RUNNER_TIMEOUT, TOKEN, Run, SimulatorProcess, head_commit, metric
from .runs import Runs

pytestmark = pytest.mark.timeout(RUNNER_TIMEOUT + 60)


@dataclass(frozen=True)
class Pipeline:
    result: Run
    sim: SimulatorProcess
    commit: str  # CI_COMMIT_SHA
    artifacts: Path  # gitlab-ci-local's, one directory per job

    def report(self, job: str) -> dict[str, str]:
        """A job's dotenv report as GitLab parses it (KEY=VALUE lines, under 5 KB: parse_dotenv asserts
        GitLab's rules), at most 20 variables and without the token."""
        [path] = (self.artifacts / job).rglob("qovery.env")
        assert TOKEN not in path.read_text(encoding="utf-8")
        values = parse_dotenv(path)
        assert len(values) <= 20, "GitLab takes at most 20 variables from a dotenv report"
        return values

    def result_file(self, job: str) -> dict[str, Any]:
        """A job's qovery-result.json, kept by `artifacts: paths:` (one JSON line, ASCII), without the token."""
        [path] = (self.artifacts / job).rglob("qovery-result.json")
        assert TOKEN not in path.read_text(encoding="utf-8")
        return parse_result_file(path)


@pytest.fixture(scope="module")
def pipeline(runs: Runs) -> Pipeline:
    """The whole pipeline, run once for the checks of its two deployments: the single job (deploy, verify),
    then the release (release, verify-release)."""
    done = runs.gitlab_pipeline.result()
    metric("gitlab-ci-local: deploy, verify, release, verify-release pipeline (s)", done.result.seconds)
    done.result.assert_no_token()
    return Pipeline(
        done.result, done.sim, head_commit(done.repo), done.repo / ".gitlab-ci-local" / "artifacts"
    )


def test_dotenv_report_reaches_the_needs_job(pipeline: Pipeline) -> None:
    result = pipeline.result
    assert result.code == 0, result.tail(60)
    assert "E2E-CHECK-OK dotenv" in result.stdout, "the needs: job did not see QOVERY_STATE=DEPLOYED"
    request = pipeline.sim.deployments_of(SUCCESS_JOB)[0]  # the release deploys migrate after it

    values = pipeline.report("deploy")
    assert values["QOVERY_STATE"] == "DEPLOYED"
    assert values["QOVERY_DEPLOYMENT_REQUEST_ID"] == request.id


def test_json_result_is_an_artifact_the_needs_job_reads(pipeline: Pipeline) -> None:
    """qovery-result.json, beside the dotenv report, reaches the `needs:` job through `artifacts: paths:`;
    the job log has the line saying where it is, not the JSON."""
    result = pipeline.result
    assert result.code == 0, result.tail(60)
    assert "E2E-CHECK-OK result-file" in result.stdout, "the needs: job did not read qovery-result.json"
    job_log = result.stdout + result.stderr  # gitlab-ci-local passes each job's stderr on as its own
    assert re.search(r"^deploy +> \[ *\d+s\] The JSON result is in qovery-result\.json \(", job_log, re.M)
    assert '"deployment_request_id":' not in job_log  # the log is for people
    request = pipeline.sim.deployments_of(SUCCESS_JOB)[0]
    assert pipeline.result_file("deploy")["deployment_request_id"] == request.id
    release = pipeline.result_file("release")
    assert [(s["name"], s["verdict"]) for s in release["services"]] == [
        ("migrate", "succeeded"),
        ("api", "succeeded"),
        ("web", "succeeded"),
    ]


def test_release_report_reaches_the_needs_job(pipeline: Pipeline) -> None:
    """A job, a container and an application in one step: the verdict and each service's keys reach the
    `needs:` job; each service was deployed once, with its own type's value."""
    result = pipeline.result
    assert result.code == 0, result.tail(60)
    assert "E2E-CHECK-OK release-dotenv" in result.stdout, (
        "the needs: job did not see QOVERY_VERDICT=succeeded and each service's QOVERY_<TYPE>_<NAME>_STATE"
    )
    sim, commit = pipeline.sim, pipeline.commit
    migrate = sim.deployments_of(SUCCESS_JOB)
    assert len(migrate) == 2, "the single job's deployment and the release's"
    [api] = sim.deployments_of(API_CONTAINER)
    [web] = sim.deployments_of(WEB_APPLICATION)
    assert migrate[1].asked["body"] == {"image_tag": commit}
    assert api.asked["body"] == {"image_tag": commit}
    assert web.asked["body"] == {"git_commit_id": commit}

    values = pipeline.report("release")
    assert values["QOVERY_VERDICT"] == "succeeded"
    for prefix in ("JOB_MIGRATE", "CONTAINER_API", "APPLICATION_WEB"):
        assert values[f"QOVERY_{prefix}_VERDICT"] == "succeeded"
        assert values[f"QOVERY_{prefix}_STATE"] == "DEPLOYED"
    # GitLab reads 20 variables: each URL comes before the request ids, of which the first service's fits.
    assert values["QOVERY_JOB_MIGRATE_DEPLOYMENT_REQUEST_ID"] == migrate[1].id
    assert values["QOVERY_URL"] == values["QOVERY_CONTAINER_API_URL"] != ""
    assert values["QOVERY_APPLICATION_WEB_URL"] != ""
    assert len(values) == 20


def test_failed_deployment_fails_the_job(runs: Runs) -> None:
    done = runs.gitlab_failure.result()
    result, sim = done.result, done.sim
    result.assert_no_token()
    assert result.code != 0, (
        f"gitlab-ci-local exited 0: the failed deployment did not fail the job\n{result.tail(60)}"
    )
    assert re.search(r"FAIL +deploy-failing", result.stdout), "deploy-failing was not reported as failed"
    assert len(sim.deployments_of(FAILURE_JOB)) == 1
