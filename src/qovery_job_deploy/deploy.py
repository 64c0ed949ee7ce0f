"""Domain logic for one job: trigger a deployment, follow *that* deployment, reach a verdict.

One job is one `JobDeployment`, so that several job ids in one step can later run side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from qovery_job_deploy.client import QoveryClient
from qovery_job_deploy.deployment_log import DeploymentLog
from qovery_job_deploy.errors import ActionError, ApiError, RefusedError, TransientError
from qovery_job_deploy.identity import JobIdentity
from qovery_job_deploy.models import JobStatus, Step
from qovery_job_deploy.polling import Expectation, PollPlan, parse_iso_duration
from qovery_job_deploy.retry import Clock
from qovery_job_deploy.states import Phase, classify, expected_state, is_known

# How long the job's status may keep showing the previous request before we also ask Qovery about ours
# directly (our request may have ended unseen, or never started).
STALE_GRACE_SECONDS = 10.0
# Below this, the previous run's duration (in the status read before the POST) paces the polling alone:
# the history request would cost more reads than it saves. Above it, the history's band is worth one read.
HISTORY_WORTH_SECONDS = 30.0
# After an ambiguous POST failure: pauses between the status reads that look for the request it created.
# They cover STALE_GRACE_SECONDS, the time Qovery may take to show a new request on the job.
ADOPTION_PAUSES = (1.0, 2.0, 3.0, 4.0)


class Verdict(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ACCEPTED = "accepted"  # wait: false, and Qovery accepted the request
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"  # we were interrupted (SIGINT/SIGTERM)
    ERROR = "error"  # Qovery refused us or could not be reached


class Log(Protocol):
    def info(self, message: str) -> None: ...

    def warning(self, message: str) -> None: ...

    def state(self, state: str) -> None: ...


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
    # Explanations read once the verdict is known (diagnosis.py); they never change it.
    identity: JobIdentity | None = None
    console_url: str | None = None
    deployment_log: DeploymentLog | None = None


@dataclass(frozen=True)
class DeployRequest:
    image_tag: str | None = None
    git_commit_id: str | None = None
    force_event: str | None = None

    def body(self) -> dict[str, str]:
        if self.image_tag:
            return {"image_tag": self.image_tag}
        if self.git_commit_id:
            return {"git_commit_id": self.git_commit_id}
        return {}


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
        try:
            posted = self.client.deploy_job(self.known.job_id, self.request.body(), self.request.force_event)
        except TransientError as error:
            if error.acted is False:
                raise ApiError(f"Could not request the deployment after retries: {error}") from None
            self._posted_at = self.clock.now()
            if error.acted:
                self.log.warning(
                    f"Qovery accepted the deploy request but its answer was unreadable ({error})"
                )
                self.log.info("Following the first new request that appears on the job")
                return
            self._adopt_after_ambiguous_post(before, error)
            return
        self._posted_at = self.clock.now()
        if posted.deployment_request_id and posted.deployment_request_id != before.deployment_request_id:
            self.known.deployment_request_id = posted.deployment_request_id
            self.known.state = posted.state  # only then is the answer's state surely about our request
            self.log.info(f"Deployment request {posted.deployment_request_id} accepted")
        else:
            self.log.warning(
                "Qovery's answer did not name a new deployment request; following the first new request "
                "that appears on the job"
            )

    def _adopt_after_ambiguous_post(self, before: JobStatus, error: TransientError) -> None:
        """The POST may or may not have created a deployment: find out from the job's status.

        Posting again could deploy twice, so we adopt what Qovery shows instead; and if it shows nothing
        new, we stop and say so rather than guess.
        """
        self.log.warning(f"The deploy request's outcome is unknown ({error}); checking the job's status")
        for pause in ADOPTION_PAUSES:
            self.clock.sleep(max(0.0, min(pause, self.client.deadline - self.clock.now())))
            now = self.client.job_status(self.known.job_id)
            if now.deployment_request_id and now.deployment_request_id != before.deployment_request_id:
                self.log.info(f"Qovery did act: adopting deployment request {now.deployment_request_id}")
                self.known.deployment_request_id = now.deployment_request_id
                self.known.absorb(now)
                return
            if (now.deployment_requests_count or 0) > (before.deployment_requests_count or 0):
                self.log.info("Qovery did act: a new deployment request is queued; following it")
                return
            if self.clock.now() >= self.client.deadline:
                break
        raise ApiError(
            f"The deploy request failed in a way that does not tell whether Qovery acted ({error}), and "
            "the job shows no new deployment request. It was not sent again, to avoid deploying twice. "
            "Check the job in the Qovery console, then re-run the step if nothing is deploying."
        )

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
                return self.outcome(
                    Verdict.FAILED, f"The deployment ended in {self._shown}; {self.expected} was expected."
                )

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
            self.log.warning(f"Qovery reports a state this version does not know ({state}); waiting on it")
