"""GitHub's own API (`github-deployment`, `pr-comment`), against the fake GitHub (support/github.py), every
exchange checked against GitHub's published description: a deployment record that always ends, one
pull-request comment kept current, and nothing GitHub does changing the verdict or the exit code."""

from __future__ import annotations

import json
import signal
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from support.github import (
    COMMIT,
    GITHUB_TOKEN,
    HEAD,
    NOT_ACCESSIBLE,
    FakeGitHub,
    finish_github,
    github_context,
    in_process_github,
    served_github,
)
from support.inputs import job_inputs
from support.sims import TOKEN, SimFactory, job
from support.step import StepRun, github_env, run_step

from qovery_job_deploy.errors import InputError
from qovery_job_deploy.inputs.sources import load_settings
from qovery_job_deploy.publishers.github_api import page_number
from qovery_job_deploy.simulator import Fault, JobScript, Place

ENV = "e0e0e0e0-0000-4000-8000-0000000000bb"
ORG = "0a0b0c0d-0000-4000-8000-000000000001"
PROJECT = "5e0f1a2b-0000-4000-8000-00000000beef"


@pytest.fixture
def github() -> Iterator[Any]:
    """Fake GitHubs reached in-process; any exchange that breaks GitHub's contract fails the test."""
    made: list[FakeGitHub] = []

    def make(**options: Any) -> FakeGitHub:
        fake = in_process_github(**options)
        made.append(fake)
        return fake

    yield make
    for fake in made:
        finish_github(fake)


def deployed(**options: Any) -> JobScript:
    """A job `migrate` in ENV (production, in acme / shop), short and successful unless `options` say."""
    return job(**({"environment_id": ENV, "job_name": "migrate"} | options))


def step(
    sim: Any,
    script: JobScript,
    fake: FakeGitHub,
    tmp_path: Path,
    *,
    event: str = "push",
    **inputs: str,
) -> StepRun:
    """The step on GitHub, as the action runs it (github-token's default, the job's token), in `fake`'s
    repository."""
    env, files = github_env(tmp_path, job_inputs(sim, script, **inputs))
    env |= github_context(fake, tmp_path, event=event)
    return run_step(env, files)


def warnings(run: StepRun) -> list[str]:
    return [line for line in run.stdout.splitlines() if line.startswith("::warning ")]


# -- the deployment record -------------------------------------------------------------------------------


def test_a_success_is_recorded_in_progress_then_success_in_three_requests(
    simulator: SimFactory, github: Any, tmp_path: Path
) -> None:
    script = deployed()
    sim, fake = simulator(script), github()
    run = step(sim, script, fake, tmp_path, **{"github-deployment": "true"})

    assert run.code == 0, run.stderr
    assert fake.calls() == 3  # the record, in progress, success
    [(number, asked)] = fake.deployments.items()
    assert asked["ref"] == COMMIT and asked["environment"] == "production"
    assert asked["auto_merge"] is False and asked["required_contexts"] == []
    assert asked["production_environment"] is True and asked["transient_environment"] is False
    assert asked["payload"] == {
        "qovery": {
            "organization_id": ORG,
            "project_id": PROJECT,
            "environment_id": ENV,
            "service_id": script.job_id,
            "deployment_request_id": sim.deployments_of(script.job_id)[0].id,
        }
    }
    began, ended = fake.statuses[number]
    assert began["state"] == "in_progress" and began["log_url"].endswith(f"/service/{script.job_id}")
    assert ended["state"] == "success" and ended["log_url"] == run.outputs()["console-url"]
    assert all(len(status["description"]) <= 140 for status in (began, ended))
    assert not warnings(run)


def test_a_success_gives_github_the_url_where_the_service_answers(
    simulator: SimFactory, github: Any, tmp_path: Path
) -> None:
    api = deployed(kind="container", job_name="api")
    sim, fake = simulator(api), github()
    wanted = {"job-id": "", "services": api.job_id, "github-deployment": "true", "pr-comment": "true"}
    run = step(sim, api, fake, tmp_path, event="pull_request", **wanted)

    assert run.code == 0, run.stderr
    url = f"https://api-{api.job_id[:8]}.qovery.example"
    assert fake.statuses[1001][-1]["environment_url"] == url == run.outputs()["url"]
    [comment] = fake.comments[7]
    assert f"| `succeeded` | [{url}]({url}) |" in comment["body"]


