"""Triggering one deployment: `POST /job/{id}/deploy`, sent again only when Qovery provably did not act.

The guarantee is never two deployments. A POST that surely did not reach Qovery (refused, 429, 409) is
retried by the client. One that failed ambiguously (a 5xx, a timeout, a reset) may or may not have created
a deployment request: we look for one, on the job's status and in its deployment queue, for as long as the
failure says Qovery may take to show it. If one shows up it is ours; if none does, Qovery did not act, and
the POST is sent again.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from qovery_job_deploy.api.errors import ApiError, TransientError
from qovery_job_deploy.api.models import ServiceStatus
from qovery_job_deploy.api.retry import DEFAULT_POLICY, RetryPolicy, retry_delay
from qovery_job_deploy.context import Context
from qovery_job_deploy.errors import ActionError
from qovery_job_deploy.kinds import Deploy, ServiceKind
from qovery_job_deploy.log import Log
from qovery_job_deploy.states import Action, action_of

# Sends in all, the first included, when each one fails ambiguously and leaves no trace.
POST_ATTEMPTS = 4
# Pauses between the looks for the request an ambiguous POST may have created. A 503 or a reset before
# any answer says the request most likely never reached Qovery: 10 s of looking is enough. A 502, a 504
# or our own read timeout says Qovery may still be working on it: look for 30 s.
QUICK_LOOK_PAUSES = (1.0, 2.0, 3.0, 4.0)
LONG_LOOK_PAUSES = (1.0, 2.0, 3.0, 4.0, 5.0, 5.0, 5.0, 5.0)


class OutcomeUnknown(ApiError):
    """The deploy request failed in a way that does not tell whether Qovery acted, and no trace of it was
    found: a deployment may have been requested (the report must not say that none was)."""


@dataclass(frozen=True)
class Triggered:
    """What the trigger knows of the request it created.

    `request_id` None means Qovery acted without naming the request: follow the first new one on the job.
    `status` is a status of *our* request, when one was read on the way (adoption after a failed POST).
    """

    posted_at: float
    request_id: str | None = None
    state: str | None = None
    status: ServiceStatus | None = None


class Trigger:
    def __init__(
        self,
        ctx: Context,
        kind: ServiceKind,
        service_id: str,
        deploy: Deploy,
        read_status: Callable[[], ServiceStatus],
        *,
        log: Log,
        policy: RetryPolicy = DEFAULT_POLICY,
        rng: Callable[[], float] = random.random,
    ) -> None:
        """`log`: the service's own (`deploy.ServiceRun.log`), not the run's `ctx.log`: with several
        services, each line starts with the service's name."""
        self.client, self.clock, self.deadline = ctx.client, ctx.clock, ctx.deadline
        self.service_id = service_id
        self.kind = kind
        self.deploy = deploy
        # The service's status, read by its kind's means (`reading.StatusReader.one`).
        self.read_status = read_status
        self.log = log
        self.policy = policy
        self.rng = rng

    def send(self, before: ServiceStatus) -> Triggered:
        """POST the deployment; `before` is the job's status read just before, the baseline for evidence."""
        # Ids that are not ours whatever shows up: the previous request, and what was queued before.
        not_ours = self._queue_baseline(before) | {before.deployment_request_id or ""}
        for attempt in range(1, POST_ATTEMPTS + 1):
            try:
                posted = self.client.deploy(self.kind, self.service_id, self.deploy)
            except TransientError as error:
                if error.rate_limited:  # waited out until `timeout` ran out: the timeout's, not a failure
                    raise
                if error.acted is False:
                    raise ApiError(f"Could not request the deployment after retries: {error}") from None
                if error.acted:
                    self.log.warning(
                        f"Qovery accepted the deploy request but its answer was unreadable ({error})"
                    )
                    self.log.info(f"Following the first new request that appears on the {self.kind.noun}")
                    return Triggered(self.clock.now())
                found = self._look_for_new_request(before, not_ours, error)
                if found is not None:
                    return found
                self._pause_before_sending_again(error, attempt)
                continue
            return self._accepted(posted, before)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _accepted(self, posted: ServiceStatus, before: ServiceStatus) -> Triggered:
        now = self.clock.now()
        if posted.deployment_request_id and posted.deployment_request_id != before.deployment_request_id:
            self.log.info(f"Deployment request {posted.deployment_request_id} accepted")
            # Only a new id makes the answer's state surely about our request.
            return Triggered(now, posted.deployment_request_id, posted.state)
        self.log.warning(
            "Qovery's answer did not name a new deployment request; following the first new request "
            f"that appears on the {self.kind.noun}"
        )
        return Triggered(now)

    def _queue_baseline(self, before: ServiceStatus) -> frozenset[str]:
        """The requests already queued for a busy job, so that one of them is never taken for ours after an
        ambiguous POST. A job at rest has none: the read is spared (best effort either way)."""
        if action_of(before.status_details) is not Action.RUNNING:
            return frozenset()
        try:
            return frozenset(self.client.deployment_queue(self.service_id).request_ids())
        except ActionError as error:
            self.log.info(f"The {self.kind.noun}'s deployment queue could not be read ({error})")
            return frozenset()

    def _look_for_new_request(
        self, before: ServiceStatus, not_ours: frozenset[str], error: TransientError
    ) -> Triggered | None:
        """Evidence of what an ambiguous POST did: a new request on the job's status or in its queue.

        Whatever is new, compared with `before` and with the queue before the POST, is taken as ours.
        """
        pauses = LONG_LOOK_PAUSES if error.still_working else QUICK_LOOK_PAUSES
        self.log.warning(
            f"The deploy request's outcome is unknown ({error}); looking for a new deployment request on "
            f"the {self.kind.noun} for up to {sum(pauses):g}s"
        )
        looked = 0
        for pause in pauses:
            if self._left() <= 0:
                break
            self.clock.sleep(min(pause, self._left()))
            try:
                found = self._new_request(before, not_ours)
            except ActionError as read_error:
                raise OutcomeUnknown(self._unknown(error, f"checking it failed: {read_error}")) from None
            looked += 1
            if found is not None:
                return found
        if looked == 0:
            why = f"`timeout` left no time to check the {self.kind.noun}"
            raise OutcomeUnknown(self._unknown(error, why))
        return None

    def _unknown(self, error: TransientError, why: str) -> str:
        return (
            f"The deploy request's outcome is unknown ({error}), and {why}. A deployment may have been "
            f"requested: check the {self.kind.noun} in the Qovery console before re-running the step."
        )

    def _new_request(self, before: ServiceStatus, not_ours: frozenset[str]) -> Triggered | None:
        status = self.read_status()
        now = self.clock.now()
        if status.deployment_request_id and status.deployment_request_id != before.deployment_request_id:
            self.log.info(f"Qovery did act: adopting deployment request {status.deployment_request_id}")
            return Triggered(now, status.deployment_request_id, status=status)
        queued = [
            rid for rid in self.client.deployment_queue(self.service_id).request_ids() if rid not in not_ours
        ]
        if queued:
            self.log.info(
                f"Qovery did act: adopting deployment request {queued[-1]}, queued for the {self.kind.noun}"
            )
            return Triggered(now, queued[-1])
        if (status.deployment_requests_count or 0) > (before.deployment_requests_count or 0):
            self.log.info(
                f"Qovery did act: the {self.kind.noun} counts a new deployment request; following it"
            )
            return Triggered(now)
        return None

    def _pause_before_sending_again(self, error: TransientError, attempt: int) -> None:
        if attempt >= POST_ATTEMPTS:
            raise OutcomeUnknown(
                f"The deploy request failed {POST_ATTEMPTS} times in a way that does not tell whether Qovery "
                f"acted (last: {error}), and each time the {self.kind.noun} showed no new deployment "
                f"request. It was not sent again, to avoid deploying twice. Check the {self.kind.noun} in "
                "the Qovery console, then re-run the step if nothing is deploying."
            )
        delay = retry_delay(error, attempt - 1, self.policy, self.rng)
        if delay >= self._left():
            raise OutcomeUnknown(
                f"The deploy request failed in a way that does not tell whether Qovery acted ({error}); the "
                f"{self.kind.noun} showed no new deployment request, and `timeout` leaves no time to send it "
                "again. Check "
                f"the {self.kind.noun} in the Qovery console, then re-run the step if nothing is deploying."
            )
        self.log.info(
            f"No deployment request was created; sending it again (attempt {attempt + 1} of {POST_ATTEMPTS})"
        )
        self.clock.sleep(delay)

    def _left(self) -> float:
        return self.deadline.left()
