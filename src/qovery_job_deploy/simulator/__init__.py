"""A Qovery API simulator that plays scripted job deployments, shaped as Qovery's published OpenAPI spec.

It serves the operations the step uses; the test suite validates every request and response against the
spec through the `validator` hook. Scripts cover what real Qovery does that naive clients get wrong: the
status still showing the previous deployment right after the POST, a newer request taking over the job's
status the moment ours ends, states a newer API may add, and faults (429 with Retry-After, 5xx, a POST that
fails after acting).

By concern: `scripts` (what it plays), `bodies` (the JSON it answers), `routes` (the table of routes),
`model` (state: one answer per request, no sockets), `server` (HTTP on loopback, with wire faults),
`transport` (in-process, for `requests`), `__main__` (`python -m qovery_job_deploy.simulator`).
"""

from qovery_job_deploy.simulator.model import QoverySimulator
from qovery_job_deploy.simulator.routes import Answer, route
from qovery_job_deploy.simulator.scripts import (
    DEFAULT_ERROR,
    DEMO_ENVIRONMENT,
    FAILURE_JOB,
    HOSTILE_LOG_JOB,
    HOSTILE_LOG_LINES,
    OTHER_SERVICE_ID,
    SLOW_JOB,
    SUCCESS_JOB,
    DeploymentRequest,
    Exchange,
    Fault,
    JobScript,
    Place,
    builtin_jobs,
    token_is_valid,
)

__all__ = [
    "DEFAULT_ERROR",
    "DEMO_ENVIRONMENT",
    "FAILURE_JOB",
    "HOSTILE_LOG_JOB",
    "HOSTILE_LOG_LINES",
    "OTHER_SERVICE_ID",
    "SLOW_JOB",
    "SUCCESS_JOB",
    "Answer",
    "DeploymentRequest",
    "Exchange",
    "Fault",
    "JobScript",
    "Place",
    "QoverySimulator",
    "builtin_jobs",
    "route",
    "token_is_valid",
]
