"""The JSON bodies the simulator answers with, shaped as Qovery's OpenAPI spec says."""

from __future__ import annotations

import time
from typing import Any

from qovery_job_deploy.simulator.scripts import (
    CREATED_AT,
    KIND_ROWS,
    OTHER_SERVICE_ID,
    STATUS_LISTS,
    DeploymentRequest,
    JobScript,
    Place,
)


def log_entries(job: JobScript, request: DeploymentRequest, now: float) -> list[dict[str, Any]]:
    """Our service's lines (its states so far, then what it printed) interleaved with another service's.
    The transmitter's type is the service's `ServiceTypeEnum`; lines of a build are in the "Build" step."""

    def entry(transmitter: JobScript | None, offset: float, step: str, message: str) -> dict[str, Any]:
        who = (
            {"id": OTHER_SERVICE_ID, "name": "frontend", "type": "APPLICATION"}
            if transmitter is None
            else {"id": transmitter.job_id, "name": transmitter.job_name, "type": transmitter.service_type}
        )
        return {
            "type": "DEPLOYMENT",
            "timestamp": iso(offset),
            "details": {
                "execution_id": request.execution_id,
                "transmitter": who,
                "stage": {"step": step},
            },
            "message": {"safe_message": message},
        }

    elapsed = now - request.start  # nothing is logged while it waits in its environment's queue
    entries = []
    for offset, state in request.timeline:
        if offset > elapsed:
            break
        entries.append(entry(None, offset, "Deploy", f"frontend: serving ({state})"))
        entries.append(entry(job, offset, _stage(state), f"{job.job_name}: {state}"))
    final_offset, final_state = request.timeline[-1]
    for line in job.log_lines if elapsed >= final_offset else []:
        entries.insert(-1, entry(job, final_offset, _stage(final_state), line))
    other_failure = entry(None, 0.0, "DeployedError", "frontend: image pull failed")
    other_failure["error"] = {
        "tag": "IMAGE_PULL",
        "user_log_message": "Not our job's error",
        "hint_message": "",
    }
    entries.insert(0, other_failure)
    # Qovery's diagnosis is of an error: a cancelled deployment has none.
    state = request.state_at(now)
    if entries and job.log_error is not None and state.endswith("_ERROR"):
        entries[-1]["error"] = dict(job.log_error)
        entries[-1]["details"]["stage"]["step"] = "BuildError" if state == "BUILD_ERROR" else "DeployedError"
    return entries


def _stage(state: str) -> str:
    return "Build" if state.startswith("BUILD") else "Deploy"


def iso(offset: float) -> str:
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1767225600 + offset))
        + f".{int(offset * 1000) % 1000:03d}Z"
    )


def organization(place: Place) -> dict[str, Any]:
    return {
        "id": place.organization_id,
        "created_at": CREATED_AT,
        "name": place.organization_name,
        "plan": "TEAM",
    }


def project(place: Place) -> dict[str, Any]:
    return {
        "id": place.project_id,
        "created_at": CREATED_AT,
        "name": place.project_name,
        "organization": {"id": place.organization_id},
        "associated_environments_count": 1,
    }


def environment(place: Place) -> dict[str, Any]:
    return {
        "id": place.environment_id,
        "created_at": CREATED_AT,
        "name": place.environment_name,
        "cloud_provider": {"provider": "aws", "cluster": "eu-west-3"},
        "mode": place.environment_mode,
        "cluster_id": "c1c1c1c1-0000-4000-8000-000000000001",
        "project": {"id": place.project_id},
        "organization": {"id": place.organization_id},
    }


def service_status(job: JobScript, mine: list[DeploymentRequest], now: float) -> dict[str, Any]:
    """`GET /{kind}/{id}/status` (`Status`) of a service whose deployment requests are `mine`."""
    ours = max(mine, key=lambda r: r.created_at) if mine else None
    count = len(mine)
    if ours is None or now - ours.created_at < job.stale_seconds:
        return _previous_status(job, ours, count)
    state = ours.state_at(now)
    if job.taken_over and now >= ours.ends_at():
        newer = f"{ours.id[:-12]}{'f' * 12}"  # someone else's request, queued right behind ours
        return status(job.job_id, "QUEUED", newer, count + 1, None, "QUEUED")
    ended = now >= ours.ends_at()
    details_status = "QUEUED" if ours.waiting_at(now) else "ONGOING"
    if ended:
        details_status = job.final_action_status or ("ERROR" if is_failure(state) else "SUCCESS")
    body = status(job.job_id, state, ours.id, count, ours.execution_id, details_status, ours.action)
    body.update(job.extra_status_fields)
    if ended and "steps" not in job.omitted_fields:
        body["steps"] = steps(job, ours, state)
    return body


def _previous_status(job: JobScript, ours: DeploymentRequest | None, count: int) -> dict[str, Any]:
    """The status while it still describes the request before ours (or no deployment ever)."""
    if ours is not None and job.stale_hides_count:
        count -= 1
    body = status(job.job_id, job.previous_state, job.previous_request_id, count, None, "SUCCESS")
    if job.past_durations and "steps" not in job.omitted_fields:  # the last run's figures
        last = job.past_durations[-1]
        body["steps"] = {"total_duration_sec": last, "total_computing_duration_sec": last, "details": []}
    if job.previous_request_id is None:
        body |= {"service_deployment_status": "NEVER_DEPLOYED", "state": "READY"}
        body["status_details"]["status"] = "NEVER"
    return body


