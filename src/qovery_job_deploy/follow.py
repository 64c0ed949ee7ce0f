"""Following one deployment request to its end: each status read is judged for *our* request only.

The loop that reads lives in `deploy.py` (one loop for every job, timed by `scheduler.py` and each job's
`polling.Pacer`) and owns what is known of each deployment; a `Follower` keeps no clock: it is told each
fresh status of its job, when it was read and what is known, and returns an `Observation` (the phase, and
what is known now).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from qovery_job_deploy.api.errors import ApiError, RefusedError
from qovery_job_deploy.api.models import ServiceStatus, StatusDetails
from qovery_job_deploy.api.protocol import QoveryApi
from qovery_job_deploy.kinds import ServiceKind
from qovery_job_deploy.log import Log
from qovery_job_deploy.outcome import Known
from qovery_job_deploy.states import QUEUED, Phase, classify, failure_reason, is_known

# How long the job's status may keep showing the previous request before we also ask Qovery about ours
# directly (our request may have ended unseen, or never started).
STALE_GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class Observation:
    phase: Phase
    known: Known

    @property
    def queued(self) -> str | None:
        """The state our request waits in Qovery's queue in, when it is seen waiting there."""
        state = self.known.state
        return state if self.phase is Phase.PENDING and state in QUEUED else None


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
        log: Log,
    ) -> None:
        self.client = client
        self.kind = kind
        self.expected = expected
        self.log = log
        self._previous_request_id = before.deployment_request_id
        self._previous_count = before.deployment_requests_count
        self._posted_at = posted_at
        self._details: StatusDetails | None = None  # of the last status of our request
        self._unknown_logged: set[str] = set()
        self._shown: str | None = None  # the last state logged
        self.show_state(known)  # as the deploy answer gave it

    def observe(self, status: ServiceStatus, known: Known, *, read_at: float) -> Observation:
        """What a fresh status of the job, read at `read_at`, means for *our* request, given what is
        known of it."""
        observation = self._judge(status, known, read_at)
        self.show_state(observation.known)
        return observation

    def last_seen(self) -> str:
        return self._shown or "no state yet"

    def success_message(self, known: Known) -> str:
        return f"The {self.kind.noun} reached {known.state}."

    def failure_message(self, known: Known) -> str:
        return failure_reason(known.state or "", self.expected, self._details, self.kind.noun)

    def show_state(self, known: Known) -> None:
        """Log each state change once."""
        if known.state is not None and known.state != self._shown:
            self._shown = known.state
            self.log.state(self._shown)

    def _judge(self, status: ServiceStatus, known: Known, read_at: float) -> Observation:
        shown_id = status.deployment_request_id
        ours = known.deployment_request_id
        if ours is None:
            if not shown_id or shown_id == self._previous_request_id:
                self._check_a_request_was_queued(status, read_at)
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
        stale_for = read_at - self._posted_at
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

    def _check_a_request_was_queued(self, status: ServiceStatus, read_at: float) -> None:
        """When Qovery accepted the POST without naming the request, the request must show up soon: in
        the job's request count, or as a new id. If neither happens, Qovery accepted but did not deploy
        (as the API says it does for a job that lacks the forced event): waiting on would only time out."""
        queued = (status.deployment_requests_count or 0) > (self._previous_count or 0)
        if queued or read_at - self._posted_at < STALE_GRACE_SECONDS:
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
