"""Domain logic for one job: trigger a deployment, follow *that* deployment, reach a verdict.

One job is one `JobDeployment`, so that several job ids in one step can later run side by side.
"""

from __future__ import annotations

from qovery_job_deploy.client import QoveryClient
from qovery_job_deploy.errors import ActionError, ApiError, RefusedError, TransientError
from qovery_job_deploy.log import Log
from qovery_job_deploy.models import JobStatus, StatusDetails
from qovery_job_deploy.outcome import Known, Outcome, Verdict
from qovery_job_deploy.polling import Expectation, PollPlan, parse_iso_duration
from qovery_job_deploy.retry import Clock
from qovery_job_deploy.states import Phase, classify, expected_state, failure_reason, is_known
from qovery_job_deploy.trigger import DeployRequest, Trigger

# How long the job's status may keep showing the previous request before we also ask Qovery about ours
# directly (our request may have ended unseen, or never started).
STALE_GRACE_SECONDS = 10.0
# Below this, the previous run's duration (in the status read before the POST) paces the polling alone:
# the history request would cost more reads than it saves. Above it, the history's band is worth one read.
HISTORY_WORTH_SECONDS = 30.0


class JobDeployment:
    def __init__(
        self,
        client: QoveryClient,
        known: Known,
        request: DeployRequest,
        *,
        clock: Clock,
        log: Log,
        started_at: float,
        poll_interval: float,
    ) -> None:
        self.client = client
        self.request = request
        self.clock = clock
        self.log = log
        self.started_at = started_at
        self.poll_interval = poll_interval
        self.known = known  # shared with the caller, who reports it if we are interrupted
        self.expected = expected_state(request.force_event)
        self._previous_request_id: str | None = None
        self._previous_count: int | None = None
        self._posted_at = started_at
        self._unknown_logged: set[str] = set()
        self._shown: str | None = None  # the last state logged
        self._never_deployed = False
        self._last_duration: float | None = None
        self._history_asked = False
        self._details: StatusDetails | None = None  # of the last status of our request

    # -- the flow ---------------------------------------------------------------------------------

    def run(self, *, wait: bool) -> Outcome:
        before = self.client.job_status(self.known.job_id)
        self._previous_request_id = before.deployment_request_id
        self._previous_count = before.deployment_requests_count
        self._never_deployed = before.service_deployment_status == "NEVER_DEPLOYED"
        if before.state == self.expected and before.steps is not None:
            self._last_duration = before.steps.total_duration_sec  # the previous run's, free with the read
        self.log.info(f"Job {self.known.job_id} is {before.state}; requesting a deployment")
        self._trigger(before)
        if not wait:
            return self.outcome(Verdict.ACCEPTED, "Deployment requested; not waiting for it (wait: false).")
        return self._wait()

    def outcome(self, verdict: Verdict, message: str) -> Outcome:
        return Outcome(self.known, verdict, message, self.clock.now() - self.started_at)

    def _trigger(self, before: JobStatus) -> None:
        triggered = Trigger(
            self.client, self.known.job_id, self.request, clock=self.clock, log=self.log
        ).send(before)
        self._posted_at = triggered.posted_at
        self.known.deployment_request_id = triggered.request_id
        if triggered.status is not None:
            self.known.absorb(triggered.status)
        elif triggered.state is not None:
            self.known.state = triggered.state

    def _first_plan(self) -> PollPlan:
        """Pace the polling with what is known before waiting; see `_later_plan` for the rest."""
        last = self._last_duration
        if self._never_deployed:
            self._history_asked = True  # there is none
            self.log.info(f"First deployment of this job: reading the status every {self.poll_interval:g}s")
            return PollPlan(self.poll_interval)
        if last is not None and last < HISTORY_WORTH_SECONDS:
            # A short job: one more request would cost more than it saves; the last run is hint enough.
            self._history_asked = True
            self.log.info(f"The last deployment took {last:.0f}s: reading densely around then")
            return PollPlan(self.poll_interval, Expectation.around(last))
        if last is not None:
            return PollPlan(self.poll_interval, self._expectation_from_history(last))
        self.log.info(f"Reading the status every {self.poll_interval:g}s")
        return PollPlan(self.poll_interval)

    def _later_plan(self, plan: PollPlan, elapsed: float) -> PollPlan:
        """With nothing known at first, the history is asked only once the deployment has proved long
        enough for it to pay: short deployments are spared the request."""
        if self._history_asked or elapsed < HISTORY_WORTH_SECONDS:
            return plan
        return PollPlan(self.poll_interval, self._expectation_from_history(None))

    def _expectation_from_history(self, last: float | None) -> Expectation | None:
        """What the job's past successful deployments say about this one; None when they say nothing."""
        self._history_asked = True
        try:
            history = self.client.job_history(self.known.job_id).results
        except ActionError as error:
            self.log.info(f"Deployment history unavailable ({error})")
            history = []
        durations = [
            parse_iso_duration(entry.total_duration) for entry in history if entry.status == self.expected
        ]
        expectation = Expectation.from_durations(d for d in durations if d is not None)
        if expectation is None and last is not None and Expectation.around(last) is not None:
            self.log.info(
                f"No usable history, but the last deployment took {last:.0f}s: reading densely around then"
            )
            return Expectation.around(last)
        if expectation is None:
            self.log.info(f"No usable deployment history; reading the status every {self.poll_interval:g}s")
        else:
            self.log.info(
                f"Past deployments took {expectation.low:.0f}-{expectation.high:.0f}s "
                f"(typically {expectation.typical:.0f}s): reading densely around then"
            )
        return expectation

    def _wait(self) -> Outcome:
        plan = self._first_plan()
        self._show_state()  # as the deploy answer gave it
        while True:
            remaining = self.client.deadline - self.clock.now()
            if remaining <= 0:
                return self.outcome(
                    Verdict.TIMED_OUT, f"Timed out with the deployment still in progress ({self._shown})."
                )
            plan = self._later_plan(plan, self.clock.now() - self._posted_at)
            remaining = self.client.deadline - self.clock.now()  # the history read may have taken some
            # Pause first: right after the POST the status still shows the previous request anyway.
            self.clock.sleep(max(0.0, min(plan.next_delay(self.clock.now() - self._posted_at), remaining)))
            try:
                phase = self._observe()
            except TransientError as error:
                if not error.deadline_reached:
                    raise
                return self.outcome(
                    Verdict.TIMED_OUT,
                    f"Timed out while the status could not be read ({error}); last seen: {self._shown}.",
                )
            self._show_state()
            if phase is Phase.SUCCEEDED:
                return self.outcome(Verdict.SUCCEEDED, f"The job reached {self._shown}.")
            if phase is Phase.FAILED:
                state = self.known.state or ""
                return self.outcome(Verdict.FAILED, failure_reason(state, self.expected, self._details))

    def _show_state(self) -> None:
        """Log each state change once."""
        if self.known.state is not None and self.known.state != self._shown:
            self._shown = self.known.state
            self.log.state(self._shown)

    def _observe(self) -> Phase:
        """Read the job's status once and say what it means for *our* request."""
        status = self.client.job_status(self.known.job_id)
        shown_id = status.deployment_request_id
        if self.known.deployment_request_id is None:
            if not shown_id or shown_id == self._previous_request_id:
                self._check_a_request_was_queued(status)
                return Phase.PENDING
            self.log.info(f"Following deployment request {shown_id}")
            self.known.deployment_request_id = shown_id
        ours = self.known.deployment_request_id
        if ours is not None and shown_id == ours:
            self.known.absorb(status)
            self._details = status.status_details
            self._note_unknown(status.state)
            return classify(status.state, self.expected, status.status_details)
        # The status still shows the previous request (Qovery has not picked ours up yet), or a newer
        # one that took over the moment ours ended. Either way it says nothing about ours; ask directly
        # when it cannot be the first case.
        stale_for = self.clock.now() - self._posted_at
        if ours is not None and (shown_id != self._previous_request_id or stale_for >= STALE_GRACE_SECONDS):
            try:
                state = self.client.request_status(ours).status
            except RefusedError as error:
                if error.status_code != 404:
                    raise
                state = None  # not known there (yet): the job's status will tell
            if state:
                self.known.state = state
                self._details = None  # this answer names a state only
                self._note_unknown(state)
                return classify(state, self.expected)
        return Phase.PENDING

    def _check_a_request_was_queued(self, status: JobStatus) -> None:
        """When Qovery accepted the POST without naming the request, the request must show up soon: in
        the job's request count, or as a new id. If neither happens, Qovery accepted but did not deploy
        (as the API says it does for a job that lacks the forced event): waiting on would only time out."""
        queued = (status.deployment_requests_count or 0) > (self._previous_count or 0)
        if queued or self.clock.now() - self._posted_at < STALE_GRACE_SECONDS:
            return
        raise ApiError(
            f"Qovery accepted the deploy request, but no deployment request appeared on the job within "
            f"{STALE_GRACE_SECONDS:g}s. With `force-event`, check that the job has that event; otherwise "
            "check the job in the Qovery console."
        )

    def _note_unknown(self, state: str) -> None:
        if not is_known(state) and state not in self._unknown_logged:
            self._unknown_logged.add(state)
            self.log.warning(
                f"Qovery reports a state this version does not know ({state}); it decides nothing while "
                "the action runs"
            )
