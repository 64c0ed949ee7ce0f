"""Environments as previews use them: clone one (`POST /environment/{id}/clone`), delete one (`DELETE
/environment/{id}`), and read its own status (`GET /environment/{id}/status`) and its deployment stages
(`GET /environment/{id}/deploymentStage`).

- A clone is a new environment of the same project, listed at once, in the mode asked (the source's when
  none is). Its services are copies of the source's: the same names, kinds and configuration, new ids,
  never deployed (READY, NEVER_DEPLOYED). Qovery makes them after it answers: they are listed only
  `clone_seconds` after the clone (never, when that is infinite). The source's declared stages are copied.
- A name already taken in the project (case-insensitive, as Qovery compares them) is refused with
  `name_taken_status`: 409 as the spec documents for this operation, or 400 to play what Qovery may answer.
- A deletion goes DELETE_QUEUED, then DELETING (`deleting_after`), then the environment and its services are
  gone (`gone_after`): every read of them is a 404. Deleting it again meanwhile is accepted again (204).
  For `stale_for` seconds after the DELETE, its status still shows the state from before (the race Qovery
  plays after any request). A deletion cancelled (`cancel_deletion`, or `cancelled_after` seconds after its
  DELETE, as in the console) leaves the environment: its state is then `cancelled_state`, or, when that is
  None, what its services make it again (READY, DEPLOYED, ...).
- Stages: an environment's own when declared (`declare_stages`), else one per kind, in DEFAULT_STAGES' order.
- Links: a clone's services have their own (`JobScript.answers_on`: of their new ids).
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from qovery_job_deploy.simulator import bodies
from qovery_job_deploy.simulator.routes import Answer, json_answer
from qovery_job_deploy.simulator.scripts import CREATED_AT, JobScript, Place

# Qovery's default stages, one per kind, in the order an environment deploys them (the simulator's choice).
DEFAULT_STAGES = ("database", "terraform", "job", "container", "application", "helm")
MODES = ("DEVELOPMENT", "PREVIEW", "PRODUCTION", "STAGING")


@dataclass
class Stage:
    """A deployment stage: its name, its services in order, and those environment-level deployments skip."""

    name: str
    service_ids: list[str]
    skipped: set[str] = field(default_factory=set)


StatusOf = Callable[[JobScript], dict[str, Any]]


@dataclass
class Environments:
    """What previews need of the simulated environments: the model's services and places (its own dicts,
    changed here), and the clones and deletions under way."""

    services: dict[str, JobScript]
    places: dict[str, Place]
    clone_seconds: float = 1.0  # after the clone, when its services are listed (math.inf: never)
    name_taken_status: int = 409
    deleting_after: float = 1.0  # after the DELETE: DELETING from then on
    gone_after: float = 3.0  # after the DELETE: gone (404) from then on
    stale_for: float = 0.0  # after the DELETE: the status shows the state from before until then
    cancelled_after: float = math.inf  # after the DELETE: the deletion cancelled then (math.inf: never)
    cancelled_state: str | None = None  # a cancelled deletion's state (None: the services' state again)
    stages: dict[str, list[Stage]] = field(default_factory=dict)  # declared, by environment id
    # Clones whose services are not listed yet: (when they will be, the services).
    pending: list[tuple[float, list[JobScript]]] = field(default_factory=list)
    deleting: dict[str, float] = field(default_factory=dict)  # environment id -> when its DELETE came
    removed: dict[str, Place] = field(default_factory=dict)  # deleted: their projects stay listed
    cancelled: dict[str, str | None] = field(default_factory=dict)  # deletions cancelled: the state shown
    clones: list[str] = field(default_factory=list)  # the ids of the environments cloned, in order

    def declare_stages(self, environment_id: str, *stages: Stage) -> None:
        self.stages[environment_id] = list(stages)

    # -- time passes ------------------------------------------------------------------------------------

    def settle(self, now: float) -> None:
        """A clone's services listed once their time has come; a deleted environment gone once its has."""
        for ready_at, scripts in list(self.pending):
            if now >= ready_at:
                self.pending.remove((ready_at, scripts))
                self.services.update({script.job_id: script for script in scripts})
        for environment_id, asked_at in list(self.deleting.items()):
            if now >= asked_at + self.cancelled_after and self.cancelled_after < self.gone_after:
                self.cancel_deletion(environment_id, self.cancelled_state)
            elif now >= asked_at + self.gone_after:
                del self.deleting[environment_id]
                self.removed[environment_id] = self.places.pop(environment_id)

    def cancel_deletion(self, environment_id: str, state: str | None = None) -> None:
        """The deletion under way of `environment_id` cancelled (in the console): the environment stays, its
        state `state` (None: what its services make it)."""
        del self.deleting[environment_id]
        self.cancelled[environment_id] = state

    # -- the operations ---------------------------------------------------------------------------------

    def answer(
        self, operation: str, environment_id: str, body: bytes, now: float, status_of: StatusOf
    ) -> Answer:
        """The answer to one of the operations `routes.ROUTES` sends here, about `environment_id`."""
        if environment_id not in self.places:
            return Answer(404)
        if operation == "clone":
            return self.clone(environment_id, body, now)
        if operation == "delete_environment":
            self.deleting.setdefault(environment_id, now)
            self.cancelled.pop(environment_id, None)
            return Answer(204)
        here = [script for script in self.services.values() if script.environment_id == environment_id]
        if operation == "environment_status":
            return self.status(environment_id, here, status_of, now)
        return self.stages_of(environment_id, here)  # stages

    def clone(self, source_id: str, body: bytes, now: float) -> Answer:
        services, places = self.services, self.places
        source = places[source_id]
        try:
            asked = json.loads(body or b"{}")
        except ValueError:
            return Answer(400, b"the body is not JSON", {"Content-Type": "text/plain"})
        name = str(asked.get("name") or "").strip() if isinstance(asked, dict) else ""
        if not name:
            return Answer(400, b"name is required", {"Content-Type": "text/plain"})
        project_id = asked.get("project_id") or source.project_id
        taken = [
            p
            for p in places.values()
            if p.project_id == project_id and p.environment_name.casefold() == name.casefold()
        ]
        if taken:
            return Answer(
                self.name_taken_status,
                f"an environment named {name} already exists".encode(),
                {"Content-Type": "text/plain"},
            )
        mode = asked.get("mode") if asked.get("mode") in MODES else source.environment_mode
        clone = replace(
            source,
            environment_id=str(uuid.uuid4()),
            environment_name=name,
            environment_mode=mode,
            project_id=project_id,
        )
        places[clone.environment_id] = clone
        self.clones.append(clone.environment_id)
        copies = {
            script.job_id: _copy(script, clone)
            for script in services.values()
            if script.environment_id == source_id
        }
        if source_id in self.stages:
            self.stages[clone.environment_id] = [
                Stage(
                    stage.name,
                    [copies[i].job_id for i in stage.service_ids if i in copies],
                    {copies[i].job_id for i in stage.skipped if i in copies},
                )
                for stage in self.stages[source_id]
            ]
        if not math.isinf(self.clone_seconds):
            self.pending.append((now + self.clone_seconds, list(copies.values())))
        return json_answer(202, bodies.environment(clone))

    def status(self, environment_id: str, here: list[JobScript], status_of: StatusOf, now: float) -> Answer:
        """`EnvironmentStatus`: DELETE_QUEUED, then DELETING while it is deleted (the state from before for
        `stale_for`); a cancelled deletion's state; else its services' state."""
        statuses: dict[str, list[dict[str, Any]]] = {}
        for script in here:
            statuses.setdefault(f"{script.kind}s", []).append(status_of(script))
        body = bodies.environment_statuses(environment_id, statuses, None)["environment"]
        state = self.cancelled.get(environment_id)
        if environment_id in self.deleting and now - self.deleting[environment_id] >= self.stale_for:
            since = now - self.deleting[environment_id]
            state = "DELETING" if since >= self.deleting_after else "DELETE_QUEUED"
        if state is not None:
            body |= {"state": state, "last_deployment_state": state, "deployment_status": "OUT_OF_DATE"}
        return json_answer(200, body)

    def stages_of(self, environment_id: str, here: list[JobScript]) -> Answer:
        """`DeploymentStageResponseList`: the declared stages, else one per kind (empty ones included)."""
        stages = self.stages.get(environment_id) or [
            Stage(f"{kind.upper()} DEFAULT", [s.job_id for s in here if s.kind == kind])
            for kind in DEFAULT_STAGES
        ]
        kinds = {script.job_id: script.service_type for script in here}
        results = [
            {
                "id": _stable_id(environment_id, stage.name),
                "created_at": CREATED_AT,
                "environment": {"id": environment_id},
                "name": stage.name,
                "description": "",
                "deployment_order": order,
                "services": [
                    {
                        "id": _stable_id(environment_id, service_id),
                        "created_at": CREATED_AT,
                        "service_id": service_id,
                        "service_type": kinds[service_id],
                        "is_skipped": service_id in stage.skipped,
                    }
                    for service_id in stage.service_ids
                    if service_id in kinds
                ],
            }
            for order, stage in enumerate(stages, start=1)
        ]
        return json_answer(200, {"results": results})


