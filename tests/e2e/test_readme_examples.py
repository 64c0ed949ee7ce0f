"""The documentation's usage examples, as a user copies them. The contract is the HTML comment before each
code block (`<!-- example: github -->`, `<!-- example: gitlab -->`) in the documents readme_examples.DOCUMENTS
lists (the README, and the docs/ pages with examples): whatever a document says around them, the block
after each marker is extracted, and must be a valid workflow (GitHub) or pipeline (GitLab) that reports a
FAILED deployment to the step or job after it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from support.sims import SimFactory

from qovery_job_deploy.simulator import FAILURE_JOB, QoverySimulator

from .conftest import BuiltImage
from .harness import IMAGE, REPO, RUNNER_TIMEOUT, Setup, run
from .readme_examples import (
    MalformedExample,
    as_workflow,
    deploy_jobs,
    deploying_first,
    documented_examples,
    examples,
    jobs_needing,
    steps_using_the_action,
)
from .runners import Act, GitlabCiLocal, JobsRun

pytestmark = pytest.mark.timeout(RUNNER_TIMEOUT + 60)
README = (REPO / "README.md").read_text(encoding="utf-8")
CHECK = "E2E-README-CHECK"


def collected(platform: str) -> list[str]:
    """For parametrize, at collection: a malformed document fails test_readme_marks_its_examples, not the
    collection of every test run."""
    try:
        return documented_examples(REPO, platform)
    except MalformedExample:
        return []


@pytest.mark.parametrize("platform", ["github", "gitlab"])
def test_readme_marks_its_examples(platform: str) -> None:
    assert examples(README, platform), f"README.md has no `<!-- example: {platform} -->` before its example"
    assert documented_examples(REPO, platform)  # and no document's marker lacks its block


# --- GitHub -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("example", collected("github"), ids=lambda example: "readme")
def test_github_example_lints_like_the_workflows(example: str, setup: Setup, tmp_path: Path) -> None:
    # The README's one placeholder, `<owner>`, filled in as a user would: zizmor reads it as a pattern.
    workflow = as_workflow(yaml.safe_load(example.replace("<owner>", "example-owner")))
    uses = {steps[index]["uses"] for steps, index in steps_using_the_action(workflow)}
    assert uses, "the GitHub example does not use the action (`uses: <owner>/qovery-job-deploy@<ref>`)"
    path = tmp_path / ".github" / "workflows" / "readme-example.yml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(workflow, sort_keys=False), encoding="utf-8")

    schema = run("readme-github-schema", [setup.lint_bin / "check-jsonschema", "--builtin-schema",
                 "vendor.github-workflows", path], timeout=60)  # fmt: skip
    assert schema.code == 0, schema.tail()
    # The README shows the action by its major tag (`@v1`), which the release workflow moves, on purpose;
    # every other action in an example must be pinned by SHA, as zizmor wants.
    config = tmp_path / "zizmor.yml"
    policies = {use.split("@")[0]: "ref-pin" for use in uses}
    config.write_text(yaml.safe_dump({"rules": {"unpinned-uses": {"config": {"policies": policies}}}}))
    audit = run("readme-github-zizmor", [setup.lint_bin / "zizmor", "--offline", "--no-progress", "--config",
                config, path], timeout=60)  # fmt: skip
    assert audit.code == 0, audit.tail()


@dataclass(frozen=True)
class GithubExamples:
    """The README's GitHub examples as the jobs of one act run (act starts once), each against its own simulator."""

    act: JobsRun
    readers: list[int]  # by example: how many steps after the action read its outputs
    sims: list[QoverySimulator]


