"""A pull request's own environment (`clone-from`): the first run clones the blueprint and deploys it whole,
stage after stage; a later run deploys what is named into it; two runs at once make one clone; every
refusal comes before anything is cloned. In-process, on a virtual clock, every exchange checked against the
OpenAPI spec."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from collections import deque
from itertools import pairwise
from pathlib import Path

import pytest
from support.github import finish_github, github_context, in_process_github
from support.previews import (
    COMMIT,
    ORDER,
    PRODUCTION,
    TAG,
    another_run_s_clone,
    asked,
    bodies_of,
    cloned_just_before,
    in_environment,
    preview_inputs,
    previews,
    step,
)
from support.sims import TOKEN, SimFactory, job
from support.step import (
    ROOT,
    assert_refused,
    assert_secret_absent,
    base_env,
    github_env,
    gitlab_env,
    run_step,
)

from qovery_job_deploy.simulator import Fault, Place
from qovery_job_deploy.simulator.environments import STAGING_ENVIRONMENT, Stage, blueprint_services


def test_a_first_run_clones_the_blueprint_and_deploys_everything_in_it_stage_after_stage(
    simulator: SimFactory,
) -> None:
    sim = previews(simulator)
    run = step(sim)

    assert run.code == 0, run.stderr
    assert bodies_of(sim, "clone") == [{"name": "pr-42", "mode": "PREVIEW", "apply_deployment_rule": True}]
    (clone,) = sim.environments.clones
    assert sim.places[clone].environment_name == "pr-42" and sim.places[clone].environment_mode == "PREVIEW"
    services = in_environment(sim, clone)
    assert sorted(services) == sorted(ORDER)
    # Named: the values given; the others: what the blueprint runs (nothing runs in a clone yet).
    assert asked(sim, services["api"]) == [{"image_tag": TAG}]
    assert asked(sim, services["web"]) == [{"git_commit_id": COMMIT}]
    assert asked(sim, services["postgres"]) == [None]  # a database deploys its configuration
    assert asked(sim, services["migrate"]) == [{}]  # a job: its current source
    # Stage after stage: each request once the one before it ended.
    requests = [sim.deployments_of(services[name].job_id)[0] for name in ORDER]
    assert all(later.created_at >= earlier.ends_at() for earlier, later in pairwise(requests))
    assert all(not sim.deployments_of(s.job_id) for s in in_environment(sim, STAGING_ENVIRONMENT).values())

    result = run.json()
    assert [s["name"] for s in result["services"]] == ORDER
    assert [s["verdict"] for s in result["services"]] == ["succeeded"] * 4
    assert [s["id"] for s in result["services"]] == [services[name].job_id for name in ORDER]
    assert [s["deployment_request_id"] for s in result["services"]] == [r.id for r in requests]
    assert (result["environment_id"], result["cloned"], result["deleted"]) == (clone, True, False)
    # The clone's first default link (its container's: services copied in the blueprint's order), its own.
    assert result["environment_url"] == f"https://api-{services['api'].job_id[:8]}.qovery.example"
    assert (result["image_tag"], result["git_commit_id"]) == (TAG, COMMIT)
    assert f"cloned staging -> pr-42 ({clone})" in run.stderr
    assert (
        "Deploying 4 Qovery services: postgres, migrate, api, web into pr-42, cloned from staging"
        in run.stderr
    )
    assert (
        "stage order, each stage once the one before it went well: 1. postgres; 2. migrate; 3. api; 4. web"
        in run.stderr
    )


def test_a_later_run_deploys_only_what_is_named_into_the_preview_as_it_is(simulator: SimFactory) -> None:
    sim = previews(simulator)
    assert step(sim).code == 0
    (clone,) = sim.environments.clones
    run = step(sim, environment="PR-42", **{"image-tag": "pr-42-def"})  # names are case-insensitive

    assert run.code == 0, run.stderr
    assert sim.calls("clone") == 1 and sim.environments.clones == [clone]
    services = in_environment(sim, clone)
    assert asked(sim, services["api"]) == [{"image_tag": TAG}, {"image_tag": "pr-42-def"}]
    assert asked(sim, services["web"]) == [{"git_commit_id": COMMIT}] * 2
    assert len(sim.deployments_of(services["postgres"].job_id)) == 1  # deployed once, by the first run
    result = run.json()
    assert [s["name"] for s in result["services"]] == ["api", "web"]
    assert (result["environment_id"], result["cloned"]) == (clone, False)
    assert result["environment_url"] == f"https://api-{services['api'].job_id[:8]}.qovery.example"
    assert "it exists: deploying into it what is named; staging is untouched" in run.stderr
    assert "cloning" not in run.stderr


@pytest.mark.parametrize("status", [409, 400])
def test_two_runs_at_once_make_one_clone(simulator: SimFactory, status: int) -> None:
    """Another run of the same pull request clones pr-42 just before this one does: this one's clone is
    refused (409 as documented, or 400), the list read again, and that clone used, once its services are
    listed, as a preview that existed."""
    sim = previews(simulator)
    cloned_just_before(sim, status)
    run = step(sim)

    assert run.code == 0, run.stderr
    (clone,) = sim.environments.clones  # the other run's: one clone
    assert sim.calls("clone") == 2
    assert [p.environment_name for p in sim.places.values()].count("pr-42") == 1
    services = in_environment(sim, clone)
    assert sorted(n for n, s in services.items() if sim.deployments_of(s.job_id)) == ["api", "web"]
    assert (run.json()["environment_id"], run.json()["cloned"]) == (clone, False)
    assert (
        f"pr-42 exists now (HTTP {status} to the clone): another run made it at the same time" in run.stderr
    )


def test_a_clone_refused_while_the_blueprint_is_busy_is_sent_again(simulator: SimFactory) -> None:
    sim = previews(simulator)
    sim.faults["clone"] = deque([Fault(status=409)])  # "operation is in progress", on the blueprint
    run = step(sim)

    assert run.code == 0, run.stderr
    assert sim.calls("clone") == 2 and len(sim.environments.clones) == 1
    assert run.json()["cloned"] is True and len(run.json()["services"]) == 4
    assert "cloning again in 2s" in run.stderr


@pytest.mark.parametrize(("timeout", "code", "verdict"), [("10m", 3, "error"), ("30s", 124, "timed_out")])
def test_a_clone_whose_services_never_appear_ends_in_an_error_not_a_wait(
    simulator: SimFactory, timeout: str, code: int, verdict: str
) -> None:
    sim = previews(simulator)
    sim.environments.clone_seconds = math.inf
    run = step(sim, timeout=timeout)

    assert run.code == code, run.stderr
    (clone,) = sim.environments.clones
    assert run.seconds <= 61  # the clone's wait: a minute at most, never the whole `timeout`
    result = run.json()
    assert result["verdict"] == verdict and not sim.requests
    assert "does not list every service of staging after" in result["message"]
    assert (result["environment_id"], result["cloned"]) == (clone, True)
    assert f"The clone pr-42 ({clone}) is kept: the next run deploys into it what it names" in run.stderr


def test_a_stage_that_fails_skips_the_later_ones_and_the_clone_is_kept(simulator: SimFactory) -> None:
    failing = job(
        (0.0, "QUEUED"), (0.5, "DEPLOYMENT_ERROR"), job_name="seed", environment_id=STAGING_ENVIRONMENT
    )
    sim = previews(simulator, failing)
    database, migrate, api, web = (s.job_id for s in blueprint_services())
    sim.environments.declare_stages(
        STAGING_ENVIRONMENT,
        Stage("data", [database]),
        Stage("jobs", [migrate, failing.job_id]),
        Stage("apps", [api, web]),
    )
    run = step(sim)

    assert run.code == 1, run.stderr
    (clone,) = sim.environments.clones
    assert clone in sim.places  # kept, for the next run
    verdicts = {s["name"]: s["verdict"] for s in run.json()["services"]}
    assert verdicts == {
        "postgres": "succeeded",
        "migrate": "succeeded",
        "seed": "failed",
        "api": "skipped",
        "web": "skipped",
    }
    skipped = next(s for s in run.json()["services"] if s["name"] == "api")
    assert skipped["message"] == "Not deployed: stage 2 (seed) did not succeed before its stage."
    services = in_environment(sim, clone)
    assert not sim.deployments_of(services["api"].job_id) and not sim.deployments_of(services["web"].job_id)
    jobs = [sim.deployments_of(services[name].job_id)[0] for name in ("migrate", "seed")]
    assert jobs[0].created_at == jobs[1].created_at  # one stage: at once
    assert f"The clone pr-42 ({clone}) is kept" in run.stderr


def test_a_service_its_stage_skips_is_left_out_unless_named(simulator: SimFactory) -> None:
    sim = previews(simulator)
    database, migrate, api, web = (s.job_id for s in blueprint_services())
    sim.environments.declare_stages(
        STAGING_ENVIRONMENT, Stage("all", [database, migrate, api, web], skipped={migrate, web})
    )
    run = step(sim, services="web", **{"image-tag": ""})

    assert run.code == 0, run.stderr
    assert [s["name"] for s in run.json()["services"]] == [
        "postgres",
        "api",
        "web",
    ]  # as the stage lists them
    assert "migrate: its stage skips it in environment-level deployments: left out" in run.stderr
    services = in_environment(sim, sim.environments.clones[0])
    assert not sim.deployments_of(services["migrate"].job_id)


def test_without_waiting_every_stage_is_requested_in_order(simulator: SimFactory) -> None:
    sim = previews(simulator)
    run = step(sim, wait="false")

    assert run.code == 0, run.stderr
    assert [s["verdict"] for s in run.json()["services"]] == ["accepted"] * 4
    services = in_environment(sim, sim.environments.clones[0])
    requests = [sim.deployments_of(services[name].job_id)[0] for name in ORDER]
    assert [r.created_at for r in requests] == sorted(r.created_at for r in requests)


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (
            {"environment": "Staging"},
            "Invalid input `environment` (`Staging` from the environment variable QOVERY_ENVIRONMENT): it is the "
            "blueprint `clone-from` names (`staging` from the environment variable QOVERY_CLONE_FROM); a preview "
            "is never cloned into its own blueprint. Fix: give the preview its own name, such as pr-42.",
        ),
        (
            {"environment": STAGING_ENVIRONMENT},
            f"Invalid input `clone-from` (`staging` from the environment variable QOVERY_CLONE_FROM): "
            f"`environment` (`{STAGING_ENVIRONMENT}` from the environment variable QOVERY_ENVIRONMENT) is a "
            "UUID, which names an environment that exists; a clone is named.",
        ),
        (
            {"environment": ""},  # services by name need it anyway
            "Invalid input `environment`: is required when a job or service is given by name",
        ),
        (
            {"clone-from": "stagign"},
            "Invalid input `clone-from` (`stagign` from the environment variable QOVERY_CLONE_FROM): no "
            "environment is named 'stagign' in project shop. Names there, closest first: staging, production.",
        ),
        (
            {"clone-from": "e0e0e0e0-0000-4000-8000-00000000dead"},
            "Invalid input `clone-from` (`e0e0e0e0-0000-4000-8000-00000000dead` from the environment variable "
            "QOVERY_CLONE_FROM): no environment has the id e0e0e0e0-0000-4000-8000-00000000dead in project shop.",
        ),
        (
            {"services": "api, wbe"},
            "Invalid input `services` (`api, wbe` from the environment variable QOVERY_SERVICES): no service is "
            "named 'wbe' in environment staging.",
        ),
        (
            {"services": "api", "image-tag": "", "git-commit-id": "", "chart-version": "1.2.3"},
            "Invalid input `chart-version` (`1.2.3` from the environment variable QOVERY_CHART_VERSION): api is "
            "a container, which deploys an image tag",
        ),
        (
            {"services": "container:66666666-6666-4666-8666-666666666666"},
            "Invalid input `services` (`container:66666666-6666-4666-8666-666666666666` from the environment "
            "variable QOVERY_SERVICES): with `clone-from` (`staging` from the environment variable "
            "QOVERY_CLONE_FROM), services are named by name",
        ),
    ],
)
def test_every_refusal_comes_before_anything_is_cloned_or_posted(
    simulator: SimFactory, extra: dict[str, str], said: str
) -> None:
    sim = previews(simulator)
    run = step(sim, **extra)
    assert_refused(run, said)
    assert sim.calls("clone") == 0 and not sim.requests and not sim.environments.clones


PASTED = "qov_PastedIntoAPreviewNameZyXwVuTs"


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ({"environment": f"pr-42;{PASTED}"}, "it names the preview, and part of it looks like a token"),
        ({"environment": f"'{PASTED}'", "dry-run": "true"}, "it names the preview, and part of it looks like"),
        (
            {"environment": f"pr-{PASTED}", "delete-environment": "true", "services": "", "image-tag": "",
             "git-commit-id": ""},
            "it names the preview to delete, and part of it looks like a token",
        ),
    ],
)  # fmt: skip
def test_a_preview_named_with_a_token_is_refused_without_showing_it(
    simulator: SimFactory, extra: dict[str, str], said: str
) -> None:
    """A preview's name shows in every line, output and summary, and in Qovery's console once cloned."""
    sim = previews(simulator)
    run = step(sim, **extra)
    assert_refused(run, "Invalid input `environment` (value not shown (part of it looks like a token), from ")
    assert (
        said in run.problems()[0]
        and "Fix: give the preview its own name, such as pr-42." in run.problems()[0]
    )
    assert_secret_absent(run, PASTED)
    assert not sim.exchanges  # nothing read, nothing cloned


@pytest.mark.parametrize(
    ("flags", "never"),
    [
        ([], "a preview is never cloned into its own blueprint"),
        (["--delete-environment"], "the blueprint is never deleted"),
    ],
)
def test_a_preview_named_as_its_blueprint_is_said_plainly(flags: list[str], never: str) -> None:
    args = ["--project", "shop", "--clone-from", "staging", "--environment", "staging", *flags]
    run = run_step(base_env() | {"QOVERY_API_TOKEN": TOKEN}, args=args)

    assert run.code == 2
    assert run.problems() == [
        "Invalid input `environment` (`staging` from the flag --environment): it is the blueprint `clone-from` "
        f"names (`staging` from the flag --clone-from); {never}. Fix: give the preview its own name, such as "
        "pr-42."
    ]


def test_every_problem_of_the_inputs_is_one_line(simulator: SimFactory, tmp_path: Path) -> None:
    sim = previews(simulator)
    env, files = github_env(
        tmp_path,
        preview_inputs(
            sim, environment="STAGING", **{"job-id": "", "services": "11111111-1111-4111-8111-111111111111"}
        ),
    )
    run = run_step(env, files)

    assert run.code == 2
    assert len(run.problems()) == 2
    assert all(problem.count("Invalid input") == 1 for problem in run.problems())
    assert all("the GitHub input `" in problem for problem in run.problems())  # where each came from


def test_a_dry_run_says_what_it_would_clone_and_deploy_and_changes_nothing(simulator: SimFactory) -> None:
    sim = previews(simulator)
    run = step(sim, **{"dry-run": "true"})

    assert run.code == 0, run.stderr
    assert sim.calls("clone") == 0 and not sim.requests and not sim.environments.clones
    result = run.json()
    assert result["dry_run"] is True and result["verdict"] == "planned"
    assert (result["environment_id"], result["cloned"]) == (None, False)
    assert [(s["name"], s["id"], s["verdict"]) for s in result["services"]] == [
        (name, None, "planned") for name in ORDER
    ]
    api = result["services"][2]
    assert api["message"] == (
        "Dry run: pr-42 would be cloned from staging, and this container deployed (image tag pr-42-abc). "
        "Nothing was cloned or posted."
    )
    assert "environment pr-42 does not exist in project shop: a run would clone it" in run.stderr


def test_a_dry_run_into_an_existing_preview_is_a_dry_run_of_what_is_named(simulator: SimFactory) -> None:
    sim = previews(simulator)
    assert step(sim).code == 0
    count = len(sim.requests)
    run = step(sim, **{"dry-run": "true"})

    assert run.code == 0, run.stderr
    assert sim.calls("clone") == 1 and len(sim.requests) == count
    result = run.json()
    assert [(s["name"], s["verdict"], s["current_state"]) for s in result["services"]] == [
        ("api", "planned", "DEPLOYED"),
        ("web", "planned", "DEPLOYED"),
    ]
    assert result["environment_id"] == sim.environments.clones[0]


def test_github_and_gitlab_get_the_preview_s_outputs(simulator: SimFactory, tmp_path: Path) -> None:
    sim = previews(simulator)
    (tmp_path / "github").mkdir()
    env, files = github_env(tmp_path / "github", preview_inputs(sim))
    run = run_step(env, files)
    (clone,) = sim.environments.clones
    outputs = run.outputs()
    url = f"https://api-{in_environment(sim, clone)['api'].job_id[:8]}.qovery.example"
    assert (outputs["environment-id"], outputs["environment-url"], outputs["cloned"]) == (clone, url, "true")
    assert f"Preview environment pr-42 · `{clone}`, cloned from staging by this run" in run.summary()

    (tmp_path / "gitlab").mkdir()
    env, files = gitlab_env(tmp_path / "gitlab", preview_inputs(sim))
    run = run_step(env, files)
    dotenv = run.dotenv()
    assert (dotenv["QOVERY_ENVIRONMENT_ID"], dotenv["QOVERY_ENVIRONMENT_URL"]) == (clone, url)
    assert dotenv["QOVERY_CLONED"] == "false"


def test_the_preview_demo_plays_the_whole_lifecycle() -> None:
    """`qovery-job-deploy demo preview`: cloned and deployed whole, deployed into again, deleted."""
    run = run_step(base_env(), args=["demo", "preview"])

    assert run.code == 0, run.stderr
    first, second, third = run.stderr.split("\nThen ")
    assert "cloned staging -> pr-42" in first and "4 services: 4 succeeded" in first
    assert "it exists: deploying into it what is named" in second and "image tag pr-42-2" in second
    assert "Deleting Qovery environment pr-42 (shop)" in third and "deleted in" in third
    assert run.stdout.count("Exit code 0: ") == 3
    assert "cloned                     yes" in run.stdout
    # Each service as what it is: the first run's deciding one is the database, the second's the container.
    shown = [line.split()[:2] for line in run.stdout.splitlines() if line.split()[1:2] in (["id"], ["name"])]
    assert ["database", "name"] in shown and ["container", "name"] in shown
    assert not any(words[0] == "job" for words in shown), shown
    assert "Exit code 0: the environment was deleted." in run.stdout
    assert max(len(line) for line in run.stdout.splitlines() if "https://" not in line) <= 120


def test_the_preview_benchmark_counts_every_request_of_the_lifecycle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """benchmarks/preview.py --quick, in this process: each run succeeds, and the first clones once."""
    spec = importlib.util.spec_from_file_location("preview_benchmark", ROOT / "benchmarks" / "preview.py")
    assert spec is not None and spec.loader is not None
    benchmark = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, benchmark)  # its dataclasses look themselves up there
    spec.loader.exec_module(benchmark)
    benchmark.main(["--quick", "--out", str(tmp_path)])

    runs = {run["run"]: run for run in json.loads((tmp_path / "preview.json").read_text())}
    first, later, whole, delete = (
        runs["first run: clone, then deploy everything"],
        runs["later run: deploy what is named"],
        runs["later run, nothing named: all of it again"],
        runs["delete"],
    )
    assert first["operations"]["clone"] == 1 and first["operations"]["deploy"] == 4
    assert "clone" not in later["operations"] and later["operations"]["deploy"] == 2
    assert "clone" not in whole["operations"] and whole["operations"]["deploy"] == 4
    assert whole["operations"]["stages"] == 1
    assert delete["operations"]["delete_environment"] == 1 and "deploy" not in delete["operations"]
    assert all(run["requests"] == sum(run["operations"].values()) for run in runs.values())
    assert "| first run: clone, then deploy everything |" in (tmp_path / "preview.md").read_text()


def test_a_clone_whose_answer_is_lost_is_found_in_the_list_and_deployed_whole(simulator: SimFactory) -> None:
    sim = previews(simulator)
    sim.faults["clone"] = deque([Fault(status=502, acted=True)])  # Qovery cloned; its answer never came
    run = step(sim)

    assert run.code == 0, run.stderr
    (clone,) = sim.environments.clones
    assert sim.calls("clone") == 1  # found in the list: not sent again
    assert (run.json()["environment_id"], run.json()["cloned"]) == (clone, True)
    assert len(run.json()["services"]) == 4
    assert "The clone's answer was lost" in run.stderr


@pytest.mark.parametrize(
    ("given", "deployed"),
    [
        ({}, ["api", "web"]),  # before a name is an input error
        ({"services": "", "image-tag": "", "git-commit-id": ""}, ORDER),  # nothing named: it lists none yet
    ],
)
def test_another_run_s_clone_made_moments_ago_is_waited_for(
    simulator: SimFactory, given: dict[str, str], deployed: list[str]
) -> None:
    sim = previews(simulator)
    sim.environments.clone_seconds = 5.0
    another_run_s_clone(sim)
    run = step(sim, **given)

    assert run.code == 0, run.stderr
    (clone,) = sim.environments.clones
    assert "Waiting for pr-42 to list the 4 services of staging" in run.stderr
    assert [s["name"] for s in run.json()["services"]] == deployed
    assert (run.json()["environment_id"], run.json()["cloned"]) == (clone, False)


def test_a_name_missing_from_a_complete_preview_is_an_input_error_at_once(simulator: SimFactory) -> None:
    sim = previews(simulator)
    assert step(sim).code == 0
    run = step(sim, services="api, worker")

    assert_refused(
        run, "Invalid input `services` (`api, worker` from the environment variable QOVERY_SERVICES)"
    )
    assert "Waiting for" not in run.stderr and run.seconds < 1


def test_a_fresh_clone_s_github_deployment_is_a_transient_preview_and_a_deletion_makes_none(
    simulator: SimFactory, tmp_path: Path
) -> None:
    """The clone's mode (PREVIEW) reaches the GitHub deployment record (`github-deployment`); a deletion
    records no deployment (what it does to the records is the GitHub publishers' to come)."""
    sim = previews(simulator)
    fake = in_process_github()
    try:
        (tmp_path / "deploy").mkdir()
        env, files = github_env(tmp_path / "deploy", preview_inputs(sim, **{"github-deployment": "true"}))
        run = run_step(env | github_context(fake, tmp_path / "deploy", event="pull_request"), files)
        assert run.code == 0, run.stderr
        [asked] = fake.deployments.values()
        assert (asked["environment"], asked["transient_environment"]) == ("pr-42", True)
        assert fake.states()[-1] == "success"

        (tmp_path / "delete").mkdir()
        inputs = preview_inputs(sim, **{"delete-environment": "true", "github-deployment": "true"})
        inputs = {
            key: value
            for key, value in inputs.items()
            if key not in ("services", "image-tag", "git-commit-id")
        }
        env, files = github_env(tmp_path / "delete", inputs)
        run = run_step(env | github_context(fake, tmp_path / "delete", event="pull_request"), files)
        assert run.code == 0, run.stderr
        assert run.json_result()["deleted"] is True and len(fake.deployments) == 1
    finally:
        finish_github(fake)


@pytest.mark.parametrize("dry_run", ["false", "true"])
@pytest.mark.parametrize(
    ("environment", "mode", "given"),
    [
        ("production", "PRODUCTION", {"services": "", "image-tag": "", "git-commit-id": ""}),  # nothing named
        ("production", "PRODUCTION", {"services": "migrate", "image-tag": "", "git-commit-id": ""}),
        ("Production", "PRODUCTION", {}),  # names are compared case-insensitively
        ("pr-42", "STAGING", {}),  # a long-lived environment that bears a preview's name
    ],
)
def test_clone_from_never_deploys_into_an_environment_that_is_no_preview(
    simulator: SimFactory, environment: str, mode: str, given: dict[str, str], dry_run: str
) -> None:
    """An environment of the preview's name whose mode is not PREVIEW or DEVELOPMENT is refused before any
    POST, a dry run too: `clone-from` means a preview, never production redeployed with a PR's values."""
    sim = previews(simulator)
    if environment == "pr-42":
        sim.places[PRODUCTION] = Place(PRODUCTION, "pr-42", environment_mode=mode)
    run = step(sim, environment=environment, **given, **{"dry-run": dry_run})

    name = "production" if environment.casefold() == "production" else "pr-42"
    assert run.problems() == [
        f"Invalid input `environment` (`{environment}` from the environment variable QOVERY_ENVIRONMENT): "
        f"{name} ({PRODUCTION}) is a {mode} environment, and `clone-from` deploys only into a preview "
        "(PREVIEW or DEVELOPMENT). Fix: give the preview its own name, such as pr-42."
    ]
    assert run.code == 2 and not sim.requests and sim.calls("clone") == 0
    assert [e.method for e in sim.exchanges if e.method != "GET"] == []
    assert "it exists" not in run.stderr and "deploying" not in run.stderr


@pytest.mark.parametrize(
    ("mode", "services", "said"),
    [
        ("PREVIEW", "migrate", "it exists: deploying into it what is named"),
        ("DEVELOPMENT", "migrate", "it exists: deploying into it what is named"),
        ("DEVELOPMENT", "", "nothing named: deploying the whole environment pr-7 again (1 service), each"),
    ],
)
def test_clone_from_deploys_into_a_preview_or_development_environment_that_exists(
    simulator: SimFactory, mode: str, services: str, said: str
) -> None:
    sim = previews(simulator)
    sim.places[PRODUCTION] = Place(PRODUCTION, "pr-7", environment_mode=mode)
    run = step(sim, environment="pr-7", services=services, **{"image-tag": "", "git-commit-id": ""})

    assert run.code == 0, run.stderr
    migrate = in_environment(sim, PRODUCTION)["migrate"]
    assert sim.calls("clone") == 0 and len(sim.requests) == len(sim.deployments_of(migrate.job_id)) == 1
    assert f"environment pr-7 -> {PRODUCTION} (it exists" in run.stderr and said in run.stderr


def test_another_environment_made_meanwhile_under_the_preview_s_name_is_refused_as_one_found(
    simulator: SimFactory,
) -> None:
    """The clone refused because the name is taken now, by an environment that is no preview (made in the
    console meanwhile): refused as if it had been listed first; nothing is deployed into it."""
    sim = previews(simulator)

    def made_in_the_console() -> None:
        sim.places[PRODUCTION] = Place(PRODUCTION, "pr-42", environment_mode="STAGING")

    sim.just_before["clone"] = deque([made_in_the_console])
    run = step(sim)

    assert_refused(
        run,
        f"Invalid input `environment` (`pr-42` from the environment variable QOVERY_ENVIRONMENT): pr-42 "
        f"({PRODUCTION}) is a STAGING environment, and `clone-from` deploys only into a preview",
    )
    assert sim.calls("clone") == 1 and not sim.requests and not sim.environments.clones
