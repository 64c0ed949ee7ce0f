"""Deleting a pull request's preview (`delete-environment`): deleted and waited for until gone; nothing to
delete is fine; only PREVIEW and DEVELOPMENT environments are deleted, never a PRODUCTION or STAGING one nor
the blueprint; a 403 says which permission;
a timeout is 124. The report says "deleted", never "deployed". In-process, on a virtual clock, every
exchange checked against the OpenAPI spec."""

from __future__ import annotations

import itertools
import json
import math
from collections import deque
from pathlib import Path
from typing import Any

import pytest
from support.inputs import inputs, sim_inputs
from support.sims import IN_PROCESS, SimFactory, job
from support.step import StepRun, assert_refused, github_env, gitlab_env, plain_env, run_step

from qovery_job_deploy.outcome import Deletion, Verdict
from qovery_job_deploy.removal import DELETE_GRACE_SECONDS
from qovery_job_deploy.simulator import Fault, Place, QoverySimulator, RateLimit
from qovery_job_deploy.simulator.environments import STAGING, STAGING_ENVIRONMENT, blueprint_services

PRODUCTION = "e0e0e0e0-0000-4000-8000-0000000000f1"
PREVIEW = "e0e0e0e0-0000-4000-8000-0000000000b2"


def environments(simulator: SimFactory, **options: Any) -> QoverySimulator:
    """acme / shop: staging (the blueprint), production, and pr-42, a preview, each with a service."""
    places = [STAGING, Place(PRODUCTION, "production"), Place(PREVIEW, "pr-42", environment_mode="PREVIEW")]
    services = [job(environment_id=PRODUCTION), job(job_name="api", environment_id=PREVIEW)]
    return simulator(*blueprint_services(), *services, places=places, **options)


def delete_inputs(sim: QoverySimulator, **extra: str) -> dict[str, str]:
    """The inputs that delete pr-42 of shop on `sim`."""
    return sim_inputs(
        sim, **{"project": "shop", "environment": "pr-42", "delete-environment": "true"} | extra
    )


def delete(sim: QoverySimulator, **extra: str) -> StepRun:
    return run_step(plain_env(delete_inputs(sim, **extra)))


def test_a_preview_is_deleted_and_the_step_waits_until_it_is_gone(simulator: SimFactory) -> None:
    sim = environments(simulator)
    run = delete(sim)

    assert run.code == 0, run.stderr
    assert sim.calls("delete_environment") == 1 and PREVIEW not in sim.places
    assert sim.calls("environment_status") >= 2  # DELETE_QUEUED or DELETING, then gone (404)
    result = run.json()
    assert (result["verdict"], result["deleted"], result["environment_id"]) == ("succeeded", True, PREVIEW)
    assert (
        result["message"].startswith("Environment pr-42 deleted in ") and "deployed" not in result["message"]
    )
    assert (result["services"], result["jobs"], result["state"], result["job_id"]) == ([], [], None, None)
    assert "Deleting Qovery environment pr-42 (shop)" in run.stderr and "] DELETING" in run.stderr
    assert not sim.requests  # nothing was deployed


def test_deleting_again_finds_nothing_to_delete_and_succeeds(simulator: SimFactory) -> None:
    sim = environments(simulator)
    assert delete(sim).code == 0
    run = delete(sim)

    assert run.code == 0, run.stderr
    assert sim.calls("delete_environment") == 1
    result = run.json()
    assert (result["verdict"], result["deleted"], result["environment_id"]) == ("succeeded", False, None)
    assert result["message"] == (
        "No environment is named pr-42 in project shop: nothing to delete (environments there: production, "
        "staging)."
    )


def test_a_preview_by_uuid_is_deleted_and_a_gone_one_is_nothing_to_delete(simulator: SimFactory) -> None:
    sim = environments(simulator)
    run = delete(sim, environment=PREVIEW, project="")
    assert run.code == 0, run.stderr
    assert run.json()["deleted"] is True and PREVIEW not in sim.places

    again = delete(sim, environment=PREVIEW, project="")
    assert again.code == 0, again.stderr
    assert again.json()["message"] == f"Environment {PREVIEW} does not exist (HTTP 404): nothing to delete."
    assert sim.calls("delete_environment") == 1


