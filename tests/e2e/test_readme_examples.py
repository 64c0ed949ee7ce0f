"""The documentation's usage examples, as a user copies them. The contract is the HTML comment before each
code block (`<!-- example: github -->`, `<!-- example: gitlab -->`) in the documents readme_examples.DOCUMENTS
lists (the README, and the docs/ pages with examples): whatever a document says around them, the block
after each marker is extracted, and must be a valid workflow (GitHub) or pipeline (GitLab) that reports a
FAILED deployment to the step or job after it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from support.github import HEAD
from support.runner_files import parse_dotenv

from qovery_job_deploy.simulator import FAILURE_JOB, QoverySimulator
from qovery_job_deploy.simulator.environments import STAGING_ENVIRONMENT, blueprint_services
from qovery_job_deploy.simulator.routes import route
from qovery_job_deploy.simulator.scripts import Exchange

from .harness import REPO, RUNNER_TIMEOUT, TOKEN, Setup, run
from .readme_examples import as_workflow, documented_examples, examples, steps_using_the_action
from .runs import PREVIEW_ACTIONS, PULL_REQUEST, README_CHECK, ActJobs, PreviewRuns, Runs, readme_examples

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


def asks_github(example: str, which: str) -> bool:
    """Whether the example's step of this action turns on `which` (`github-deployment`, `pr-comment`)."""
    workflow = as_workflow(yaml.safe_load(example))
    return any(
        str(steps[index].get("with", {}).get(which, "")).lower() == "true"
        for steps, index in steps_using_the_action(workflow)
    )


@pytest.mark.parametrize(
    "number",
    [n for n, example in enumerate(readme_examples("github")) if asks_github(example, "github-deployment")],
    ids=lambda number: f"readme{number}",
)
def test_github_example_records_a_deployment_and_comments_on_the_pull_request(
    number: int, github_examples: tuple[ActJobs, list[int]]
) -> None:
    """The examples with `github-deployment` and `pr-comment`, run as a pull request's jobs under act (pull request
    7: its number and head commit in the event's payload; repository acme/shop, act's from the git remote) against
    the fake GitHub on the loopback, which act's containers reach as they reach the simulators (host network), with
    the fake job token: one deployment record of the pull request's head, in progress then failed (the examples
    deploy a failing job), and one comment on the pull request that says so; no token anywhere in act's output."""
    done, _ = github_examples
    done.act.run.assert_no_token()
    assert done.github is not None, "the examples' act run had no fake GitHub"
    fake = done.github.stop()
    examples = readme_examples("github")
    recording = [n for n, example in enumerate(examples) if asks_github(example, "github-deployment")]
    commenting = [n for n, example in enumerate(examples) if asks_github(example, "pr-comment")]
    assert len(recording) == 1 and commenting == recording, (
        "one fake GitHub serves the run's jobs: which job made which record or comment is unknown with several"
    )
    log = done.act.log(f"example-{number}")
    assert "Job failed" in log, f"the failed deployment did not fail the job\n{log[-4000:]}"
    assert not fake.unexpected_contract_errors(), fake.unexpected_contract_errors()
    [(record, asked)] = fake.deployments.items()
    assert asked["ref"] == HEAD, f"the record is not of the pull request's head commit: {asked}"
    assert [status["state"] for status in fake.statuses[record]] == ["in_progress", "failure"], (
        f"{fake.statuses[record]}\n{log[-4000:]}"
    )
    assert list(fake.comments) == [PULL_REQUEST], f"comments on other pull requests: {list(fake.comments)}"
    [comment] = fake.comments[PULL_REQUEST]
    assert "`failed`" in comment["body"], comment["body"]
    assert len(done.sims[f"example-{number}"].deployments_of(FAILURE_JOB)) == 1


# --- GitHub, the preview ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def github_preview(runs: Runs) -> PreviewRuns:
    return runs.readme_github_preview.result()


def test_github_preview_example_clones_deploys_then_deletes_the_preview(github_preview: PreviewRuns) -> None:
    """The README's `github-preview` example under act (runs.py says how), on pull request 7's `opened` event then
    its `closed` event, against a simulator with staging, the blueprint: the deploy job clones staging as pr-7 and
    deploys the clone (every copy of staging's services, none of staging's own), the cleanup job deletes pr-7; each job
    succeeds, the other skipped by its `if:`; no token anywhere in act's output."""
    done = github_preview
    assert list(done.runs) == list(PREVIEW_ACTIONS)
    opened, closed = done.runs["opened"], done.runs["closed"]
    for act in (opened, closed):
        act.run.assert_no_token()
    assert "Job succeeded" in opened.log("deploy"), f"{opened.run.tail(60)}"
    assert "Job succeeded" not in opened.log("cleanup"), opened.log("cleanup")[-4000:]
    assert "Job succeeded" in closed.log("cleanup"), f"{closed.run.tail(60)}"
    assert "Job succeeded" not in closed.log("deploy"), closed.log("deploy")[-4000:]
    assert opened.run.code == 0 and closed.run.code == 0

    preview_exchanges(done.sim.stop(), f"pr-{PULL_REQUEST}")