@pytest.fixture(scope="module")
def github_examples(
    image: BuiltImage, act_release: Act, module_served_simulator: SimFactory
) -> GithubExamples:
    """Each example as written, but for the action from the working tree (`uses: ./`) on the simulator's failing
    job (a release's first service); its URL comes as a job-level `env:`. The example's own lines untouched."""
    jobs, readers, sims = {}, [], []
    for number, example in enumerate(collected("github")):
        workflow = as_workflow(yaml.safe_load(example))
        [(steps, index)] = steps_using_the_action(workflow)
        deploy = steps[index]
        reading = [step for step in steps[index + 1 :] if f"steps.{deploy.get('id')}.outputs" in str(step)]
        deploy["uses"] = "./"
        deploy["with"] = deploying_first(deploy["with"], FAILURE_JOB, one="job-id", several="services")
        steps.insert(0, {"uses": "actions/checkout@v4"})  # act copies the working tree, nothing downloaded
        for reader, step in enumerate(reading):
            step["run"] = (
                f'{step["run"].rstrip()}\necho "{CHECK}-{reader} state=${{{{ steps.{deploy["id"]}.outputs.state }}}}"'
            )
        [jobs[f"example-{number}"]] = [job for job in workflow["jobs"].values() if steps is job.get("steps")]
        readers.append(len(reading))
        sims.append(module_served_simulator())
    urls = {job: sim.url for job, sim in zip(jobs, sims, strict=True)}
    return GithubExamples(act_release.run_jobs("readme-github", jobs, urls), readers, sims)


@pytest.mark.parametrize("number", range(len(collected("github"))), ids=lambda number: f"readme{number}")
def test_github_example_reads_the_outputs_after_a_failure(
    number: int, github_examples: GithubExamples
) -> None:
    """Run as written, under act, against a failing deployment: the steps after the action that read its
    outputs must run (`if: always()`) and see the failed state."""
    github_examples.act.run.assert_no_token()
    readers = github_examples.readers[number]
    assert readers, "no step after the action reads its outputs"
    log = github_examples.act.log(f"example-{number}")
    assert "Job failed" in log, f"the failed deployment did not fail the job\n{log[-4000:]}"
    for reader in range(readers):
        assert f"{CHECK}-{reader} state=DEPLOYMENT_ERROR" in log, (
            f"step {reader + 1} after the action did not run after the failure, or did not see its outputs\n"
            f"{log[-4000:]}"
        )
    assert len(github_examples.sims[number].deployments_of(FAILURE_JOB)) == 1


# --- GitLab -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("example", collected("gitlab"), ids=lambda example: "readme")
def test_gitlab_example_reports_a_failed_deployment_to_the_next_job(
    example: str, image: BuiltImage, gitlab_ci_local: GitlabCiLocal, served_simulator: SimFactory
) -> None:
    pipeline = yaml.safe_load(example)
    deploys = deploy_jobs(pipeline)
    assert len(deploys) == 1, f"expected one job with the qovery-job-deploy image, found {deploys}"
    [deploy] = deploys
    followers = jobs_needing(pipeline, deploy)
    assert followers, f"no job `needs: [{deploy}]`: nothing shows that the report reaches a later job"
    # Substituted: the image (the one built here), the job (the simulator's failing one, a release's first
    # service); the API URL and the token come as project variables. Nothing else of the example changes.
    job = pipeline[deploy]
    if isinstance(job["image"], dict):
        job["image"]["name"] = IMAGE
    else:
        job["image"] = IMAGE
    job["variables"] = deploying_first(
        job.get("variables", {}), FAILURE_JOB, one="QOVERY_JOB_ID", several="QOVERY_SERVICES"
    )
    for number, name in enumerate(followers):
        pipeline[name]["script"].append(
            f'echo "{CHECK}-{number} state=$QOVERY_STATE request=$QOVERY_DEPLOYMENT_REQUEST_ID"'
        )
    path = gitlab_ci_local.repo / "readme-example.gitlab-ci.yml"
    path.write_text(yaml.safe_dump(pipeline, sort_keys=False), encoding="utf-8")

    sim = served_simulator()
    result = gitlab_ci_local.run("readme-gitlab", path.name, sim.url)
    result.assert_no_token()
    assert result.code != 0, (
        f"gitlab-ci-local exited 0: the failed deployment did not fail its job\n{result.tail(60)}"
    )
    [request] = sim.deployments_of(FAILURE_JOB)
    for number, name in enumerate(followers):
        assert f"{CHECK}-{number} state=DEPLOYMENT_ERROR request={request.id}" in result.stdout, (
            f"{name} did not run after the failure, or the dotenv report did not reach it "
            f"(artifacts: when: always, and when: always on {name})\n{result.tail(60)}"
        )