def test_a_token_without_the_admin_permission_is_refused_and_said(simulator: SimFactory) -> None:
    sim = environments(simulator)
    sim.faults["delete_environment"] = deque([Fault(status=403)])
    run = delete(sim)

    assert run.code == 3, run.stderr
    assert PREVIEW in sim.places
    message = run.json()["message"]
    assert message.startswith(
        "Qovery refused to delete environment pr-42 (HTTP 403): deleting an environment"
    )
    assert (
        "needs the admin permission, which the API token (value not shown, from the environment variable "
        in message
    )
    assert "QOVERY_API_TOKEN) lacks" in message
    assert run.json()["deleted"] is False


def test_a_deletion_that_outlasts_the_timeout_exits_124_and_goes_on(simulator: SimFactory) -> None:
    sim = environments(simulator)
    sim.environments.gone_after = 600.0
    run = delete(sim, timeout="20s")

    assert run.code == 124, run.stderr
    assert 20 <= run.seconds <= 25
    result = run.json()
    assert (result["verdict"], result["state"], result["deleted"]) == ("timed_out", "DELETING", False)
    assert result["message"] == (
        "Timed out with the deletion still in progress (DELETING): it goes on in Qovery. Raise `timeout` to "
        "wait for its end."
    )
    assert sim.calls("delete_environment") == 1


def test_a_low_budget_slows_the_wait_for_the_deletion_says_so_once_and_no_429_comes(
    simulator: SimFactory,
) -> None:
    """12 requests per 40 s and a deletion that takes a minute: at the 3 s pace its wait alone would take 20."""
    sim = environments(simulator, rate_limit=RateLimit(12, 40.0))
    sim.environments.gone_after = 60.0
    run = delete(sim, **{"poll-interval": "3s"})

    assert run.code == 0, run.stderr
    assert run.json()["deleted"] is True
    assert all(exchange.status != 429 for exchange in sim.exchanges)
    (said,) = [line for line in run.stderr.splitlines() if "Qovery's rate limit: " in line]
    assert "(X-RateLimit-Remaining): reads slowed to every" in said or "the next read waits" in said
    reads = [e.received_at for e in sim.exchanges if e.path == f"/environment/{PREVIEW}/status"]
    assert min(b - a for a, b in itertools.pairwise(reads)) >= 3.0
    assert max(b - a for a, b in itertools.pairwise(reads)) > 3.0  # slowed


def test_without_waiting_the_deletion_is_requested(simulator: SimFactory) -> None:
    sim = environments(simulator)
    run = delete(sim, wait="false")

    assert run.code == 0, run.stderr
    assert (run.json()["verdict"], run.json()["deleted"]) == ("accepted", False)
    assert sim.calls("delete_environment") == 1 and sim.calls("environment_status") == 1  # the one before


@pytest.mark.parametrize(
    ("later", "extra", "verdict", "state", "message", "headline"),
    [
        (
            0.0,
            {},
            "succeeded",
            None,
            "Environment pr-42 was already being deleted; it is gone now (waited 3s; no DELETE sent).",
            "Qovery environment pr-42 deleted, by an earlier request",
        ),
        (
            1.5,
            {"wait": "false"},
            "accepted",
            "DELETING",
            "Environment pr-42 is already being deleted (DELETING), by an earlier request: no DELETE sent; not "
            "waiting for it (wait: false).",
            "Qovery environment pr-42: already being deleted",
        ),
        (
            0.0,
            {"dry-run": "true"},
            "planned",
            "DELETE_QUEUED",
            f"Dry run: environment pr-42 ({PREVIEW}, PREVIEW) is already being deleted (DELETE_QUEUED), by an "
            "earlier request: a run would send no DELETE, and wait until it is gone. Nothing was deleted.",
            "Dry run: Qovery environment pr-42 is already being deleted, nothing was deleted",
        ),
    ],
)
def test_a_deletion_already_under_way_is_waited_for_and_not_taken_credit_for(
    simulator: SimFactory,
    tmp_path: Path,
    later: float,
    extra: dict[str, str],
    verdict: str,
    state: str | None,
    message: str,
    headline: str,
) -> None:
    """After `--delete-environment --wait false`, a second deletion (`later` seconds on) sends no DELETE:
    it reads the state, waits until the environment is gone, and says that an earlier request deleted it."""
    sim = environments(simulator)
    assert delete(sim, wait="false").code == 0
    IN_PROCESS[sim.url][1].sleep(later)
    env, files = github_env(tmp_path, delete_inputs(sim, **extra))
    run = run_step(env, files)

    assert run.code == 0, run.stderr
    assert sim.calls("delete_environment") == 1  # the first run's
    result = run.json_result()
    assert (result["verdict"], result["state"], result["deleted"]) == (verdict, state, False)
    assert result["message"] == message
    assert f"{headline}\n" in run.summary()
    assert (PREVIEW in sim.places) is (verdict != "succeeded")