@pytest.mark.parametrize(
    ("timeline", "timeout", "code", "state"),
    [
        (((0.0, "QUEUED"), (0.5, "EXECUTING"), (1.0, "DEPLOYMENT_ERROR")), "30m", 1, "failure"),
        (((0.0, "QUEUED"), (0.5, "EXECUTING"), (600.0, "DEPLOYED")), "20s", 124, "error"),
    ],
    ids=["failure", "timeout"],
)
def test_every_ending_ends_the_record(
    simulator: SimFactory,
    github: Any,
    tmp_path: Path,
    timeline: tuple[tuple[float, str], ...],
    timeout: str,
    code: int,
    state: str,
) -> None:
    script = deployed(timeline=list(timeline))
    sim, fake = simulator(script), github()
    run = step(sim, script, fake, tmp_path, timeout=timeout, **{"github-deployment": "true"})

    assert run.code == code, run.stderr
    assert fake.states() == ["in_progress", state]
    assert "environment_url" not in fake.statuses[1001][-1]


def test_a_signal_ends_the_record_with_error(served_simulator: SimFactory, tmp_path: Path) -> None:
    """SIGTERM while the deployment runs: the record is not left in progress."""
    script = deployed(timeline=[(0.0, "QUEUED"), (0.2, "EXECUTING"), (120.0, "DEPLOYED")])
    sim, fake = served_simulator(script), served_github()
    try:
        env, files = github_env(tmp_path, job_inputs(sim, script, **{"github-deployment": "true"}))
        env |= github_context(fake, tmp_path)
        run = run_step(
            env, files, signal_when=lambda: fake.states() == ["in_progress"], signum=signal.SIGTERM
        )
    finally:
        finish_github(fake)

    assert run.code == 143, run.stderr
    assert fake.states() == ["in_progress", "error"]
    assert run.seconds < 7.5


def test_a_preview_environment_is_transient_and_not_production(
    simulator: SimFactory, github: Any, tmp_path: Path
) -> None:
    script = deployed()
    sim = simulator(script, places=[Place(ENV, "pr-42", environment_mode="PREVIEW")])
    fake = github()
    run = step(sim, script, fake, tmp_path, **{"github-deployment": "true"})

    assert run.code == 0, run.stderr
    [asked] = fake.deployments.values()
    assert asked["transient_environment"] is True and asked["production_environment"] is False
    assert asked["environment"] == "pr-42"


def test_the_environment_by_name_gives_its_mode_from_the_list_and_github_environment_renames_it(
    simulator: SimFactory, github: Any, tmp_path: Path
) -> None:
    script = deployed()
    sim = simulator(script, places=[Place(ENV, "staging", environment_mode="STAGING")])
    fake = github()
    named = {"job-id": "", "jobs": "migrate", "project": "shop", "environment": "staging"}
    run = step(
        sim, script, fake, tmp_path, **named, **{"github-deployment": "true", "github-environment": "qa"}
    )

    assert run.code == 0, run.stderr
    [asked] = fake.deployments.values()
    assert asked["environment"] == "qa" and asked["production_environment"] is False
    assert sim.calls("environment") == 0  # the list said its mode: no read for it


def test_a_pull_request_records_its_head_commit(simulator: SimFactory, github: Any, tmp_path: Path) -> None:
    script = deployed()
    sim, fake = simulator(script), github()
    run = step(sim, script, fake, tmp_path, event="pull_request", **{"github-deployment": "true"})

    assert run.code == 0, run.stderr
    [asked] = fake.deployments.values()
    assert asked["ref"] == HEAD  # not GITHUB_SHA, the merge commit GitHub made


def test_github_enterprise_server_is_reached_at_its_api_url(
    simulator: SimFactory, github: Any, tmp_path: Path
) -> None:
    script = deployed()
    sim, fake = simulator(script), github(base_path="/api/v3")
    run = step(sim, script, fake, tmp_path, **{"github-deployment": "true"})

    assert run.code == 0, run.stderr
    assert fake.url.endswith(".invalid/api/v3") and fake.states() == ["in_progress", "success"]