def is_failure(state: str) -> bool:
    return state.endswith("_ERROR") or state in ("CANCELED", "RECAP")


def status(
    job_id: str,
    state: str,
    request_id: str | None,
    count: int,
    execution_id: str | None,
    details_status: str,
    action: str = "DEPLOY",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": job_id,
        "state": state,
        "service_deployment_status": "UP_TO_DATE" if state == "DEPLOYED" else "OUT_OF_DATE",
        "status_details": {"action": action, "status": details_status, "sub_action": "NONE"},
        "is_part_last_deployment": True,
        "deployment_requests_count": count,
        "deployment_request_id": request_id,
    }
    if execution_id:
        body["execution_id"] = execution_id
    return body


def history(job: JobScript) -> dict[str, Any]:
    results = [
        {
            "identifier": {"name": job.job_name, "service_id": job.job_id, "service_type": job.service_type},
            "status": "DEPLOYED",
            "auditing_data": {
                "created_at": "2026-01-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:00Z",
                "triggered_by": "simulator",
            },
            # `{}`: the only details body that passes the spec's ambiguous oneOf (see qovery-api README).
            "details": {},
            "status_details": {"action": "DEPLOY", "status": "SUCCESS", "sub_action": "NONE"},
            "icon_uri": f"https://example.com/{job.kind}.svg",
            "total_duration": f"PT{seconds}S",
        }
        for seconds in job.past_durations
    ]
    return {"page": 1, "page_size": 20, "results": results}


def queued(job: JobScript, request: DeploymentRequest) -> dict[str, Any]:
    """One entry of `GET /service/{id}/deploymentQueue`."""
    return {
        "identifier": {
            "deployment_request_id": request.id,
            "service_id": job.job_id,
            "service_type": job.service_type,
            "name": job.job_name,
        },
        "auditing_data": {"triggered_by": "simulator"},
        "status_details": {"action": request.action, "status": "QUEUED", "sub_action": "NONE"},
        "icon_uri": f"https://example.com/{job.kind}.svg",
    }


def steps(job: JobScript, ours: DeploymentRequest, state: str) -> dict[str, Any]:
    """The ended deployment's metrics: its wait in the environment's queue, then every step took no time
    but the last (or the one that failed)."""
    seconds = int(ours.timeline[-1][0])
    queued = int(ours.start - ours.created_at)
    details = job.final_steps
    if details is None:
        names = KIND_ROWS[job.kind].steps
        last = names.index("BUILD") if state == "BUILD_ERROR" and "BUILD" in names else len(names) - 1
        details = [{"step_name": "DEPLOYMENT_QUEUEING", "status": "SUCCESS", "duration_sec": queued}]
        details += [{"step_name": name, "status": "SUCCESS", "duration_sec": 0} for name in names[:last]]
        details.append(
            {
                "step_name": names[last],
                "status": "ERROR" if is_failure(state) else "SUCCESS",
                "duration_sec": seconds,
            }
        )
    return {"total_duration_sec": seconds, "total_computing_duration_sec": seconds, "details": details}


# States of a deployment still under way, for the environment's own state.
UNDER_WAY = (
    *("QUEUED", "DEPLOYMENT_QUEUED", "BUILDING", "DEPLOYING", "EXECUTING", "CANCELING"),
    *("STOP_QUEUED", "STOPPING", "DELETE_QUEUED", "DELETING"),
)


def environment_statuses(
    environment_id: str, statuses: dict[str, list[dict[str, Any]]], request_id: str | None
) -> dict[str, Any]:
    """`GET /environment/{id}/statuses` (`EnvironmentStatuses`): the environment's own status, then each
    kind's services' statuses (`statuses` by list: `jobs`, ...); `request_id` is the environment's latest
    request."""
    states = [status["state"] for kind in statuses.values() for status in kind]
    state = "DEPLOYED"
    if any(one in UNDER_WAY for one in states):
        state = "DEPLOYING"
    elif any(one.endswith("_ERROR") for one in states):
        state = "DEPLOYMENT_ERROR"
    elif not states or all(one == "READY" for one in states):
        state = "READY"
    deployment_status = {"DEPLOYED": "UP_TO_DATE", "READY": "NEVER_DEPLOYED"}.get(state, "OUT_OF_DATE")
    environment = {
        "id": environment_id,
        "state": state,
        "last_deployment_state": state,
        "deployment_status": deployment_status,
        "deployment_request_id": request_id,
    }
    lists = {key: statuses.get(key, []) for key in STATUS_LISTS}
    return {"environment": environment, **lists}


def links(services: list[JobScript]) -> dict[str, Any]:
    """`LinkResponseList`: where each of `services` answers, in order."""
    return {
        "results": [
            {
                "service_id": service.job_id,
                "service_type": service.service_type,
                "url": link.url,
                "internal_port": link.internal_port,
                "external_port": link.external_port,
                "is_qovery_domain": link.is_qovery_domain,
                "is_default": link.is_default,
            }
            for service in services
            for link in service.answers_on()
        ]
    }
