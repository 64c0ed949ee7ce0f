"""The JSON bodies the simulator answers with, shaped as Qovery's OpenAPI spec says."""

from __future__ import annotations

import time
from typing import Any

from qovery_job_deploy.simulator.scripts import (
    CREATED_AT,
    OTHER_SERVICE_ID,
    DeploymentRequest,
    JobScript,
    Place,
)


def log_entries(job: JobScript, request: DeploymentRequest, now: float) -> list[dict[str, Any]]:
    """Our job's lines (its states so far, then what it printed) interleaved with another service's."""

    def entry(transmitter: str, name: str, offset: float, step: str, message: str) -> dict[str, Any]:
        return {
            "type": "DEPLOYMENT",
            "timestamp": iso(offset),
            "details": {
                "execution_id": request.execution_id,
                "transmitter": {"id": transmitter, "name": name, "type": "JOB"},
                "stage": {"step": step},
            },
            "message": {"safe_message": message},
        }

    elapsed = now - request.created_at
    entries = []
    for offset, state in request.timeline:
        if offset > elapsed:
            break
        entries.append(entry(OTHER_SERVICE_ID, "frontend", offset, "Deploy", f"frontend: serving ({state})"))
        entries.append(entry(job.job_id, job.job_name, offset, "Deploy", f"{job.job_name}: {state}"))
    final_offset = request.timeline[-1][0]
    for line in job.log_lines if elapsed >= final_offset else []:
        entries.insert(-1, entry(job.job_id, job.job_name, final_offset, "Deploy", line))
    other_failure = entry(OTHER_SERVICE_ID, "frontend", 0.0, "DeployedError", "frontend: image pull failed")
    other_failure["error"] = {
        "tag": "IMAGE_PULL",
        "user_log_message": "Not our job's error",
        "hint_message": "",
    }
    entries.insert(0, other_failure)
    # Qovery's diagnosis is of an error: a cancelled deployment has none.
    if entries and job.log_error is not None and request.state_at(now).endswith("_ERROR"):
        entries[-1]["error"] = dict(job.log_error)
        entries[-1]["details"]["stage"]["step"] = "DeployedError"
    return entries


def iso(offset: float) -> str:
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1767225600 + offset))
        + f".{int(offset * 1000) % 1000:03d}Z"
    )


def job_body(job: JobScript) -> dict[str, Any]:
    """A lifecycle job as `GET /job/{id}` returns it (`LifecycleJobResponse`)."""
    return {
        "id": job.job_id,
        "created_at": "2026-01-01T00:00:00Z",
        "environment": {"id": job.environment_id},
        "name": job.job_name,
        "maximum_cpu": 16000,
        "maximum_memory": 16384,
        "maximum_gpu": 0,
        "cpu": 500,
        "memory": 512,
        "gpu": 0,
        "auto_preview": False,
        "source": {
            "image": {
                "image_name": f"shop/{job.job_name}",
                "tag": "v1",
                "registry": {
                    "id": "55555555-5555-4555-8555-555555555555",
                    "name": "registry",
                    "url": "https://registry.example.com",
                    "kind": "GENERIC_CR",
                },
            }
        },
        "healthchecks": {},
        "icon_uri": "https://example.com/job.svg",
        "service_type": "JOB",
        "job_type": "LIFECYCLE",
        "schedule": {"on_start": {"arguments": ["migrate"]}},
    }


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
        "mode": "PRODUCTION",
        "cluster_id": "c1c1c1c1-0000-4000-8000-000000000001",
        "project": {"id": place.project_id},
        "organization": {"id": place.organization_id},
    }


def is_failure(state: str) -> bool:
    return state.endswith("_ERROR") or state in ("CANCELED", "RECAP")


def status(
    job_id: str, state: str, request_id: str | None, count: int, execution_id: str | None, details_status: str
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": job_id,
        "state": state,
        "service_deployment_status": "UP_TO_DATE" if state == "DEPLOYED" else "OUT_OF_DATE",
        "status_details": {"action": "DEPLOY", "status": details_status, "sub_action": "NONE"},
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
            "identifier": {"name": "job", "service_id": job.job_id, "service_type": "JOB"},
            "status": "DEPLOYED",
            "auditing_data": {
                "created_at": "2026-01-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:00Z",
                "triggered_by": "simulator",
            },
            # `{}`: the only details body that passes the spec's ambiguous oneOf (see qovery-api README).
            "details": {},
            "status_details": {"action": "DEPLOY", "status": "SUCCESS", "sub_action": "NONE"},
            "icon_uri": "https://example.com/job.svg",
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
            "service_type": "JOB",
            "name": "job",
        },
        "auditing_data": {"triggered_by": "simulator"},
        "status_details": {"action": "DEPLOY", "status": "QUEUED", "sub_action": "NONE"},
        "icon_uri": "https://example.com/job.svg",
    }


def steps(job: JobScript, ours: DeploymentRequest, state: str) -> dict[str, Any]:
    seconds = int(ours.timeline[-1][0])
    details = job.final_steps
    if details is None:
        details = [
            {"step_name": "DEPLOYMENT_QUEUEING", "status": "SUCCESS", "duration_sec": 0},
            {
                "step_name": "EXECUTING",
                "status": "ERROR" if is_failure(state) else "SUCCESS",
                "duration_sec": seconds,
            },
        ]
    return {"total_duration_sec": seconds, "total_computing_duration_sec": seconds, "details": details}
