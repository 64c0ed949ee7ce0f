"""A preview's simulator and inputs for the tests (`clone-from`): acme / shop with staging, the blueprint
(postgres, migrate, api, web: one default stage each), and production; and what the simulator was asked."""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from qovery_job_deploy.simulator import JobScript, Place, QoverySimulator
from qovery_job_deploy.simulator.environments import STAGING, STAGING_ENVIRONMENT, blueprint_services
from qovery_job_deploy.simulator.routes import route
from support.inputs import sim_inputs
from support.sims import TOKEN, SimFactory, job
from support.step import StepRun, plain_env, run_step

PRODUCTION = "e0e0e0e0-0000-4000-8000-0000000000f1"
TAG, COMMIT = "pr-42-abc", "0123abcd0123abcd0123abcd0123abcd0123abcd"
ORDER = ["postgres", "migrate", "api", "web"]  # the blueprint's stages: database, job, container, application


def previews(simulator: SimFactory, *extra: JobScript, **options: Any) -> QoverySimulator:
    """acme / shop: staging, the blueprint (postgres, migrate, api, web), and production (a job)."""
    production = job(job_name="migrate", environment_id=PRODUCTION)
    places = [STAGING, Place(PRODUCTION, "production")]
    return simulator(*blueprint_services(), production, *extra, places=places, **options)


def preview_inputs(sim: QoverySimulator, **extra: str) -> dict[str, str]:
    """The inputs that deploy api and web to pr-42, cloned from staging, on `sim`."""
    preview = {"project": "shop", "environment": "pr-42", "clone-from": "staging", "services": "api, web"}
    return sim_inputs(sim, **preview | {"image-tag": TAG, "git-commit-id": COMMIT} | extra)


def step(sim: QoverySimulator, **extra: str) -> StepRun:
    return run_step(plain_env(preview_inputs(sim, **extra)))


def in_environment(sim: QoverySimulator, environment_id: str) -> dict[str, JobScript]:
    """The services of an environment, by name."""
    return {s.job_name: s for s in sim.services.values() if s.environment_id == environment_id}


def asked(sim: QoverySimulator, script: JobScript) -> list[Any]:
    """What each deploy request of a service carried (its body), in order."""
    return [
        request.asked["body"]
        for request in sorted(sim.deployments_of(script.job_id), key=lambda r: r.created_at)
    ]


def bodies_of(sim: QoverySimulator, operation: str) -> list[Any]:
    return [json.loads(e.body) for e in sim.exchanges if route(e.method, e.path).operation == operation]


def another_run_s_clone(sim: QoverySimulator) -> None:
    """Another run of the same pull request clones staging into pr-42, now: its services are listed
    `clone_seconds` later."""
    body = json.dumps({"name": "pr-42", "mode": "PREVIEW", "apply_deployment_rule": True}).encode()
    headers = {"Authorization": f"Token {TOKEN}", "Content-Type": "application/json"}
    answer = sim.handle("POST", f"/environment/{STAGING_ENVIRONMENT}/clone", {}, headers, body)
    assert answer.status == 202, answer.body


def cloned_just_before(sim: QoverySimulator, status: int) -> None:
    """Another run clones pr-42 just before this run does, whose clone Qovery refuses with `status`: 409 as
    its spec documents, or 400 (not in the spec's responses of a clone, but what Qovery may answer)."""
    sim.environments.name_taken_status = status
    if status == 400:
        sim.allowed_deviations = ("Unknown response http status: 400",)
    sim.just_before["clone"] = deque([lambda: another_run_s_clone(sim)])
