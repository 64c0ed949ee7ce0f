"""A GitLab pipeline under gitlab-ci-local, a real GitLab CI runner emulator (tests/e2e/gitlab/): the
dotenv report reaches a `needs:` job; a failed deployment fails its job."""

from __future__ import annotations

import re

import pytest
from support.runner_files import parse_dotenv
from support.sims import SimFactory

from qovery_job_deploy.simulator import FAILURE_JOB, SUCCESS_JOB

from .conftest import BuiltImage
from .harness import RUNNER_TIMEOUT, TOKEN, metric
from .runners import GitlabCiLocal

pytestmark = pytest.mark.timeout(RUNNER_TIMEOUT + 60)
PIPELINE = "tests/e2e/gitlab/.gitlab-ci.yml"


def test_dotenv_report_reaches_the_needs_job(
    image: BuiltImage, gitlab_ci_local: GitlabCiLocal, served_simulator: SimFactory
) -> None:
    sim = served_simulator()
    result = gitlab_ci_local.run("gitlab-pipeline", PIPELINE, sim.url)
    metric("gitlab-ci-local: deploy + verify pipeline (s)", result.seconds)
    result.assert_no_token()
    assert result.code == 0, result.tail(60)
    assert "E2E-CHECK-OK dotenv" in result.stdout, "the needs: job did not see QOVERY_STATE=DEPLOYED"
    [request] = sim.deployments_of(SUCCESS_JOB)

    # The report as GitLab parses it (KEY=VALUE lines, under 5 KB: parse_dotenv asserts GitLab's rules).
    [report] = (gitlab_ci_local.repo / ".gitlab-ci-local" / "artifacts" / "deploy").rglob("qovery.env")
    assert TOKEN not in report.read_text(encoding="utf-8")
    values = parse_dotenv(report)
    assert len(values) <= 20, "GitLab takes at most 20 variables from a dotenv report"
    assert values["QOVERY_STATE"] == "DEPLOYED"
    assert values["QOVERY_DEPLOYMENT_REQUEST_ID"] == request.id


def test_failed_deployment_fails_the_job(
    image: BuiltImage, gitlab_ci_local: GitlabCiLocal, served_simulator: SimFactory
) -> None:
    sim = served_simulator()
    result = gitlab_ci_local.run("gitlab-failure", PIPELINE, sim.url, "deploy-failing")
    result.assert_no_token()
    assert result.code != 0, (
        f"gitlab-ci-local exited 0: the failed deployment did not fail the job\n{result.tail(60)}"
    )
    assert re.search(r"FAIL +deploy-failing", result.stdout), "deploy-failing was not reported as failed"
    assert len(sim.deployments_of(FAILURE_JOB)) == 1