# A blueprint for previews (the demo's `preview` scenario): staging in acme / shop, whose four services
# deploy in about a second each, one stage after another.
STAGING_ENVIRONMENT = "e1e1e1e1-0000-4000-8000-0000000000c1"
STAGING = Place(STAGING_ENVIRONMENT, "staging", environment_mode="STAGING")


def blueprint_services() -> list[JobScript]:
    """The services of staging, the previews' blueprint: a database, a job, a container, an application."""
    built = [(0.0, "QUEUED"), (0.3, "BUILDING"), (0.6, "DEPLOYING"), (1.0, "DEPLOYED")]
    rows = [
        ("db", "database", "postgres", [(0.0, "QUEUED"), (0.3, "DEPLOYING"), (1.0, "DEPLOYED")]),
        ("9b", "job", "migrate", [(0.0, "QUEUED"), (0.3, "EXECUTING"), (1.0, "DEPLOYED")]),
        ("a9", "container", "api", built),
        ("eb", "application", "web", built),
    ]
    return [
        JobScript(
            f"c1c1c1c1-0000-4000-8000-0000000000{end}",
            timeline,
            kind=kind,
            job_name=name,
            environment_id=STAGING_ENVIRONMENT,
            environment_name="staging",
            about="in staging, the previews' blueprint: deploys in about 1 s",
        )
        for end, kind, name, timeline in rows
    ]


def _copy(script: JobScript, clone: Place) -> JobScript:
    """A service of the clone: the same name and configuration, a new id, never deployed."""
    return replace(
        script,
        job_id=str(uuid.uuid4()),
        environment_id=clone.environment_id,
        environment_name=clone.environment_name,
        project_id=clone.project_id,
        organization_id=clone.organization_id,
        previous_request_id=None,
        previous_state="READY",
        past_durations=[],
        faults={},
        event_timelines=dict(script.event_timelines),
        links=None,  # its own Qovery domain (custom domains are not cloned here)
    )


def _stable_id(environment_id: str, name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{environment_id}/{name}"))
