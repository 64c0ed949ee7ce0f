"""The documentation's usage examples, as a user copies them. The contract is the HTML comment before each
code block (`<!-- example: github -->`, `<!-- example: gitlab -->`) in the documents readme_examples.DOCUMENTS
lists (the README, and the docs/ pages with examples): whatever a document says around them, the block
after each marker is extracted, and must be a valid workflow (GitHub) or pipeline (GitLab) that reports a
FAILED deployment to the step or job after it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from qovery_job_deploy.simulator import FAILURE_JOB

from .harness import REPO, RUNNER_TIMEOUT, Setup, run
from .readme_examples import as_workflow, documented_examples, examples, steps_using_the_action
from .runs import README_CHECK, ActJobs, Runs, readme_examples

pytestmark = pytest.mark.timeout(RUNNER_TIMEOUT + 60)
README = (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("platform", ["github", "gitlab"])
def test_readme_marks_its_examples(platform: str) -> None:
    assert examples(README, platform), f"README.md has no `<!-- example: {platform} -->` before its example"
    assert documented_examples(REPO, platform)  # and no document's marker lacks its block


# --- GitHub -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("example", readme_examples("github"), ids=lambda example: "readme")
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


@pytest.fixture(scope="module")
def github_examples(runs: Runs) -> tuple[ActJobs, list[int]]:
    """The documentation's GitHub examples as the jobs of one act run, each against its own simulator (runs.py
    says how each is run), and by example how many steps after the action read its outputs."""
    return runs.readme_github.result()


@pytest.mark.parametrize(
    "number", range(len(readme_examples("github"))), ids=lambda number: f"readme{number}"
)
def test_github_example_reads_the_outputs_after_a_failure(
    number: int, github_examples: tuple[ActJobs, list[int]]
) -> None:
    """Run as written, under act, against a failing deployment: the steps after the action that read its
    outputs must run (`if: always()`) and see the failed state."""
    done, all_readers = github_examples
    done.act.run.assert_no_token()
    readers = all_readers[number]
    assert readers, "no step after the action reads its outputs"
    log = done.act.log(f"example-{number}")
    assert "Job failed" in log, f"the failed deployment did not fail the job\n{log[-4000:]}"
    for reader in range(readers):
        assert f"{README_CHECK}-{reader} state=DEPLOYMENT_ERROR" in log, (
            f"step {reader + 1} after the action did not run after the failure, or did not see its outputs\n"
            f"{log[-4000:]}"
        )
    assert len(done.sims[f"example-{number}"].deployments_of(FAILURE_JOB)) == 1


# --- GitLab -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", range(len(readme_examples("gitlab"))), ids=lambda number: "readme")
def test_gitlab_example_reports_a_failed_deployment_to_the_next_job(number: int, runs: Runs) -> None:
    """Run as written, under gitlab-ci-local, against a failing deployment (runs.py says what is substituted):
    the deploy job fails, and every job that `needs:` it runs and sees the failed state in its dotenv report."""
    done, followers = runs.readme_gitlab[number].result()
    result, sim = done.result, done.sim
    result.assert_no_token()
    assert result.code != 0, (
        f"gitlab-ci-local exited 0: the failed deployment did not fail its job\n{result.tail(60)}"
    )
    [request] = sim.deployments_of(FAILURE_JOB)
    for reader, name in enumerate(followers):
        assert f"{README_CHECK}-{reader} state=DEPLOYMENT_ERROR request={request.id}" in result.stdout, (
            f"{name} did not run after the failure, or the dotenv report did not reach it "
            f"(artifacts: when: always, and when: always on {name})\n{result.tail(60)}"
        )