def test_a_dry_run_records_and_comments_nothing(simulator: SimFactory, github: Any, tmp_path: Path) -> None:
    script = deployed()
    sim, fake = simulator(script), github()
    wanted = {"github-deployment": "true", "pr-comment": "true", "dry-run": "true"}
    run = step(sim, script, fake, tmp_path, event="pull_request", **wanted)

    assert run.code == 0, run.stderr
    assert fake.calls() == 0


def test_nothing_accepted_records_nothing(simulator: SimFactory, github: Any, tmp_path: Path) -> None:
    script = deployed()
    script.faults["deploy"] = deque([Fault(status=403)])
    sim, fake = simulator(script), github()
    run = step(sim, script, fake, tmp_path, **{"github-deployment": "true"})

    assert run.code == 3, run.stderr
    assert fake.calls() == 0


# -- GitHub's problems: said once, the verdict stands ------------------------------------------------------


def test_a_missing_permission_is_one_warning_naming_it_and_the_verdict_stands(
    simulator: SimFactory, github: Any, tmp_path: Path
) -> None:
    script = deployed()
    sim, fake = simulator(script), github()
    fake.refuse("create_deployment")
    run = step(sim, script, fake, tmp_path, **{"github-deployment": "true"})

    assert run.code == 0, run.stderr
    assert run.outputs()["verdict"] == "succeeded"
    assert fake.calls() == 1  # refused: not tried again, nothing to end
    [warning] = warnings(run)
    assert NOT_ACCESSIBLE in warning and "`permissions: deployments: write`" in warning


def test_a_5xx_is_tried_again(simulator: SimFactory, github: Any, tmp_path: Path) -> None:
    script = deployed()
    sim, fake = simulator(script), github()
    fake.fail("create_deployment", Fault(status=503))
    fake.fail("create_status", Fault(status=502), Fault(status=500))
    run = step(sim, script, fake, tmp_path, **{"github-deployment": "true"})

    assert run.code == 0, run.stderr
    assert fake.calls("create_deployment") == 2 and fake.states() == ["in_progress", "success"]
    assert not warnings(run)


def test_a_gateway_error_on_the_creation_is_not_sent_again(
    simulator: SimFactory, github: Any, tmp_path: Path
) -> None:
    """GitHub may have made it: a second record would be left without an ending."""
    script = deployed()
    sim, fake = simulator(script), github()
    fake.fail("create_deployment", Fault(status=502))
    run = step(sim, script, fake, tmp_path, **{"github-deployment": "true"})

    assert run.code == 0, run.stderr
    assert fake.calls() == 1
    [warning] = warnings(run)
    assert "HTTP 502" in warning and "verdict stand" in warning


def test_github_down_costs_a_few_seconds_and_one_warning_at_most_per_call(
    simulator: SimFactory, github: Any, tmp_path: Path
) -> None:
    script = deployed()
    sim, fake = simulator(script), github()
    fake.fail("create_deployment", *[Fault(kind="hang", seconds=60.0)] * 10)
    run = step(sim, script, fake, tmp_path, **{"github-deployment": "true"})

    assert run.code == 0, run.stderr
    assert fake.calls() <= 3  # within its budget of seconds
    [warning] = warnings(run)
    assert "no answer within" in warning
    assert run.seconds < 30  # virtual: the job's own ~1 s and GitHub's budget, not a request-timeout


def test_no_github_token_is_one_warning(simulator: SimFactory, github: Any, tmp_path: Path) -> None:
    script = deployed()
    sim, fake = simulator(script), github()
    env, files = github_env(tmp_path, job_inputs(sim, script, **{"github-deployment": "true"}))
    env |= github_context(fake, tmp_path) | {"INPUT_GITHUB-TOKEN": ""}
    run = run_step(env, files)

    assert run.code == 0, run.stderr
    assert fake.calls() == 0
    [warning] = warnings(run)
    assert "no GitHub token" in warning