@pytest.mark.parametrize(
    ("joined", "cancelled_state", "state"),
    [
        (False, None, "DEPLOYED"),  # the environment as its services make it again
        (False, "READY", "READY"),
        (False, "CANCELED", "CANCELED"),
        (True, "READY", "READY"),  # an earlier request's deletion, joined
        (True, "STOPPED", "STOPPED"),
    ],
)
def test_a_deletion_that_stops_midway_ends_at_once_as_a_failure_that_deleted_nothing(
    simulator: SimFactory, tmp_path: Path, joined: bool, cancelled_state: str | None, state: str
) -> None:
    """Cancelled in Qovery 4 s after its DELETE: its state leaves DELETE_QUEUED / DELETING for a settled one
    other than DELETED. The run ends at the next read, `failed` (as a DELETE_ERROR), never waiting until
    `timeout` to say the deletion goes on."""
    sim = environments(simulator)
    sim.environments.gone_after, sim.environments.cancelled_after = 60.0, 4.0
    sim.environments.cancelled_state = cancelled_state
    if joined:
        assert delete(sim, wait="false").code == 0
    env, files = github_env(tmp_path, delete_inputs(sim, timeout="10m", **{"poll-interval": "2s"}))
    run = run_step(env, files)

    assert run.code == 1, run.stderr
    assert run.seconds <= 4 + 2
    assert PREVIEW in sim.places and sim.calls("delete_environment") == 1
    result = run.json_result()
    assert (result["verdict"], result["state"], result["deleted"]) == ("failed", state, False)
    earlier = "The earlier deletion" if joined else "The deletion"
    assert result["message"] == (
        f"{earlier} of pr-42 stopped: its state is {state}, not deleted (cancelled in Qovery?). Nothing was "
        "deleted."
    )
    assert "### ❌ Qovery environment pr-42: deletion failed\n" in run.summary()
    assert f"] {state}" in run.stderr


@pytest.mark.parametrize(
    ("before", "stale"),
    [
        ("DEPLOYED", "DEPLOYED"),
        ("DEPLOYMENT_ERROR", "DEPLOYMENT_ERROR"),  # a broken preview, deleted: not Qovery failing to delete
        ("READY", "READY"),
    ],
)
def test_the_state_from_before_the_delete_shown_for_a_moment_never_ends_the_wait(
    simulator: SimFactory, before: str, stale: str
) -> None:
    """Right after the DELETE, Qovery may still show the environment's state from before (the stale race):
    read twice here, it is not the deletion's end, and the run waits until the environment is gone."""
    places = [STAGING, Place(PREVIEW, "pr-42", environment_mode="PREVIEW")]
    preview = job(job_name="api", environment_id=PREVIEW, previous_state=before)
    sim = simulator(*blueprint_services(), preview, places=places)
    sim.environments.stale_for, sim.environments.deleting_after, sim.environments.gone_after = 5.0, 6.0, 9.0
    run = delete(sim, **{"poll-interval": "2s"})

    assert run.code == 0, run.stderr
    reads = [e for e in sim.exchanges if e.path == f"/environment/{PREVIEW}/status"]
    assert [json.loads(e.response_body)["state"] for e in reads[1:3]] == [stale, stale]  # after the DELETE
    assert (run.json()["verdict"], run.json()["deleted"]) == ("succeeded", True)
    assert PREVIEW not in sim.places
    assert run.json()["message"].startswith("Environment pr-42 deleted in ")


