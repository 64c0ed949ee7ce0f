"""What a run comes to: the verdict, what was known of the deployment, and the message. No HTTP here, so
that the report and the runners read results without importing the client."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from qovery_job_deploy.models import JobStatus, Step


class Verdict(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ACCEPTED = "accepted"  # wait: false, and Qovery accepted the request
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"  # we were interrupted (SIGINT/SIGTERM); not Qovery's state CANCELED
    ERROR = "error"  # Qovery refused us or could not be reached


@dataclass
class Known:
    """What we know about our deployment so far; enough to report at any moment, even when interrupted."""

    job_id: str
    deployment_request_id: str | None = None
    state: str | None = None
    execution_id: str | None = None
    service_deployment_status: str | None = None
    steps: list[Step] = field(default_factory=list)

    def absorb(self, status: JobStatus) -> None:
        """Take what a status of *our* request tells."""
        self.state = status.state
        self.execution_id = status.execution_id or self.execution_id
        self.service_deployment_status = status.service_deployment_status or self.service_deployment_status
        if status.steps and status.steps.details:
            self.steps = list(status.steps.details)


@dataclass(frozen=True)
class Outcome:
    known: Known
    verdict: Verdict
    message: str
    duration_seconds: float