def test_outside_the_action_github_token_comes_from_the_environment(
    simulator: SimFactory, github: Any, tmp_path: Path
) -> None:
    """A `run:` step (the command, or `docker run -e GITHUB_TOKEN`): GITHUB_TOKEN; scanned like the others."""
    script = deployed()
    sim, fake = simulator(script), github()
    env, files = github_env(tmp_path, job_inputs(sim, script, **{"github-deployment": "true"}))
    env |= github_context(fake, tmp_path) | {"INPUT_GITHUB-TOKEN": "", "GITHUB_TOKEN": GITHUB_TOKEN}
    run = run_step(env, files)

    assert run.code == 0, run.stderr
    assert fake.states() == ["in_progress", "success"]
    assert f"::add-mask::{GITHUB_TOKEN}" in run.stdout.splitlines()[:4]  # masked before anything else


def test_the_github_token_is_masked_first_and_sent_only_to_github(
    simulator: SimFactory, github: Any, tmp_path: Path
) -> None:
    script = deployed()
    sim, fake = simulator(script), github()
    run = step(
        sim,
        script,
        fake,
        tmp_path,
        event="pull_request",
        **{"github-deployment": "true", "pr-comment": "true"},
    )

    assert run.code == 0, run.stderr
    assert f"::add-mask::{GITHUB_TOKEN}" in run.stdout.splitlines()[:2]
    assert all(GITHUB_TOKEN not in json.dumps(e.headers) for e in sim.exchanges)
    assert all(e.headers.get("Authorization") == f"Bearer {GITHUB_TOKEN}" for e in fake.exchanges)
    assert "github-token" not in run.stderr  # never among the changed inputs, though always given


# -- the pull-request comment ------------------------------------------------------------------------------


def test_one_comment_is_added_then_updated_and_others_are_left_alone(
    simulator: SimFactory, github: Any, tmp_path: Path
) -> None:
    script = deployed()
    sim, fake = simulator(script), github()
    theirs = fake.comment(7, "Looks good to me")
    quoting = fake.comment(7, "> <!-- qovery-job-deploy pr-comment environment=" + ENV + " -->\nquoted")

    first = step(sim, script, fake, tmp_path, event="pull_request", **{"pr-comment": "true"})
    assert first.code == 0, first.stderr
    assert fake.calls() == 2 and fake.calls("create_comment") == 1
    second = step(sim, script, fake, tmp_path, event="pull_request", **{"pr-comment": "true"})
    assert second.code == 0, second.stderr
    assert fake.calls() == 4 and fake.calls("update_comment") == 1

    comments = {comment["id"]: comment["body"] for comment in fake.comments[7]}
    assert len(comments) == 3
    assert comments[theirs] == "Looks good to me" and comments[quoting].endswith("quoted")
    [ours] = [body for number, body in comments.items() if number not in (theirs, quoting)]
    assert ours.startswith(f"<!-- qovery-job-deploy pr-comment environment={ENV} -->\n")
    assert "Qovery job deployed" in ours and "`succeeded`" in ours and f"`{HEAD[:12]}`" in ours
    assert "Pull request #7: comment updated" in second.stderr


def test_a_comment_says_the_failure_and_qovery_s_diagnosis(
    simulator: SimFactory, github: Any, tmp_path: Path
) -> None:
    script = deployed(timeline=[(0.0, "QUEUED"), (0.5, "EXECUTING"), (1.0, "DEPLOYMENT_ERROR")])
    sim, fake = simulator(script), github()
    run = step(sim, script, fake, tmp_path, event="pull_request_target", **{"pr-comment": "true"})

    assert run.code == 1, run.stderr
    [comment] = fake.comments[7]
    assert "`failed`" in comment["body"] and "[deployment log](https://console.qovery.com/" in comment["body"]
    assert "Qovery: The job exited with code 1 before completing." in comment["body"]
    assert "lifecycle job must exit with code 0" in comment["body"]