@pytest.mark.parametrize(
    ("shown", "code", "verdict", "message"),
    [
        (  # Qovery took the DELETE and never showed it under way: stopped, after the grace
            "DEPLOYED",
            1,
            "failed",
            "The deletion of pr-42 stopped: its state is DEPLOYED, not deleted (cancelled in Qovery?). Nothing "
            "was deleted.",
        ),
        (  # something in progress, which the deletion may wait behind: only `timeout` ends it
            "DEPLOYING",
            124,
            "timed_out",
            "Timed out before Qovery showed the deletion under way (DEPLOYING): it may still run in Qovery. "
            "Raise `timeout` to wait for its end.",
        ),
    ],
)
def test_a_deletion_never_shown_under_way_ends_after_the_grace_or_the_timeout(
    simulator: SimFactory, shown: str, code: int, verdict: str, message: str
) -> None:
    sim = environments(simulator)
    sim.environments.gone_after = math.inf  # never deleted
    sim.faults["environment_status"] = deque([None, *[state_now(shown)] * 100])  # the first: before
    run = delete(sim, timeout="2m", **{"poll-interval": "3s"})

    assert run.code == code, run.stderr
    ended = DELETE_GRACE_SECONDS if verdict == "failed" else 120
    assert ended <= run.seconds <= ended + 3 + 1
    result = run.json()
    assert (result["verdict"], result["state"], result["deleted"]) == (verdict, shown, False)
    assert result["message"] == message
    assert PREVIEW in sim.places


def state_now(state: str) -> Fault:
    """The answer to the step's first `GET /environment/{id}/status`: `state`."""
    body = f'{{"id": "{PREVIEW}", "state": "{state}", "last_deployment_state": "{state}"}}'
    return Fault(status=200, body=body, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    ("before", "deletes", "deleted", "message"),
    [
        (Fault(status=404), 0, False, "Environment pr-42 no longer exists: nothing to delete."),
        (state_now("DELETED"), 0, False, "Environment pr-42 no longer exists: nothing to delete."),
        (state_now("DELETE_ERROR"), 1, True, "Environment pr-42 deleted in "),  # an earlier one failed
        (state_now("DEPLOYED"), 1, True, "Environment pr-42 deleted in "),
    ],
)
def test_the_state_read_before_the_delete_decides_whether_it_is_sent(
    simulator: SimFactory, before: Fault, deletes: int, deleted: bool, message: str
) -> None:
    sim = environments(simulator)
    sim.faults["environment_status"] = deque([before])
    run = delete(sim)

    assert run.code == 0, run.stderr
    assert sim.calls("delete_environment") == deletes
    assert (run.json()["verdict"], run.json()["deleted"]) == ("succeeded", deleted)
    assert run.json()["message"].startswith(message)


