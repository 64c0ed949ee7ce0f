"""What we read from Qovery, parsed leniently.

States are kept as plain strings: a newer API may add states, and an unknown one must be waited on, not
crash the parser. Extra fields are ignored for the same reason. Everything here came from the network, so
it is untrusted: presentation code escapes it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class StatusDetails(_Lenient):
    action: str | None = None
    status: str | None = None
    sub_action: str | None = None


class Step(_Lenient):
    step_name: str | None = None
    status: str | None = None
    duration_sec: int | None = None


class Steps(_Lenient):
    total_duration_sec: int | None = None
    total_computing_duration_sec: int | None = None
    details: list[Step] = []


class JobStatus(_Lenient):
    """The `Status` schema of `GET /job/{id}/status` and of the deploy response."""

    id: str | None = None
    state: str
    service_deployment_status: str | None = None
    status_details: StatusDetails | None = None
    deployment_request_id: str | None = None
    deployment_requests_count: int | None = None
    execution_id: str | None = None
    steps: Steps | None = None


class RequestStatus(_Lenient):
    """`EnvDeploymentStatus`: the state of one deployment request, whoever holds the job's status now."""

    deployment_request_id: str | None = None
    environment_id: str | None = None
    status: str | None = None


class HistoryEntry(_Lenient):
    """One past deployment of the job (`DeploymentHistoryService`), read only for its duration.

    `details` is deliberately not modelled: the spec's `oneOf` for it is ambiguous (see tests/data).
    """

    status: str | None = None
    total_duration: str | None = None


class History(_Lenient):
    results: list[HistoryEntry] = []