@pytest.mark.parametrize(
    ("deploy_faults", "code", "said"),
    [([], 0, "Deployed: "), ([Fault(status=403)], 3, "Not deployed: ")],
    ids=["deployed", "refused at the POST"],
)
def test_a_comment_says_deployed_only_when_qovery_took_the_request(
    simulator: SimFactory, github: Any, tmp_path: Path, deploy_faults: list[Fault], code: int, said: str
) -> None:
    script = deployed()
    script.faults["deploy"] = deque(deploy_faults)
    sim, fake = simulator(script), github()
    run = step(sim, script, fake, tmp_path, event="pull_request", **{"pr-comment": "true"})

    assert run.code == code, run.stderr
    [comment] = fake.comments[7]
    [asked] = [
        line for line in comment["body"].splitlines() if line.startswith(("Deployed: ", "Not deployed: "))
    ]
    assert asked.startswith(said)


def test_a_comment_and_a_record_together_cost_five_requests(
    simulator: SimFactory, github: Any, tmp_path: Path
) -> None:
    script = deployed()
    sim, fake = simulator(script), github()
    wanted = {"github-deployment": "true", "pr-comment": "true"}
    run = step(sim, script, fake, tmp_path, event="pull_request", **wanted)

    assert run.code == 0, run.stderr
    assert fake.calls() == 5


def test_on_a_push_pr_comment_is_one_line(simulator: SimFactory, github: Any, tmp_path: Path) -> None:
    script = deployed()
    sim, fake = simulator(script), github()
    run = step(sim, script, fake, tmp_path, **{"pr-comment": "true"})

    assert run.code == 0, run.stderr
    assert fake.calls() == 0 and not warnings(run)
    said = [line for line in run.stderr.splitlines() if "comment" in line and "Inputs:" not in line]
    assert len(said) == 1 and "the `push` event has no pull request to comment on" in said[0]


def test_a_fork_s_read_only_token_is_one_warning_naming_the_permission(
    simulator: SimFactory, github: Any, tmp_path: Path
) -> None:
    script = deployed()
    sim, fake = simulator(script), github()
    fake.refuse("create_comment")
    run = step(sim, script, fake, tmp_path, event="pull_request", **{"pr-comment": "true"})

    assert run.code == 0, run.stderr
    assert run.outputs()["verdict"] == "succeeded"
    [warning] = warnings(run)
    assert "`permissions: pull-requests: write`" in warning and "fork" in warning


def test_hostile_names_are_inert_in_the_comment(simulator: SimFactory, github: Any, tmp_path: Path) -> None:
    hostile = "x](https://evil.example) <img src=x onerror=alert(1)> | @everyone"
    script = deployed(job_name=hostile)
    sim, fake = simulator(script), github()
    run = step(sim, script, fake, tmp_path, event="pull_request", **{"pr-comment": "true"})

    assert run.code == 0, run.stderr
    [comment] = fake.comments[7]
    body = comment["body"]
    # Escaped as in the step summary: no link, no tag, no cell ends; and no mention notifies anyone.
    assert "| x\\](https://evil.example) &lt;img src=x onerror=alert(1)&gt; \\| @\u200beveryone (shop" in body
    assert "<img" not in body and "@everyone" not in body
    assert TOKEN not in body and GITHUB_TOKEN not in body


# -- the pull-request comment on a long thread: its pages ------------------------------------------------

OURS = f"<!-- qovery-job-deploy pr-comment environment={ENV} -->"


def ours_in(fake: FakeGitHub) -> list[int]:
    return [comment["id"] for comment in fake.comments.get(7, []) if comment["body"].startswith(OURS)]


