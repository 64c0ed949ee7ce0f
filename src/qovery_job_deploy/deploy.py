"""Domain logic: deploy each job, follow every deployment in one loop, reach a verdict for each.

One loop in the main thread follows every job, so that signals and the per-call wall-clock limit keep
working. Jobs that share an environment are read together, with one `GET /environment/{id}/job/status`
per interval, so that reads do not grow with the number of jobs. Each job's `Pacer` says when its next
read is due, its `Follower` says what each read means, and the `Scheduler` sleeps until the next due read.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field, replace

from qovery_job_deploy.api.errors import TransientError, rate_limited_out
from qovery_job_deploy.api.models import ServiceStatus
from qovery_job_deploy.context import Context
from qovery_job_deploy.errors import ActionError, Interrupted
from qovery_job_deploy.follow import Follower
from qovery_job_deploy.identity import ServiceIdentity
from qovery_job_deploy.kinds import KINDS, Deploy, DeployRequest, ServiceKind
from qovery_job_deploy.live import LiveLog
from qovery_job_deploy.log import Log
from qovery_job_deploy.outcome import Known, Outcome, Verdict
from qovery_job_deploy.polling import Pacer
from qovery_job_deploy.reading import Reading, StatusReader
from qovery_job_deploy.scheduler import Scheduler
from qovery_job_deploy.states import QUEUED, Action, Phase, action_of
from qovery_job_deploy.trigger import OutcomeUnknown, Trigger

# GitHub sends SIGTERM 7.5 s after SIGINT and GitLab kills 10 s after SIGTERM: every cancellation together
# stays well inside both.
CANCEL_BUDGET_SECONDS = 4.0
CANCEL_EACH_SECONDS = 1.5
# A job whose turn comes with less time left than this is not posted: the POST could not even be checked.
MIN_SECONDS_TO_START = 1.0


@dataclass(frozen=True)
class Options:
    """How to deploy, from the settings."""

    request: DeployRequest
    poll_interval: float
    wait: bool = True
    sequential: bool = False
    cancel_on_abort: bool = False
    cancel_on_timeout: bool = False


@dataclass
class ServiceRun:
    """One service's part of the run: what is known, how it is followed (what its reads mean, and when the
    next is due), and how it ended."""

    identity: ServiceIdentity
    log: Log
    known: Known
    follower: Follower | None = None
    outcome: Outcome | None = None
    # When its deploy request was sent (it may have been acted on, named or not): its duration counts
    # from here, so that in a sequential run each service's time is its own.
    posted_at: float | None = None
    deploy: Deploy = field(default_factory=lambda: Deploy({}, None))  # what its POST carries
    pacer: Pacer | None = None
    due_at: float = 0.0  # when its next status read is due, as its pacer said

    @property
    def service_id(self) -> str:
        return self.identity.service_id

    @property
    def kind(self) -> ServiceKind:
        return KINDS[self.identity.kind]

    @property
    def environment_id(self) -> str | None:
        return self.identity.environment_id

    @property
    def execution_id(self) -> str | None:
        return self.known.execution_id

    @property
    def name(self) -> str:
        return self.identity.short_name()

    @property
    def posted(self) -> bool:
        return self.posted_at is not None


class Deployments:
    """Deploys the jobs (at once, or one after another) and follows each to its verdict."""

    def __init__(
        self,
        ctx: Context,
        runs: list[ServiceRun],
        options: Options,
        *,
        live: LiveLog | None = None,
        several: bool | None = None,
    ) -> None:
        """`several`: whether the run has several services (each line names its own; default: whether
        `runs` are several), when these are a part of it (a stage, `stages.py`)."""
        self.ctx = ctx
        self.client, self.clock, self.log, self.deadline = ctx.client, ctx.clock, ctx.log, ctx.deadline
        self.runs = runs
        self.several = len(runs) > 1 if several is None else several
        self.options = options
        self.live = live  # `logs: live`: tails each deployment's log between status reads
        self.reader = StatusReader(ctx)
        self.scheduler = Scheduler(ctx, live)
        self.signum: int | None = None  # set when a signal ended the run
        self._cancelling_since: float | None = None

    def run(self) -> list[Outcome]:
        """Every job's outcome, in the order given; a signal ends every job still running."""
        try:
            if self.options.sequential:
                self._one_after_another()
            else:
                self._deploy(self.runs)
        except Interrupted as interruption:
            self.signum = interruption.signum
            self.log.warning(f"Received {signal.Signals(interruption.signum).name}: stopping")
            self._end_pending_on_signal(interruption.signum)
        return [run.outcome for run in self.runs if run.outcome is not None]

    def end_pending(self, verdict: Verdict, message: str) -> None:
        """End every job that has no outcome yet (the caller's boundary, for the unexpected)."""
        for run in self._pending():
            self._finish(run, verdict, message)

    # -- the flow -------------------------------------------------------------------------------------

    def _one_after_another(self) -> None:
        for index, run in enumerate(self.runs):
            self._deploy([run])
            if run.outcome is not None and not run.outcome.verdict.went_well:
                for later in self.runs[index + 1 :]:
                    self._finish(
                        later,
                        Verdict.SKIPPED,
                        f"Not deployed: {run.identity.short_name()} did not succeed before it (sequential).",
                    )
                return

    def _deploy(self, runs: list[ServiceRun]) -> None:
        reading = self.reader.read(runs)  # the status before the POST: the baseline for every check
        for run in runs:
            if run.service_id in reading.failures:
                self._not_started(run, reading.failures[run.service_id])
            else:
                self._start(run, reading.statuses[run.service_id])
        if self.options.wait:
            self._follow()
        for run in runs:
            if run.outcome is None:  # wait: false
                self._finish(run, Verdict.ACCEPTED, "Deployment requested; not waiting for it (wait: false).")

    def _start(self, run: ServiceRun, before: ServiceStatus) -> None:
        # With several services, each line already starts with the service's name.
        subject = f"the {run.kind.noun}" if self.several else run.identity.label()
        asked = run.deploy.requested(run.kind.noun)
        if self.deadline.left() < MIN_SECONDS_TO_START:  # said before anything is claimed as requested
            after_others = any(other.posted for other in self.runs if other is not run)
            self._finish(
                run,
                Verdict.TIMED_OUT,
                f"Not deployed: `timeout` ran out before this {run.kind.noun}'s turn."
                if after_others
                else f"Not deployed: `timeout` left too little time to request {asked} and follow it "
                f"(at least {MIN_SECONDS_TO_START:g}s); nothing was requested.",
            )
            return
        if _in_progress(before):
            run.log.info(
                f"{subject} is already deploying ({before.state}); requesting {asked}, "
                "which Qovery queues behind it"
            )
        else:
            run.log.info(f"{subject} is {before.state}; requesting {asked}")
        run.posted_at = self.clock.now()
        try:
            triggered = Trigger(
                self.ctx, run.kind, run.service_id, run.deploy, lambda: self.reader.one(run), log=run.log
            ).send(before)
        except ActionError as error:
            if rate_limited_out(error):
                self._not_started(run, error)
                return
            if isinstance(error, OutcomeUnknown):
                run.known = replace(run.known, unconfirmed=True)
            self._fail(run, error)
            return
        run.known = replace(run.known, deployment_request_id=triggered.request_id, requested=True)
        if triggered.status is not None:
            run.known = run.known.absorb(triggered.status)
        elif triggered.state is not None:
            run.known = replace(run.known, state=triggered.state)
        self.ctx.events.accepted(run.identity, run.known.deployment_request_id)
        if self.options.wait:
            expected = run.kind.success_state(self.options.request.force_event)
            run.pacer = Pacer(
                self.options.poll_interval,
                expected,
                before,
                lambda: self.client.history(run.kind, run.service_id),
                run.log,
                posted_at=triggered.posted_at,
                time_left=self.deadline.left(),
                noun=run.kind.noun,
            )
            # Pause first: right after the POST the status still shows the previous request anyway.
            run.due_at = run.pacer.next_read(self.clock.now())
            run.follower = Follower(
                self.client, run.kind, run.known, expected, before, posted_at=triggered.posted_at, log=run.log
            )

    def _follow(self) -> None:
        """The one loop: sleep until the next read is due, read the jobs due (and their neighbours),
        judge what each read says."""
        while followed := self._followed():
            if self.deadline.left() <= 0:
                self._end_on_timeout(followed)
                return
            due = self.scheduler.wait(followed)
            try:
                reading = self.reader.read(due)
            except TransientError as error:  # only a joint read that ran into the deadline
                self._end_on_timeout(followed, error)
                return
            for run in followed:
                self._judge(run, reading)
            self.scheduler.after_status_read(self._followed())

    def _followed(self) -> list[ServiceRun]:
        return [run for run in self._pending() if run.follower is not None]

    def _judge(self, run: ServiceRun, reading: Reading) -> None:
        follower, pacer = run.follower, run.pacer
        if follower is None or pacer is None:
            return
        if run.service_id in reading.failures:
            self._fail(run, reading.failures[run.service_id])
            return
        status = reading.statuses.get(run.service_id)
        if status is None:
            return  # not read this time
        try:
            observation = follower.observe(status, run.known, read_at=self.clock.now())
        except ActionError as error:
            self._fail(run, error)
            return
        run.known = observation.known
        if observation.phase is Phase.SUCCEEDED:
            self._finish(run, Verdict.SUCCEEDED, follower.success_message(run.known))
        elif observation.phase is Phase.FAILED:
            self._finish(run, Verdict.FAILED, follower.failure_message(run.known))
        else:
            run.due_at = pacer.next_read(self.clock.now(), observation.queued)

    # -- endings --------------------------------------------------------------------------------------

    def _not_started(self, run: ServiceRun, error: ActionError) -> None:
        """Nothing was requested: the status read before the POST, or the POST itself, failed. A 429 waited
        out until `timeout` ran out is the timeout's verdict, not an error."""
        if rate_limited_out(error):
            self._finish(run, Verdict.TIMED_OUT, held_back(error))
        else:
            self._finish(run, Verdict.ERROR, f"Nothing was deployed: {error}")

    def _fail(self, run: ServiceRun, error: ActionError) -> None:
        """A job's error ends that job only. Running out of time while following a deployment is a
        timeout; before anything was deployed, it is an error like any other failure to reach Qovery."""
        if isinstance(error, TransientError) and error.deadline_reached and run.follower is not None:
            self._end_on_timeout([run], error)
        else:
            self._finish(run, Verdict.ERROR, str(error))

    def _end_on_timeout(self, runs: list[ServiceRun], error: ActionError | None = None) -> None:
        for run in runs:
            last = run.follower.last_seen() if run.follower else (run.known.state or "no state yet")
            what = (
                f"while the status could not be read ({error}); last seen: {last}"
                if error
                else (f"with the deployment still in progress ({last})")
            )
            queued = last in QUEUED and not error
            if queued:
                what = (
                    f"with the deployment still queued ({last}): it never left Qovery's queue, where an "
                    "environment's deployments wait for the one before them to end"
                )
            if last == "DEPLOYING" and run.kind.readiness_probe:
                # Qovery's docs: a service whose readiness probe never passes "will remain DEPLOYING".
                what += ", which it stays in while its readiness probe does not pass: check its health checks"
            if not self.options.cancel_on_timeout:
                keeps = "keeps running in Qovery"
                if queued:
                    keeps = "stays queued in Qovery, and runs in its turn"
                ending = (
                    f". The deployment {keeps}: raise `timeout`, or set `cancel-on-timeout` to cancel it "
                    "when the wait runs out."
                )
            elif (failure := self._cancel(run)) is None:
                ending = "; our deployment request was cancelled."
            else:
                ending = (
                    f". Cancelling our deployment request failed ({failure}): it may keep running in Qovery."
                )
            self._finish(run, Verdict.TIMED_OUT, f"Timed out {what}{ending}")

    def _end_pending_on_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        for run in self._pending():
            if not run.posted:
                what = f"nothing was deployed for this {run.kind.noun}"
            elif run.known.deployment_request_id is None and run.follower is None:
                what = (
                    f"a deployment may have been requested: check the {run.kind.noun} in the Qovery console"
                )
            elif not self.options.cancel_on_abort:
                what = "the deployment may still run in Qovery (`cancel-on-abort` cancels it on a signal)"
            elif (failure := self._cancel(run)) is None:
                what = "our deployment request was cancelled"
            else:
                what = f"cancelling our deployment request failed ({failure}): it may still run in Qovery"
            self._finish(run, Verdict.CANCELLED, f"Interrupted by {name}; {what}.")

    def _cancel(self, run: ServiceRun) -> str | None:
        """Cancel our deployment request (only ours, never the environment's) within a short budget,
        shared by the requests still to cancel. None when it was cancelled; else why it was not."""
        request_id = run.known.deployment_request_id
        if request_id is None:
            run.log.warning("No deployment request to cancel")
            return "no deployment request was named"
        if self._cancelling_since is None:
            self._cancelling_since = self.clock.now()
        left = CANCEL_BUDGET_SECONDS - (self.clock.now() - self._cancelling_since)
        if left <= 0:
            run.log.warning(f"No time left to cancel deployment request {request_id}")
            return "no time was left to send it"
        to_cancel = sum(1 for other in self._pending() if other.known.deployment_request_id is not None)
        budget = min(left, max(CANCEL_EACH_SECONDS, left / max(1, to_cancel)))
        try:
            self.client.cancel_request(request_id, budget=budget)
        except Exception as error:  # best effort, on the way out: never let it cost the report
            run.log.warning(f"Could not cancel deployment request {request_id}: {error}")
            return str(error)
        run.log.info(f"Cancelled deployment request {request_id}")
        return None

    def _finish(self, run: ServiceRun, verdict: Verdict, message: str) -> None:
        # From its own deploy request; a service never posted (skipped, or stopped before its POST) spent
        # no time deploying.
        duration = 0.0 if run.posted_at is None else self.clock.now() - run.posted_at
        live = self.live.printed(run.service_id) if self.live is not None else 0
        run.outcome = Outcome(run.known, verdict, message, duration, live_lines=live)
        run.follower = None
        if self.several:  # each service's verdict as it ends, not only at the end of the step
            self.log.info(run.outcome.verdict_line())

    def _pending(self) -> list[ServiceRun]:
        return [run for run in self.runs if run.outcome is None]


def held_back(error: ActionError) -> str:
    """Why nothing was requested when Qovery's rate limit outlasted `timeout`."""
    return (
        f"Not deployed: Qovery's rate limit held the requests back until `timeout` ran out ({error}); "
        "nothing was requested."
    )


def _in_progress(status: ServiceStatus) -> bool:
    return action_of(status.status_details) is Action.RUNNING
