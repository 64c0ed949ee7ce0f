"""The explain step, after the verdicts: the deployment log and the console link of each outcome, and where
each service that succeeded answers (`urls.py`).

Nothing here may change a verdict: every failure is one info line and an empty answer. Each read has its
own small time budget, so that a slow or hanging endpoint costs seconds, not the step.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import replace

from qovery_job_deploy.api.errors import short_error
from qovery_job_deploy.api.protocol import QoveryApi
from qovery_job_deploy.clock import Deadline
from qovery_job_deploy.console import console_url
from qovery_job_deploy.context import Context
from qovery_job_deploy.deployment_log import MAX_LOG_BYTES, DeploymentLog, our_log, parse_entries
from qovery_job_deploy.errors import ActionError, Interrupted
from qovery_job_deploy.identity import ServiceIdentity
from qovery_job_deploy.inputs.plan import LogsMode, Plan
from qovery_job_deploy.log import Log
from qovery_job_deploy.outcome import Outcome, Verdict
from qovery_job_deploy.urls import LinkReads, located

# After the verdicts, the reads that explain them (deployment logs) share at least this much time, even
# past `timeout`: a timed-out deployment is when its log is most wanted.
EXPLAIN_SECONDS = 10.0

# The log read gets what is left of `timeout`, but at least this much: after a timeout nothing is left,
# and that is when the log is most wanted.
LOG_FLOOR_SECONDS = 5.0
# And at most this much: the log is at most 1000 lines, a few seconds' read; a hanging endpoint must not
# hold a finished step for a whole `request-timeout`.
LOG_MAX_SECONDS = 10.0
# Verdicts after which `on-failure` reads the log. A cancelled step must stop promptly instead.
FAILURES = (Verdict.FAILED, Verdict.TIMED_OUT, Verdict.ERROR)


def wants_log(mode: LogsMode, verdict: Verdict) -> bool:
    if mode == "never" or verdict is Verdict.CANCELLED:
        return False
    return mode in ("always", "live") or verdict in FAILURES


def log_budget(time_left: float, cap: float) -> float:
    """What is left of `timeout`, within `cap` (one request's timeout) and LOG_MAX_SECONDS, never under
    the floor."""
    return max(LOG_FLOOR_SECONDS, min(time_left, cap, LOG_MAX_SECONDS))


def read_deployment_log(
    client: QoveryApi,
    identity: ServiceIdentity,
    execution_id: str | None,
    *,
    time_left: float,
    cap: float,
    secrets: Iterable[str],
    log: Log,
) -> DeploymentLog | None:
    """Our job's lines of one execution's log, or None (said in one info line) when there are none."""
    if not execution_id or not identity.environment_id:
        missing = "execution id" if not execution_id else "environment id"
        log.info(f"No deployment log to read: the {missing} is unknown")
        return None
    budget = log_budget(time_left, cap)
    try:
        body, cut = client.environment_logs(
            identity.environment_id, execution_id, budget=budget, max_bytes=MAX_LOG_BYTES
        )
    except Interrupted:
        # The verdict is known already: a signal now cuts the extra, not the report (the caller stops
        # reading explanations for every job).
        log.info("Interrupted while reading the deployment log; reporting without it")
        raise
    except ActionError as error:
        log.info(f"Deployment log unavailable ({short_error(error)})")
        return None
    found = our_log(parse_entries(body), identity.service_id, secrets=secrets, cut=cut)
    if found.total == 0:
        log.info(f"The deployment log has no line from {identity.label()} (yet)")
        return None
    if cut:
        log.info(f"The deployment log is over {MAX_LOG_BYTES // (1024 * 1024)} MB: showing its first part")
    return found


def explain(
    outcomes: list[Outcome],
    plan: Plan,
    ctx: Context,
    links: LinkReads,
    *,
    read_anyway: Collection[str] = (),
) -> list[Outcome]:
    """Each outcome with what explains it, then the URL of each service that succeeded, read after every
    verdict is known, through `links` (the run's `Directory`, which reads each once), with
    `read_anyway` the environments whose links the run reads anyway (`urls.located`). The reads share one
    budget (what is left of `timeout`, or EXPLAIN_SECONDS when that is less), and a signal now cuts the
    explanations short, never the verdicts already reached."""
    client, log = ctx.client, ctx.log
    until = ctx.deadline.at_least(EXPLAIN_SECONDS)  # the reads below get this one, not the run's deadline
    explained: list[Outcome] = []
    try:
        for outcome in outcomes:
            explained.append(_explained(outcome, plan, client, log, until))
        cap = plan.connection.request_timeout
        return located(explained, links, until, log, cap=cap, read_anyway=read_anyway)
    except Interrupted:  # said where it landed (read_deployment_log, urls); the verdicts stand
        pass
    return explained + outcomes[len(explained) :]


def _explained(outcome: Outcome, plan: Plan, client: QoveryApi, log: Log, until: Deadline) -> Outcome:
    """The outcome with a console link and, when wanted, its deployment log. Never a new verdict."""
    identity = outcome.known.identity or ServiceIdentity(outcome.known.service_id)
    deployment_log = None
    deployed = outcome.known.deployment_request_id is not None  # else there is no log to read
    left = until.left()
    if deployed and wants_log(plan.reporting.logs, outcome.verdict):
        if left < LOG_FLOOR_SECONDS:
            log.info(f"No time left to read the deployment log of {outcome.known.label()}")
        else:
            deployment_log = read_deployment_log(
                client,
                identity,
                outcome.known.execution_id,
                time_left=left,
                cap=plan.connection.request_timeout,
                secrets=plan.secrets,
                log=log,
            )
    return replace(linked([outcome], plan)[0], deployment_log=deployment_log)


def linked(outcomes: list[Outcome], plan: Plan) -> list[Outcome]:
    """Each outcome with its console link, and nothing read: after a signal, where to look next."""
    return [
        replace(
            outcome,
            console_url=console_url(
                plan.reporting.console_url,
                outcome.known.identity or ServiceIdentity(outcome.known.service_id),
                outcome.known.execution_id,
            ),
        )
        for outcome in outcomes
    ]