@pytest.mark.parametrize(
    ("before", "after", "first_pages", "second_pages"),
    [
        pytest.param(0, 250, [1], [1], id="on page 1 of 3: one page read"),
        pytest.param(99, 0, [1], [1], id="the 100th: page 1"),
        pytest.param(100, 0, [1], [1, 2], id="the 101st: page 2"),
        pytest.param(150, 30, [1, 2], [1, 2], id="none in 2 pages, then on page 2"),
        pytest.param(250, 120, [1, 2, 3], [1, 2, 3], id="none in 3 pages, then on page 3 of 4"),
    ],
)
def test_a_later_run_finds_its_comment_on_whichever_page_it_is(
    simulator: SimFactory,
    github: Any,
    tmp_path: Path,
    before: int,
    after: int,
    first_pages: list[int],
    second_pages: list[int],
) -> None:
    """Pages are read from the oldest, a request each, until the marker or the last page: the first run
    adds one comment after reading every page; the next reads up to the page that holds it and updates it."""
    script = deployed()
    sim, fake = simulator(script), github()
    fake.others(7, before)

    first = step(sim, script, fake, tmp_path, event="pull_request", **{"pr-comment": "true"})
    assert first.code == 0, first.stderr
    assert fake.pages_listed() == first_pages and fake.calls() == len(first_pages) + 1
    assert fake.calls("create_comment") == 1 and len(ours_in(fake)) == 1
    [added] = ours_in(fake)

    fake.others(7, after)
    fake.exchanges.clear()
    second = step(sim, script, fake, tmp_path, event="pull_request", **{"pr-comment": "true"})
    assert second.code == 0, second.stderr
    assert fake.pages_listed() == second_pages and fake.calls() == len(second_pages) + 1
    assert fake.calls("update_comment") == 1 and ours_in(fake) == [added]
    assert len(fake.comments[7]) == before + 1 + after
    assert not warnings(first) and not warnings(second)
    assert "Pull request #7: comment updated" in second.stderr


def test_past_the_bound_one_warning_and_a_new_comment_then_the_newest_page_finds_it(
    simulator: SimFactory, github: Any, tmp_path: Path
) -> None:
    """1,000 comments (10 pages) are read from the oldest, then the newest page: a comment the step adds to a
    longer thread is found there by the next run; one further back is not (said, and a second one added)."""
    script = deployed()
    sim, fake = simulator(script), github()
    fake.others(7, 1050)  # 11 pages

    first = step(sim, script, fake, tmp_path, event="pull_request", **{"pr-comment": "true"})
    assert first.code == 0, first.stderr
    assert fake.pages_listed() == [*range(1, 11), 11] and fake.calls() == 12
    assert fake.calls("create_comment") == 1 and len(ours_in(fake)) == 1
    [warning] = warnings(first)
    assert "pull request #7 has more than 1000 comments" in warning
    assert "not among the first 1000 nor the newest 100, so a new one is added" in warning

    fake.others(7, 20)  # still on the newest page, the 11th
    fake.exchanges.clear()
    second = step(sim, script, fake, tmp_path, event="pull_request", **{"pr-comment": "true"})
    assert second.code == 0, second.stderr
    assert fake.pages_listed() == [*range(1, 11), 11] and fake.calls() == 12
    assert fake.calls("update_comment") == 1 and len(ours_in(fake)) == 1 and not warnings(second)

    fake.others(7, 200)  # now on page 11 of 13: neither among the first 1000 nor the newest 100
    fake.exchanges.clear()
    third = step(sim, script, fake, tmp_path, event="pull_request", **{"pr-comment": "true"})
    assert third.code == 0, third.stderr
    assert fake.pages_listed() == [*range(1, 11), 13] and fake.calls() == 12
    assert fake.calls("create_comment") == 1 and len(ours_in(fake)) == 2
    assert len(warnings(third)) == 1 and "so a new one is added" in warnings(third)[0]
    for run in (first, second, third):
        said = (run.stdout + run.stderr).splitlines()
        assert [line for line in said if GITHUB_TOKEN in line] == [f"::add-mask::{GITHUB_TOKEN}"]
    assert fake.calls("unknown") == 0  # the Link header's URLs (`/repositories/ID/...`) never requested


@pytest.mark.parametrize(
    ("fault", "pages", "added", "warned"),
    [
        pytest.param(Fault(status=500), [1, 2, 2], 1, "", id="a 500 on page 2: tried again"),
        pytest.param(
            Fault(status=404, body='{"message": "Not Found"}', headers={"Content-Type": "application/json"}),
            [1, 2],
            0,
            "GitHub refused GET /repos/acme/shop/issues/7/comments (HTTP 404): Not Found",
            id="a 404 on page 2: no comment added",
        ),
    ],
)
def test_a_page_that_fails_adds_no_comment_unless_it_is_read_in_time(
    simulator: SimFactory,
    github: Any,
    tmp_path: Path,
    fault: Fault,
    pages: list[int],
    added: int,
    warned: str,
) -> None:
    """A search cut short could miss the comment: it adds none (one warning) rather than a second one."""
    script = deployed()
    sim, fake = simulator(script), github()
    fake.others(7, 150)
    fake.fail("list_comments", None, fault)  # page 1 answered, page 2 fails
    run = step(sim, script, fake, tmp_path, event="pull_request", **{"pr-comment": "true"})

    assert run.code == 0, run.stderr
    assert fake.pages_listed() == pages and fake.calls() == len(pages) + added
    assert fake.calls("create_comment") == added == len(ours_in(fake))
    assert [warned in line for line in warnings(run)] == ([True] if warned else [])


