"""Following one deployment request to its end: each status read is judged for *our* request only.

The loop that reads lives in `deploy.py` (one loop for every job) and owns what is known of each
deployment; a `Follower` is told each fresh status of its job with what is known, returns an
`Observation` (the phase, and what is known now), and says when it wants the next read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from qovery_job_deploy.api.errors import ApiError, RefusedError
from qovery_job_deploy.api.models import ServiceStatus, StatusDetails
from qovery_job_deploy.api.protocol import QoveryApi
from qovery_job_deploy.clock import Clock
from qovery_job_deploy.kinds import ServiceKind
from qovery_job_deploy.log import Log
from qovery_job_deploy.outcome import Known
from qovery_job_deploy.polling import Pacer
from qovery_job_deploy.states import QUEUED, Phase, classify, failure_reason, is_known

# How long the job's status may keep showing the previous request before we also ask Qovery about ours
# directly (our request may have ended unseen, or never started).
STALE_GRACE_SECONDS = 10.0
# While our request waits in Qovery's queue, the log says so again this often: a queued state is logged
# once, and a long silence after it reads like a hang.
QUEUED_REMINDER_SECONDS = 60.0


@dataclass(frozen=True)
class Observation:
    phase: Phase
    known: Known


class Follower:
    def __init__(
        self,
        client: QoveryApi,
        kind: ServiceKind,
        known: Known,
        expected: str,
        before: ServiceStatus,
        *,
        posted_at: float,
        pacer: Pacer,
        clock: Clock,
        log: Log,
    ) -> None:
        self.client = client
        self.kind = kind
        self.expected = expected
        self.clock = clock
        self.log = log
        self._previous_request_id = before.deployment_request_id
        self._previous_count = before.deployment_requests_count
        self._posted_at = posted_at
        # The pace counts from when the deployment left Qovery's queue (as last seen queued): what its
        # history says of its length says nothing of the wait behind an environment's other deployments.
        self._started_at = posted_at
        self._queued_since: float | None = None
        self._reminded_at = 0.0
        self._pacer = pacer
        self._plan = pacer.first_plan()
        self._details: StatusDetails | None = None  # of the last status of our request
        self._unknown_logged: set[str] = set()
        self._shown: str | None = None  # the last state logged
        self.due_at = posted_at  # set by `schedule`
        self.show_state(known)  # as the deploy answer gave it
        self.schedule()

    # -- pacing ---------------------------------------------------------------------------------------

    def schedule(self) -> None:
        """When to read next, from now. Pause first: right after the POST the status still shows the
        previous request anyway."""
        elapsed = self.clock.now() - self._started_at
        self._plan = self._pacer.later_plan(self._plan, elapsed)
        self.due_at = self.clock.now() + self._plan.next_delay(elapsed)

    # -- judging --------------------------------------------------------------------------------------

    def observe(self, status: ServiceStatus, known: Known) -> Observation:
        """What a fresh status of the job means for *our* request, given what is known of it."""
        observation = self._judge(status, known)
        self.show_state(observation.known)
        self._note_queue(observation)
        return observation

    def _note_queue(self, observation: Observation) -> None:
        """While our request is seen queued, its pace waits with it, and the log says so now and then."""
        state = observation.known.state
        if observation.phase is not Phase.PENDING or state not in QUEUED:
            self._queued_since = None
            return
        now = self.clock.now()
        self._started_at = now
        if self._queued_since is None:
            self._queued_since, self._reminded_at = now, now
        elif now - self._reminded_at >= QUEUED_REMINDER_SECONDS:
            self._reminded_at = now
            self.log.info(
                f"Still {state} after {now - self._queued_since:.0f}s: Qovery has not started it yet (it "
                "deploys an environment's services one at a time)"
            )

    def last_seen(self) -> str:
        return self._shown or "no state yet"

    def success_message(self, known: Known) -> str:
        return f"The {self.kind.noun} reached {known.state}."

    def failure_message(self, known: Known) -> str:
        return failure_reason(known.state or "", self.expected, self._details)

    def show_state(self, known: Known) -> None:
        """Log each state change once."""
        if known.state is not None and known.state != self._shown:
            self._shown = known.state
            self.log.state(self._shown)

    def _judge(self, status: ServiceStatus, known: Known) -> Observation:
        shown_id = status.deployment_request_id
        ours = known.deployment_request_id
        if ours is None:
            if not shown_id or shown_id == self._previous_request_id:
                self._check_a_request_was_queued(status)
                return Observation(Phase.PENDING, known)
            self.log.info(f"Following deployment request {shown_id}")
            ours = shown_id
            known = replace(known, deployment_request_id=ours)
        if shown_id == ours:
            self._details = status.status_details
            self._note_unknown(status.state)
            return Observation(
                classify(status.state, self.expected, status.status_details), known.absorb(status)
            )
        # The status still shows the previous request (Qovery has not picked ours up yet), or a newer
        # one that took over the moment ours ended. Either way it says nothing about ours; ask directly
        # when it cannot be the first case.
        stale_for = self.clock.now() - self._posted_at
        if shown_id != self._previous_request_id or stale_for >= STALE_GRACE_SECONDS:
            try:
                state = self.client.request_status(ours).status
            except RefusedError as error:
                if error.status_code != 404:
                    raise
                state = None  # not known there (yet): the job's status will tell
            if state:
                self._details = None  # this answer names a state only
                self._note_unknown(state)
                return Observation(classify(state, self.expected), replace(known, state=state))
        return Observation(Phase.PENDING, known)

    def _check_a_request_was_queued(self, status: ServiceStatus) -> None:
        """When Qovery accepted the POST without naming the request, the request must show up soon: in
        the job's request count, or as a new id. If neither happens, Qovery accepted but did not deploy
        (as the API says it does for a job that lacks the forced event): waiting on would only time out."""
        queued = (status.deployment_requests_count or 0) > (self._previous_count or 0)
        if queued or self.clock.now() - self._posted_at < STALE_GRACE_SECONDS:
            return
        raise ApiError(
            f"Qovery accepted the deploy request, but no deployment request appeared on the {self.kind.noun} "
            f"within {STALE_GRACE_SECONDS:g}s. With `force-event`, check that the {self.kind.noun} has that "
            f"event; otherwise check the {self.kind.noun} in the Qovery console."
        )

    def _note_unknown(self, state: str) -> None:
        if not is_known(state) and state not in self._unknown_logged:
            self._unknown_logged.add(state)
            self.log.warning(
                f"Qovery reports a state this version does not know ({state}); it decides nothing while "
                "the action runs"
            )
