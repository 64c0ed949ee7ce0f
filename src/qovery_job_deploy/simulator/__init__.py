"""A Qovery API simulator that plays scripted deployments, shaped as Qovery's published OpenAPI spec.

It serves the operations the step uses, for every kind of service Qovery deploys (jobs, applications,
containers, helm charts, databases, terraform services: `JobScript.kind`); the test suite validates every
request and response against the spec through the `validator` hook. Scripts cover what real Qovery does
that naive clients get wrong: the status still showing the previous deployment right after the POST, a
newer request taking over the service's status the moment ours ends, states a newer API may add, where
each service answers (its links), faults
(429 with Retry-After, 5xx, a POST that fails after acting), a job's forced event (STOP, DELETE, CRON) and
the per-environment queue (an environment deploys one request at a time), and, when asked, Qovery's rate
limit (`ratelimit.py`: a budget per token, its headers on every answer, 429 beyond it).

By concern: `scripts` (what it plays), `events` (what a forced event goes through), `asks` (what a deploy
request may carry, by kind), `queue` (when each request of an environment runs), `ratelimit` (the budget
per token), `bodies` (the JSON it answers: statuses, logs, history, links), `services` (each kind's
`GET /{kind}/{id}`), `routes` (the table of routes), `model` (state: one answer per request, no sockets),
`server` (`serve(sim)`: HTTP on loopback, with wire faults), `transport` (in-process, for `requests`),
`__main__` (`python -m qovery_job_deploy.simulator`). The model and the server do not import each other.
"""

from qovery_job_deploy.simulator.catalogue import builtin_jobs, builtin_services
from qovery_job_deploy.simulator.model import QoverySimulator
from qovery_job_deploy.simulator.ratelimit import RateLimit
from qovery_job_deploy.simulator.routes import Answer, Route, route
from qovery_job_deploy.simulator.scripts import (
    API_CONTAINER,
    BROKEN_APPLICATION,
    BUILD_ERROR,
    DEFAULT_ERROR,
    DEMO_ENVIRONMENT,
    FAILURE_JOB,
    HOSTILE_LOG_JOB,
    HOSTILE_LOG_LINES,
    INGRESS_HELM,
    KINDS,
    NETWORK_TERRAFORM,
    OTHER_SERVICE_ID,
    POSTGRES_DATABASE,
    SLOW_JOB,
    SUCCESS_JOB,
    WEB_APPLICATION,
    DeploymentRequest,
    Exchange,
    Fault,
    JobScript,
    Link,
    Place,
    token_is_valid,
)
from qovery_job_deploy.simulator.server import SimulatorServer, serve

__all__ = [
    "API_CONTAINER",
    "BROKEN_APPLICATION",
    "BUILD_ERROR",
    "DEFAULT_ERROR",
    "DEMO_ENVIRONMENT",
    "FAILURE_JOB",
    "HOSTILE_LOG_JOB",
    "HOSTILE_LOG_LINES",
    "INGRESS_HELM",
    "KINDS",
    "NETWORK_TERRAFORM",
    "OTHER_SERVICE_ID",
    "POSTGRES_DATABASE",
    "SLOW_JOB",
    "SUCCESS_JOB",
    "WEB_APPLICATION",
    "Answer",
    "DeploymentRequest",
    "Exchange",
    "Fault",
    "JobScript",
    "Link",
    "Place",
    "QoverySimulator",
    "RateLimit",
    "Route",
    "SimulatorServer",
    "builtin_jobs",
    "builtin_services",
    "route",
    "serve",
    "token_is_valid",
]