CURSOR = "https://api.github.com/repositories/1300192/issues/7/comments?per_page=100&after=Y3Vyc29y"
SAME = "https://api.github.com/repositories/1300192/issues/7/comments?per_page=100&page=1"


@pytest.mark.parametrize(
    "link",
    [
        pytest.param(f'<{CURSOR}>; rel="next"', id="a cursor, no page="),
        pytest.param(f'<{SAME}>; rel="next", <{SAME}>; rel="last"', id="page 1 again: no loop"),
        pytest.param('<https://evil.example/steal?page=0>; rel="next"', id="page 0 elsewhere"),
    ],
)
def test_a_next_page_the_step_cannot_follow_is_one_warning_and_never_requested(
    simulator: SimFactory, github: Any, tmp_path: Path, link: str
) -> None:
    script = deployed()
    sim, fake = simulator(script), github()
    headers = {"Content-Type": "application/json", "Link": link}
    fake.fail("list_comments", Fault(status=200, body="[]", headers=headers))
    run = step(sim, script, fake, tmp_path, event="pull_request", **{"pr-comment": "true"})

    assert run.code == 0, run.stderr
    assert fake.pages_listed() == [1] and fake.calls() == 2 and len(ours_in(fake)) == 1
    [warning] = warnings(run)
    assert "pull request #7 names its next page of comments in a way the step cannot follow" in warning
    assert "not among the first 100, so a new one is added" in warning
    assert "evil" not in run.stdout + run.stderr and "Y3Vyc29y" not in run.stdout + run.stderr


@pytest.mark.parametrize(
    ("link", "following", "last"),
    [
        (f'<{SAME[:-1]}2>; rel="next", <{SAME[:-1]}5>; rel="last"', 2, 5),
        (f'<{SAME[:-1]}4>; rel="prev", <{SAME[:-1]}1>; rel="first"', None, None),
        ("", None, None),
        (f'<{CURSOR}>; rel="next"', None, None),
        (f'<{SAME[:-1]}0>; rel="next", <{SAME[:-1]}-3>; rel="last"', None, None),
        (f'<{SAME[:-1]}2e3>; rel="next", <{SAME[:-1]}1234567890>; rel="last"', None, None),
        (f'<{SAME[:-1]}\u0663>; rel="next", <{SAME[:-1]}999999999>; rel="last"', None, 999999999),
    ],
)
def test_a_link_gives_its_page_number_alone(link: str, following: int | None, last: int | None) -> None:
    response = requests.Response()
    response.headers["Link"] = link
    assert (page_number(response.links, "next"), page_number(response.links, "last")) == (following, last)


# -- the inputs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"QOVERY_GITHUB_TOKEN": "ghs_has a space"}, "`github-token` (value not shown"),
        ({"QOVERY_JOB_ID": "ghp_PastedIntoTheWrongInput0123"}, "`job-id` (value not shown"),
        ({"QOVERY_PR_COMMENT": "sometimes"}, "`pr-comment` (`sometimes`"),
    ],
)
def test_a_github_input_s_problem_is_said_without_a_token(variables: dict[str, str], named: str) -> None:
    environ = {"QOVERY_API_TOKEN": TOKEN, "QOVERY_JOB_ID": "11111111-1111-4111-8111-111111111111"}
    with pytest.raises(InputError) as caught:
        load_settings([], environ | variables)
    said = str(caught.value)
    assert named in said and "Fix:" in said
    assert "has a space" not in said and "PastedInto" not in said
