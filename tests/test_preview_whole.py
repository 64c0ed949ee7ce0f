"""`clone-from` with nothing named (no `job-id`, `jobs` or `services`): the whole preview. The first run
clones the blueprint and deploys the whole clone in stage order, as when services are named but with no
value; every later run deploys the whole preview again, the same way; a dry run says what would be cloned
and deployed and changes nothing. In-process, on a virtual clock, every exchange checked against the
OpenAPI spec."""

from __future__ import annotations

import json
import math
from itertools import pairwise
from pathlib import Path

import pytest
from support.inputs import sim_inputs
from support.previews import ORDER, asked, cloned_just_before, in_environment, previews
from support.sims import SimFactory
from support.step import StepRun, assert_refused, github_env, plain_env, run_step

from qovery_job_deploy.simulator import JobScript, QoverySimulator
from qovery_job_deploy.simulator.environments import STAGING_ENVIRONMENT, Stage, blueprint_services

# What the log says of a preview deployed whole: made by this run, then again.
WHOLE_SAID = "nothing named: deploying the whole environment pr-42 (4 services), each service what it is"
WHOLE_AGAIN = "nothing named: deploying the whole environment pr-42 again (4 services), each service what"
# What each service of the blueprint deploys when nothing gives it a value: what it is configured with (a
# database its configuration, a job its current source, a container its image tag, an application its commit).
API, WEB = blueprint_services()[2:]
CONFIGURED = {
    "postgres": None,
    "migrate": {},
    "api": {"image_tag": API.current_image_tag},
    "web": {"git_commit_id": WEB.current_commit},
}


def whole_inputs(sim: QoverySimulator, **extra: str) -> dict[str, str]:
    """pr-42, cloned from staging, with nothing named."""
    return sim_inputs(sim, **{"project": "shop", "environment": "pr-42", "clone-from": "staging"} | extra)


def whole(sim: QoverySimulator, **extra: str) -> StepRun:
    return run_step(plain_env(whole_inputs(sim, **extra)))


def on_github(sim: QoverySimulator, tmp_path: Path, name: str, **extra: str) -> StepRun:
    (tmp_path / name).mkdir()
    env, files = github_env(tmp_path / name, whole_inputs(sim, **extra))
    return run_step(env, files)


def in_stage_order(sim: QoverySimulator, services: dict[str, JobScript], nth: int) -> None:
    """Each service's `nth` deploy request was sent once the one of the stage before it had ended."""
    requests = [sim.deployments_of(services[name].job_id)[nth] for name in ORDER]
    assert all(later.created_at >= earlier.ends_at() for earlier, later in pairwise(requests))


def test_a_first_run_with_nothing_named_clones_and_deploys_the_whole_clone_in_stage_order(
    simulator: SimFactory, tmp_path: Path
) -> None:
    sim = previews(simulator)
    run = on_github(sim, tmp_path, "first")

    assert run.code == 0, run.stderr
    (clone,) = sim.environments.clones
    services = in_environment(sim, clone)
    assert {name: asked(sim, services[name]) for name in ORDER} == {
        name: [body] for name, body in CONFIGURED.items()
    }
    in_stage_order(sim, services, 0)
    assert all(not sim.deployments_of(s.job_id) for s in in_environment(sim, STAGING_ENVIRONMENT).values())

    outputs = run.outputs()
    url = f"https://api-{services['api'].job_id[:8]}.qovery.example"
    assert (outputs["cloned"], outputs["environment-id"], outputs["environment-url"]) == ("true", clone, url)
    assert outputs["url"] == url  # where the first service with a link answers: api
    result = json.loads(outputs["result"])
    assert [(s["name"], s["verdict"]) for s in result["services"]] == [(name, "succeeded") for name in ORDER]
    assert (result["image_tag"], result["git_commit_id"]) == (None, None)  # no value given, none reported
    assert f"cloned staging -> pr-42 ({clone})" in run.stderr
    assert WHOLE_SAID in run.stderr
    assert (
        "Deploying 4 Qovery services: postgres, migrate, api, web into pr-42 (nothing named: the whole "
        "environment), cloned from staging" in run.shown()
    )
    assert "stage order, each stage once the one before it went well: 1. postgres; 2. migrate" in run.stderr
    assert (
        f"Preview environment pr-42 · `{clone}`, cloned from staging by this run · nothing named: the whole "
        "environment, stage after stage" in run.summary()
    )


