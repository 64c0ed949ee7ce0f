"""A preview's GitHub records (`github-deployment`, `pr-comment`) from its clone to its deletion: the clone's
deployment record is transient; the deletion makes the GitHub environment's deployments `inactive` and turns
the deploy runs' pull-request comment (the same one, found by its marker) into the word that the preview was
deleted. GitHub's problems never change the deletion's verdict. Against the fake GitHub, every exchange
checked against GitHub's published description."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.github import GITHUB_TOKEN, FakeGitHub, finish_github, github_context, in_process_github
from support.previews import preview_inputs, previews
from support.sims import SimFactory
from support.step import StepRun, github_env, run_step

from qovery_job_deploy.simulator import Fault, QoverySimulator

BOTH = {"github-deployment": "true", "pr-comment": "true"}
MARKER = "<!-- qovery-job-deploy pr-comment environment="


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    made = in_process_github()
    yield made
    finish_github(made)


def on_github(sim: QoverySimulator, fake: FakeGitHub, tmp_path: Path, name: str, **inputs: str) -> StepRun:
    """The step on a pull request's event in `fake`'s repository, in a directory of its own."""
    where = tmp_path / name
    where.mkdir()
    env, files = github_env(where, inputs)
    return run_step(env | github_context(fake, where, event="pull_request"), files)


def deploy(sim: QoverySimulator, fake: FakeGitHub, tmp_path: Path, name: str = "deploy") -> StepRun:
    return on_github(sim, fake, tmp_path, name, **preview_inputs(sim, **BOTH))


def delete(
    sim: QoverySimulator, fake: FakeGitHub, tmp_path: Path, name: str = "delete", **extra: str
) -> StepRun:
    inputs = preview_inputs(sim, **BOTH, **{"delete-environment": "true"}, **extra)
    kept = {
        key: value for key, value in inputs.items() if key not in ("services", "image-tag", "git-commit-id")
    }
    return on_github(sim, fake, tmp_path, name, **kept)


def ours(fake: FakeGitHub) -> list[dict[str, object]]:
    return [comment for comment in fake.comments.get(7, []) if str(comment["body"]).startswith(MARKER)]


def test_a_deletion_makes_the_preview_s_deployments_inactive_and_says_so_in_the_same_comment(
    simulator: SimFactory, fake: FakeGitHub, tmp_path: Path
) -> None:
    sim = previews(simulator)
    deployed = deploy(sim, fake, tmp_path)
    assert deployed.code == 0, deployed.stderr
    assert fake.calls() == 5  # the record, in progress, success; the comments listed, ours added
    [(record, asked)] = fake.deployments.items()
    assert (asked["environment"], asked["transient_environment"]) == ("pr-42", True)
    preview_id = deployed.outputs()["environment-id"]
    [comment] = ours(fake)
    assert str(comment["body"]).startswith(f"{MARKER}{preview_id} -->")
    by_github = fake.recorded("pr-42")  # GitHub's own, for a job's `environment: pr-42`
    elsewhere = fake.recorded("staging")
    another = fake.recorded("pr-42", payload={"qovery": {"environment_id": "another-preview"}})

    run = delete(sim, fake, tmp_path)

    assert run.code == 0, run.stderr
    assert run.json_result()["deleted"] is True
    assert fake.calls() == 5 + 5  # the list, 2 inactive; the comments listed, ours updated
    assert fake.calls("list_deployments") == 1 and fake.calls("create_deployment") == 1
    assert [status["state"] for status in fake.statuses[record]] == ["in_progress", "success", "inactive"]
    assert [status["state"] for status in fake.statuses[by_github]] == ["inactive"]
    assert fake.statuses[elsewhere] == [] and fake.statuses[another] == []
    [after] = ours(fake)
    assert after["id"] == comment["id"] and fake.calls("update_comment") == 1
    body = str(after["body"])
    assert body.startswith(f"{MARKER}{preview_id} -->\n### 🗑️ Qovery environment pr-42 deleted")
    assert "The preview environment was deleted: 20" in body and "UTC" in body
    assert not [line for line in run.stdout.splitlines() if line.startswith("::warning ")]
    said = (run.stdout + run.stderr).splitlines()
    assert [line for line in said if GITHUB_TOKEN in line] == [f"::add-mask::{GITHUB_TOKEN}"]


def test_a_deletion_already_under_way_ends_the_records_and_says_an_earlier_request_deleted_it(
    simulator: SimFactory, fake: FakeGitHub, tmp_path: Path
) -> None:
    sim = previews(simulator)
    assert deploy(sim, fake, tmp_path).code == 0
    first = delete(sim, fake, tmp_path, "first", wait="false")
    assert first.code == 0 and fake.states()[-1] == "success"  # requested: not gone yet

    run = delete(sim, fake, tmp_path, "second")

    assert run.code == 0, run.stderr
    assert (run.json_result()["deleted"], sim.calls("delete_environment")) == (False, 1)
    assert fake.states()[-1] == "inactive"
    [after] = ours(fake)
    preview_id = sim.environments.clones[0]
    header = f"{MARKER}{preview_id} -->\n### 🗑️ Qovery environment pr-42 deleted, by an earlier request\n"
    assert str(after["body"]).startswith(header)
    assert "The preview environment was deleted: 20" in str(after["body"])


def test_github_s_refusals_leave_the_deletion_s_verdict_and_cost_one_warning_each(
    simulator: SimFactory, fake: FakeGitHub, tmp_path: Path
) -> None:
    sim = previews(simulator)
    assert deploy(sim, fake, tmp_path).code == 0
    fake.refuse("list_deployments")
    fake.refuse("list_comments")

    run = delete(sim, fake, tmp_path)

    assert run.code == 0, run.stderr
    assert run.json_result()["deleted"] is True
    warned = [line for line in run.stdout.splitlines() if line.startswith("::warning ")]
    assert len(warned) == 2 and all("Resource not accessible by integration" in line for line in warned)
    assert "deployments: write" in warned[0] and "pull-requests: write" in warned[1]
    assert fake.calls() == 5 + 2 and fake.states()[-1] == "success"


def refused(sim: QoverySimulator) -> None:
    sim.faults["delete_environment"] = deque([Fault(status=403)])


def cancelled(sim: QoverySimulator) -> None:
    """Cancelled in Qovery 2 s after its DELETE: the environment stays, READY."""
    sim.environments.gone_after, sim.environments.cancelled_after = 60.0, 2.0
    sim.environments.cancelled_state = "READY"


@pytest.mark.parametrize(
    ("how", "code", "said"),
    [
        (refused, 3, ["deletion in error", "admin permission"]),
        (
            cancelled,
            1,
            ["deletion failed", "stopped: its state is READY, not deleted", "Nothing was deleted."],
        ),
    ],
)
def test_a_deletion_that_did_not_end_leaves_the_records_and_says_why_in_the_comment(
    simulator: SimFactory,
    fake: FakeGitHub,
    tmp_path: Path,
    how: Callable[[QoverySimulator], None],
    code: int,
    said: list[str],
) -> None:
    sim = previews(simulator)
    assert deploy(sim, fake, tmp_path).code == 0
    how(sim)

    run = delete(sim, fake, tmp_path)

    assert run.code == code, run.stderr
    assert run.json_result()["deleted"] is False and sim.environments.clones[0] in sim.places
    assert fake.calls("list_deployments") == 0 and fake.states()[-1] == "success"
    [after] = ours(fake)
    assert all(words in str(after["body"]) for words in said), after["body"]
    assert "The preview environment was deleted" not in str(after["body"])
    assert fake.calls() == 5 + 2


def test_a_dry_run_deletion_and_a_deletion_with_nothing_to_comment_on_send_little(
    simulator: SimFactory, fake: FakeGitHub, tmp_path: Path
) -> None:
    sim = previews(simulator)
    assert deploy(sim, fake, tmp_path).code == 0
    fake.comments[7].clear()  # someone deleted our comment

    dry = delete(sim, fake, tmp_path, "dry", **{"dry-run": "true"})
    assert dry.code == 0, dry.stderr
    assert fake.calls() == 5

    run = delete(sim, fake, tmp_path)
    assert run.code == 0, run.stderr
    assert fake.calls() == 5 + 3  # the list, 1 inactive; the comments listed, none added
    assert fake.comments[7] == [] and "no comment of this environment to update" in run.stderr


def test_a_deletion_whose_comment_is_past_the_pages_read_says_so_and_adds_none(
    simulator: SimFactory, fake: FakeGitHub, tmp_path: Path
) -> None:
    sim = previews(simulator)
    fake.others(7, 1001)
    deployed = deploy(sim, fake, tmp_path)  # past the first 1,000: one warning, ours added on page 11
    assert deployed.code == 0, deployed.stderr
    assert fake.pages_listed() == [*range(1, 11), 11] and len(ours(fake)) == 1
    fake.others(7, 100)  # ours now on page 11 of 12: neither among the first 1,000 nor the newest 100
    fake.exchanges.clear()

    run = delete(sim, fake, tmp_path)

    assert run.code == 0, run.stderr
    assert run.json_result()["deleted"] is True
    assert fake.pages_listed() == [*range(1, 11), 12]
    assert fake.calls("create_comment") == 0 and fake.calls("update_comment") == 0
    warned = [line for line in run.stdout.splitlines() if line.startswith("::warning ")]
    assert len(warned) == 1 and "pull request #7 has more than 1000 comments" in warned[0]
    assert "nor the newest 100, so none is updated" in warned[0]
    assert "no comment of this environment to update" in run.stderr