def test_github_preview_example_records_the_preview_then_makes_it_inactive(
    github_preview: PreviewRuns,
) -> None:
    """The same runs, seen from the fake GitHub on the loopback: one transient deployment record of the pull
    request's head for pr-7, in progress then successful (the deploy job), then inactive (the cleanup job), and one
    comment on the pull request, kept up to date: it says at last that the preview was deleted."""
    fake = github_preview.github.stop()
    assert not fake.unexpected_contract_errors(), fake.unexpected_contract_errors()
    [(record, asked)] = fake.deployments.items()
    assert (asked["ref"], asked["environment"], asked["transient_environment"]) == (
        HEAD,
        f"pr-{PULL_REQUEST}",
        True,
    ), asked
    assert [status["state"] for status in fake.statuses[record]] == ["in_progress", "success", "inactive"], (
        fake.statuses[record]
    )
    assert list(fake.comments) == [PULL_REQUEST], f"comments on other pull requests: {list(fake.comments)}"
    [comment] = fake.comments[PULL_REQUEST]
    assert f"pr-{PULL_REQUEST} deleted" in comment["body"], comment["body"]


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


def preview_exchanges(sim: QoverySimulator, name: str) -> tuple[str, list[Exchange]]:
    """The preview `name`'s id and, in order, its clone from staging, its deploy requests (every copy of
    staging's services: a clone is deployed whole, docs/preview.md) and its deletion, as the simulator saw them;
    each answered 2xx, and the preview gone at the end while staging, the blueprint, stays."""
    assert not sim.unexpected_contract_errors(), sim.unexpected_contract_errors()
    routed = [(exchange, route(exchange.method, exchange.path)) for exchange in sim.exchanges]
    [(clone, where)] = [(e, r) for e, r in routed if r.operation == "clone"]
    assert where.path_id == STAGING_ENVIRONMENT and clone.status == 202, clone
    assert json.loads(clone.body)["name"] == name, clone
    preview = json.loads(clone.response_body)["id"]
    deploys = [(e, r) for e, r in routed if r.operation == "deploy"]
    deployed = {
        sim.services[str(r.path_id)].job_name: sim.services[str(r.path_id)].environment_id for _, r in deploys
    }
    assert deployed == dict.fromkeys((script.job_name for script in blueprint_services()), preview), deployed
    assert all(200 <= e.status < 300 for e, _ in deploys), deploys
    [(deletion, what)] = [(e, r) for e, r in routed if r.operation == "delete_environment"]
    assert what.path_id == preview and 200 <= deletion.status < 300, deletion
    ordered = [clone, *(e for e, _ in deploys), deletion]
    assert sorted(ordered, key=sim.exchanges.index) == ordered, "not clone, deploys, then deletion"
    assert preview not in sim.places and STAGING_ENVIRONMENT in sim.places
    return preview, ordered


def test_gitlab_preview_example_gives_the_url_then_its_stop_job_deletes_the_preview(runs: Runs) -> None:
    """The README's `gitlab-preview` example under gitlab-ci-local (runs.py says how): the review job clones
    staging as review-<branch slug>, deploys it and gives the preview's URL, QOVERY_ENVIRONMENT_URL, in its dotenv
    report (the job's `environment: url:`); then the stop job deletes it. Both jobs succeed, no token shown."""
    done = runs.readme_gitlab_preview.result()
    review, stop = done.runs.values()
    for result in (review, stop):
        result.assert_no_token()
    assert review.code == 0, review.tail(60)
    assert stop.code == 0, stop.tail(60)
    review_job = next(iter(done.runs))
    [path] = (done.repo / ".gitlab-ci-local" / "artifacts" / review_job).rglob("qovery.env")
    assert TOKEN not in path.read_text(encoding="utf-8")
    report = parse_dotenv(path)
    assert report["QOVERY_ENVIRONMENT_URL"].startswith("https://"), report
    assert report["QOVERY_CLONED"] == "true", report
    sim = done.sim.stop()
    [name] = [
        json.loads(e.body)["name"] for e in sim.exchanges if route(e.method, e.path).operation == "clone"
    ]
    assert name.startswith("review-"), name  # review-$CI_COMMIT_REF_SLUG
    preview_exchanges(sim, name)