def test_every_later_run_with_nothing_named_deploys_the_whole_preview_again(
    simulator: SimFactory, tmp_path: Path
) -> None:
    sim = previews(simulator)
    assert on_github(sim, tmp_path, "first").code == 0
    (clone,) = sim.environments.clones
    services = in_environment(sim, clone)
    for nth, name in ((1, "second"), (2, "third")):
        run = on_github(sim, tmp_path, name, environment="PR-42")  # names are case-insensitive

        assert run.code == 0, run.stderr
        assert sim.calls("clone") == 1 and sim.environments.clones == [clone]
        assert {name: asked(sim, services[name]) for name in ORDER} == {
            name: [body] * (nth + 1) for name, body in CONFIGURED.items()
        }
        in_stage_order(sim, services, nth)
        outputs = run.outputs()
        assert (outputs["cloned"], outputs["environment-id"]) == ("false", clone)
        assert outputs["url"] == f"https://api-{services['api'].job_id[:8]}.qovery.example"
        result = json.loads(outputs["result"])
        assert [(s["name"], s["verdict"]) for s in result["services"]] == [(n, "succeeded") for n in ORDER]
        assert [s["id"] for s in result["services"]] == [services[name].job_id for name in ORDER]
        assert f"environment pr-42 -> {clone} (it exists; staging is untouched)" in run.stderr
        assert WHOLE_AGAIN in run.stderr and "cloning" not in run.stderr
        assert "into pr-42 (nothing named: the whole environment)" in run.shown()
        assert "1. postgres; 2. migrate; 3. api; 4. web" in run.stderr
        assert (
            f"Preview environment pr-42 · `{clone}` · nothing named: the whole environment" in run.summary()
        )
    assert all(not sim.deployments_of(s.job_id) for s in in_environment(sim, STAGING_ENVIRONMENT).values())


def test_a_later_run_with_nothing_named_follows_the_preview_s_stages_and_stops_at_a_failed_one(
    simulator: SimFactory,
) -> None:
    sim = previews(simulator)
    database, migrate, api, web = (s.job_id for s in blueprint_services())
    sim.environments.declare_stages(
        STAGING_ENVIRONMENT,
        Stage("data", [database], skipped={database}),  # left out of environment-level deployments
        Stage("jobs", [migrate]),
        Stage("apps", [api, web]),
    )
    assert whole(sim).code == 0
    services = in_environment(sim, sim.environments.clones[0])
    services["migrate"].timeline = [(0.0, "QUEUED"), (0.5, "DEPLOYMENT_ERROR")]  # its next run fails
    run = whole(sim)

    assert run.code == 1, run.stderr
    verdicts = [(s["name"], s["verdict"]) for s in run.json()["services"]]
    assert verdicts == [("migrate", "failed"), ("api", "skipped"), ("web", "skipped")]
    assert "postgres: its stage skips it in environment-level deployments: left out" in run.stderr
    assert not sim.deployments_of(services["postgres"].job_id)
    assert [len(sim.deployments_of(services[name].job_id)) for name in ("migrate", "api", "web")] == [2, 1, 1]