def test_a_deletion_waiting_its_turn_is_one_under_way_already(simulator: SimFactory) -> None:
    """WAITING_DELETING on the first read: an earlier request's deletion, waiting its turn; no DELETE."""
    sim = environments(simulator)
    sim.faults["environment_status"] = deque([state_now("WAITING_DELETING"), Fault(status=404)])
    run = delete(sim)

    assert run.code == 0, run.stderr
    assert sim.calls("delete_environment") == 0
    assert (run.json()["verdict"], run.json()["deleted"]) == ("succeeded", False)
    assert run.json()["message"].startswith("Environment pr-42 was already being deleted; it is gone now")


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (
            {"environment": "production"},
            f"Invalid input `environment` (`production` from the environment variable QOVERY_ENVIRONMENT): "
            f"production ({PRODUCTION}) is a PRODUCTION environment, which this step never deletes: it deletes "
            "PREVIEW and DEVELOPMENT environments only. Fix: set `environment` to the preview's name, such as "
            "pr-42; delete a PRODUCTION environment in the Qovery console.",
        ),
        (  # a cleanup job without `clone-from`: the blueprint is refused by its mode
            {"environment": "staging"},
            f"Invalid input `environment` (`staging` from the environment variable QOVERY_ENVIRONMENT): staging "
            f"({STAGING_ENVIRONMENT}) is a STAGING environment, which this step never deletes: it deletes "
            "PREVIEW and DEVELOPMENT environments only. Fix: set `environment` to the preview's name, such as "
            "pr-42; delete a STAGING environment in the Qovery console.",
        ),
        (
            {"environment": STAGING_ENVIRONMENT, "project": ""},
            f"Invalid input `environment` (`{STAGING_ENVIRONMENT}` from the environment variable "
            f"QOVERY_ENVIRONMENT): staging ({STAGING_ENVIRONMENT}) is a STAGING environment, which this step "
            "never deletes",
        ),
        (
            {"clone-from": PREVIEW},
            f"Invalid input `environment` (`pr-42` from the environment variable QOVERY_ENVIRONMENT): pr-42 "
            f"({PREVIEW}) is the blueprint `clone-from` names (`{PREVIEW}` from the environment variable "
            "QOVERY_CLONE_FROM), which this step never deletes. Fix: give the preview its own name, such as "
            "pr-42.",
        ),
        (
            {"environment": "staging", "clone-from": "Staging"},
            "Invalid input `environment` (`staging` from the environment variable QOVERY_ENVIRONMENT): it is the "
            "blueprint `clone-from` names (`Staging` from the environment variable QOVERY_CLONE_FROM); the "
            "blueprint is never deleted. Fix: give the preview its own name, such as pr-42.",
        ),
        (
            {"services": "api"},
            "Invalid input `services` (`api` from the environment variable QOVERY_SERVICES): "
            "`delete-environment` (`true` from the environment variable QOVERY_DELETE_ENVIRONMENT) deletes an "
            "environment and deploys nothing.",
        ),
        (
            {"image-tag": "v2"},
            "Invalid input `image-tag` (`v2` from the environment variable QOVERY_IMAGE_TAG): "
            "`delete-environment` (`true` from the environment variable QOVERY_DELETE_ENVIRONMENT) deletes",
        ),
        (
            {"environment": ""},
            "Invalid input `delete-environment` (`true` from the environment variable QOVERY_DELETE_ENVIRONMENT): "
            "needs `environment`, the environment to delete, and the environment variable QOVERY_ENVIRONMENT is "
            "not set.",
        ),
        (
            {"project": "shp"},
            "Invalid input `project` (`shp` from the environment variable QOVERY_PROJECT): no project is named "
            "'shp'",
        ),
    ],
)
def test_what_is_never_deleted_is_refused_before_any_change(
    simulator: SimFactory, extra: dict[str, str], said: str
) -> None:
    sim = environments(simulator)
    run = delete(sim, **extra)
    assert_refused(run, said)
    assert sim.calls("delete_environment") == 0 and len(sim.places) == 3


@pytest.mark.parametrize(
    ("mode", "deleted"),
    [("PREVIEW", True), ("DEVELOPMENT", True), ("STAGING", False), ("PRODUCTION", False)],
)
def test_only_a_preview_or_development_environment_is_deleted(
    simulator: SimFactory, mode: str, deleted: bool
) -> None:
    sim = simulator(*blueprint_services(), places=[STAGING, Place(PREVIEW, "pr-42", environment_mode=mode)])
    run = delete(sim)

    assert (run.code, PREVIEW not in sim.places) == ((0, True) if deleted else (2, False)), run.stderr
    assert sim.calls("delete_environment") == int(deleted)
    refusal = f"pr-42 ({PREVIEW}) is a {mode} environment, which this step never deletes"
    assert any(refusal in problem for problem in run.problems()) is not deleted


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_a_cleanup_without_clone_from_never_deletes_the_blueprint(
    simulator: SimFactory, dry_run: list[str]
) -> None:
    """A new user's trial: `--environment staging --delete-environment`, with no `clone-from` to name the
    blueprint; a dry run says the same refusal."""
    sim = environments(simulator)
    args = ["--api-url", sim.url, "--project", "shop", "--environment", "staging", "--delete-environment"]
    run = run_step(plain_env(inputs()), args=[*args, *dry_run])

    assert run.problems() == [
        f"Invalid input `environment` (`staging` from the flag --environment): staging ({STAGING_ENVIRONMENT}) "
        "is a STAGING environment, which this step never deletes: it deletes PREVIEW and DEVELOPMENT "
        "environments only. Fix: set `environment` to the preview's name, such as pr-42; delete a STAGING "
        "environment in the Qovery console."
    ]
    assert run.code == 2 and sim.calls("delete_environment") == 0 and STAGING_ENVIRONMENT in sim.places