def test_a_dry_run_with_nothing_named_says_what_it_would_clone_and_deploy_and_changes_nothing(
    simulator: SimFactory,
) -> None:
    sim = previews(simulator)
    run = whole(sim, **{"dry-run": "true"})

    assert run.code == 0, run.stderr
    assert sim.calls("clone") == 0 and sim.calls("deploy") == 0 and not sim.environments.clones
    result = run.json()
    assert (result["dry_run"], result["verdict"], result["environment_id"], result["cloned"]) == (
        True,
        "planned",
        None,
        False,
    )
    assert [(s["name"], s["verdict"]) for s in result["services"]] == [(name, "planned") for name in ORDER]
    assert result["services"][0]["message"] == (
        "Dry run: pr-42 would be cloned from staging, and this database deployed (its configuration). "
        "Nothing was cloned or posted."
    )
    assert "environment pr-42 does not exist in project shop: a run would clone it" in run.stderr
    assert (
        "nothing named: a run would deploy the whole environment pr-42 (4 services), each service what it is "
        "configured with" in run.stderr
    )
    assert "pr-42 (nothing named: the whole environment), which a run would clone from staging" in run.stderr


def test_a_dry_run_with_nothing_named_into_an_existing_preview_checks_all_of_it_and_posts_nothing(
    simulator: SimFactory,
) -> None:
    sim = previews(simulator)
    assert whole(sim).code == 0
    deploys = sim.calls("deploy")
    run = whole(sim, **{"dry-run": "true"})

    assert run.code == 0, run.stderr
    assert sim.calls("clone") == 1 and sim.calls("deploy") == deploys == 4
    assert [(s["name"], s["verdict"], s["current_state"]) for s in run.json()["services"]] == [
        (name, "planned", "DEPLOYED") for name in ORDER
    ]
    assert run.json()["environment_id"] == sim.environments.clones[0]
    assert "nothing named: a run would deploy the whole environment pr-42 again (4 services)" in run.stderr
    assert "Dry run: checking 4 Qovery services: postgres, migrate, api, web into pr-42 (nothing named" in (
        run.shown()
    )


@pytest.mark.parametrize("status", [409, 400])
def test_two_runs_at_once_with_nothing_named_make_one_clone_and_each_deploys_it_whole(
    simulator: SimFactory, status: int
) -> None:
    """Another run clones pr-42 just before this one does: this one's clone is refused, and it deploys the
    other's clone whole, once its services are listed."""
    sim = previews(simulator)
    cloned_just_before(sim, status)
    run = whole(sim)

    assert run.code == 0, run.stderr
    (clone,) = sim.environments.clones
    assert sim.calls("clone") == 2
    services = in_environment(sim, clone)
    assert {name: asked(sim, services[name]) for name in ORDER} == {n: [b] for n, b in CONFIGURED.items()}
    assert (run.json()["environment_id"], run.json()["cloned"]) == (clone, False)
    assert "another run made it at the same time; this run deploys into it" in run.stderr
    assert WHOLE_SAID in run.stderr


@pytest.mark.parametrize(
    ("given", "code", "verdict", "said", "headline"),
    [
        (
            {"api-token": "not-a-qovery-token-but-secret"},
            3,
            "error",
            "Nothing was deployed: the API token was refused (HTTP 401).",
            "Qovery environment: nothing was deployed",
        ),
        (
            {},  # the clone's services never appear
            3,
            "error",
            "Nothing was deployed: the clone pr-42 (",
            "Qovery environment: nothing was deployed",
        ),
        (
            {"timeout": "30s"},  # nor before `timeout` runs out
            124,
            "timed_out",
            "Nothing was deployed: the clone pr-42 (",
            "Qovery environment deployment timed out",
        ),
    ],
)
def test_before_its_services_are_known_the_whole_preview_is_the_report_s_one_entry(
    simulator: SimFactory,
    tmp_path: Path,
    given: dict[str, str],
    code: int,
    verdict: str,
    said: str,
    headline: str,
) -> None:
    sim = previews(simulator)
    sim.environments.clone_seconds = math.inf
    run = on_github(sim, tmp_path, "run", **given)

    assert run.code == code, run.stderr
    assert sim.calls("deploy") == 0
    result = json.loads(run.outputs()["result"])
    assert result["verdict"] == verdict and result["message"].startswith(said)
    assert [(s["type"], s["id"], s["verdict"]) for s in result["services"]] == [
        ("environment", None, verdict)
    ]
    assert "::group::Qovery environment pr-42: nothing was deployed" in run.stdout
    summary = run.summary()
    assert f" {headline}\n" in summary and "| Environment | `pr-42` |" in summary
    assert (
        "| Not deployed | each service's current source (no image tag, commit or chart version given) |"
        in summary
    )
    clones = sim.environments.clones
    assert (result["environment_id"], result["cloned"]) == ((clones[0], True) if clones else (None, False))
    if clones:
        assert (
            f"The clone pr-42 ({clones[0]}) is kept: the next run deploys into it what it names, or the "
            in (run.stderr)
        )


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (
            {"image-tag": "pr-42-abc"},
            "Invalid input `image-tag` (`pr-42-abc` from the environment variable QOVERY_IMAGE_TAG): it goes to "
            "the services named, and none is: with `clone-from` (`staging` from the environment variable "
            "QOVERY_CLONE_FROM) and nothing named, the whole preview deploys",
        ),
        (
            {"force-event": "START"},
            "Invalid input `force-event` (`START` from the environment variable QOVERY_FORCE_EVENT): it goes to "
            "the services named, and none is",
        ),
        (
            {"apply-immediately": "true"},
            "Invalid input `apply-immediately` (`true` from the environment variable QOVERY_APPLY_IMMEDIATELY): "
            "it goes to the services named, and none is",
        ),
        (
            {"environment": "Staging"},
            "Invalid input `environment` (`Staging` from the environment variable QOVERY_ENVIRONMENT): it is the "
            "blueprint `clone-from` names (`staging` from the environment variable QOVERY_CLONE_FROM); a preview "
            "is never cloned into its own blueprint. Fix: give the preview its own name, such as pr-42.",
        ),
        (
            {"environment": STAGING_ENVIRONMENT},
            "Invalid input `clone-from` (`staging` from the environment variable QOVERY_CLONE_FROM): "
            f"`environment` (`{STAGING_ENVIRONMENT}` from the environment variable QOVERY_ENVIRONMENT) is a "
            "UUID, which names an environment that exists; a clone is named.",
        ),
        (
            {"environment": ""},
            "Invalid input `clone-from` (`staging` from the environment variable QOVERY_CLONE_FROM): needs "
            "`environment`, the preview's name",
        ),
        (
            {"clone-from": "stagign"},
            "Invalid input `clone-from` (`stagign` from the environment variable QOVERY_CLONE_FROM): no "
            "environment is named 'stagign' in project shop. Names there, closest first: staging, production.",
        ),
        (
            {"clone-from": ""},  # without it, nothing named is what it always was
            "Invalid input `job-id`: is required (or give `jobs` or `services`): set the environment variable "
            "QOVERY_JOB_ID, or give --job-id. Fix: copy the job's id from its URL in the Qovery console",
        ),
    ],
)
def test_what_nothing_named_still_refuses_comes_before_anything_is_cloned_or_posted(
    simulator: SimFactory, given: dict[str, str], said: str
) -> None:
    sim = previews(simulator)
    run = whole(sim, **given)
    assert_refused(run, said)
    assert sim.calls("clone") == 0 and not sim.requests and not sim.environments.clones


def test_a_blueprint_with_nothing_to_deploy_is_refused_before_it_is_cloned(simulator: SimFactory) -> None:
    sim = previews(simulator)
    sim.environments.declare_stages(
        STAGING_ENVIRONMENT, Stage("all", [s.job_id for s in blueprint_services()], skipped=set(sim.services))
    )
    run = whole(sim)

    assert_refused(
        run,
        "Invalid input `clone-from` (`staging` from the environment variable QOVERY_CLONE_FROM): nothing is "
        "named, so the whole environment deploys, and environment staging has no service an environment-level "
        "deployment deploys",
    )
    assert sim.calls("clone") == 0 and not sim.requests