def test_deploy_inputs_with_a_deletion_are_refused_one_line_each(tmp_path: Path) -> None:
    given = inputs(environment="pr-42", delete_environment="true")
    env, files = github_env(
        tmp_path, given | {"jobs": "migrate", "git-commit-id": "abc", "force-event": "STOP"}
    )
    run = run_step(env, files)

    assert run.code == 2
    assert [problem.split(" (", 1)[0] for problem in run.problems()] == [
        "Invalid input `jobs`",
        "Invalid input `git-commit-id`",
        "Invalid input `force-event`",
    ]
    assert all("the GitHub input `delete-environment`" in problem for problem in run.problems())


def test_a_dry_run_says_what_it_would_delete_and_deletes_nothing(
    simulator: SimFactory, tmp_path: Path
) -> None:
    sim = environments(simulator)
    env, files = github_env(tmp_path, delete_inputs(sim, **{"dry-run": "true"}))
    run = run_step(env, files)

    assert run.code == 0, run.stderr
    assert sim.calls("delete_environment") == 0 and PREVIEW in sim.places
    result = run.json_result()
    assert (result["verdict"], result["dry_run"], result["deleted"]) == ("planned", True, False)
    assert (
        result["message"]
        == f"Dry run: environment pr-42 ({PREVIEW}, PREVIEW) would be deleted. Nothing was deleted."
    )
    assert "Dry run: Qovery environment pr-42 would be deleted, nothing was deleted" in run.summary()


def test_github_and_gitlab_say_deleted_not_deployed(simulator: SimFactory, tmp_path: Path) -> None:
    sim = environments(simulator)
    (tmp_path / "github").mkdir()
    env, files = github_env(tmp_path / "github", delete_inputs(sim))
    run = run_step(env, files)
    assert run.code == 0, run.stderr
    outputs = run.outputs()
    assert (outputs["verdict"], outputs["environment-id"], outputs["cloned"]) == (
        "succeeded",
        PREVIEW,
        "false",
    )
    summary = run.summary()
    assert "### ✅ Qovery environment pr-42 deleted" in summary and "deployed" not in summary.lower()

    sim.faults["delete_environment"] = deque([Fault(status=403)])
    sim.places[PREVIEW] = Place(PREVIEW, "pr-42", environment_mode="PREVIEW")
    (tmp_path / "gitlab").mkdir()
    env, files = gitlab_env(tmp_path / "gitlab", delete_inputs(sim))
    run = run_step(env, files)
    assert run.code == 3
    assert run.dotenv()["QOVERY_ENVIRONMENT_ID"] == PREVIEW and run.dotenv()["QOVERY_VERDICT"] == "error"
    assert run.result_file()["deleted"] is False

    sim.faults["delete_environment"] = deque([Fault(status=403)])
    (tmp_path / "failed").mkdir()
    env, files = github_env(tmp_path / "failed", delete_inputs(sim))
    run = run_step(env, files)
    assert (
        "::error title=Qovery environment pr-42%3A deletion in error::Qovery refused to delete" in run.stdout
    )


def test_the_outcome_says_the_environment_is_gone_for_a_publisher_to_act_on() -> None:
    """The hook for the GitHub deployments' `inactive` and the pull request's comment: `deletion.gone`."""
    assert Deletion(Verdict.SUCCEEDED, "deleted").gone
    assert Deletion(Verdict.SUCCEEDED, "nothing to delete", absent=True).gone
    assert not Deletion(Verdict.TIMED_OUT, "still deleting").gone
    assert not Deletion(Verdict.PLANNED, "dry run").gone


def test_the_blueprint_is_never_touched_by_a_deletion(simulator: SimFactory) -> None:
    sim = environments(simulator)
    run = delete(sim, **{"clone-from": "staging"})

    assert run.code == 0, run.stderr
    assert STAGING_ENVIRONMENT in sim.places and PREVIEW not in sim.places


@pytest.mark.process
def test_the_served_simulator_deletes_as_the_in_process_one_does(served_simulator: SimFactory) -> None:
    """Over real HTTP (the simulator's server, as a user runs it): DELETE is served, not answered 501."""
    sim = environments(served_simulator)
    run = delete(sim)

    assert run.code == 0, run.stderr
    assert sim.calls("delete_environment") == 1 and PREVIEW not in sim.places
    assert "HTTP 501" not in run.stderr
