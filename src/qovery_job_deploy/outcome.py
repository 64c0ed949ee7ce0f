"""What a run comes to: the verdict, what was known of the deployment, and the message. No HTTP here, so
that the report and the runners read results without importing the client."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import IntEnum, StrEnum

from qovery_job_deploy.api.models import ServiceStatus, Step
from qovery_job_deploy.deployment_log import DeploymentLog
from qovery_job_deploy.identity import ServiceIdentity
from qovery_job_deploy.kinds import DeployRequest


class Verdict(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ACCEPTED = "accepted"  # wait: false, and Qovery accepted the request
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"  # we were interrupted (SIGINT/SIGTERM); not Qovery's state CANCELED
    ERROR = "error"  # Qovery refused us or could not be reached
    SKIPPED = "skipped"  # sequential: an earlier job did not succeed, so nothing was sent for this one
    PLANNED = "planned"  # dry run: it would be deployed; nothing was sent

    @property
    def went_well(self) -> bool:
        return self in (Verdict.SUCCEEDED, Verdict.ACCEPTED, Verdict.PLANNED)

    @property
    def words(self) -> str:
        """The verdict in a sentence: "2 succeeded, 1 timed out"."""
        return WORDS[self]


WORDS = {
    Verdict.SUCCEEDED: "succeeded",
    Verdict.FAILED: "failed",
    Verdict.ACCEPTED: "requested",
    Verdict.TIMED_OUT: "timed out",
    Verdict.CANCELLED: "cancelled",
    Verdict.ERROR: "in error",
    Verdict.SKIPPED: "skipped",
    Verdict.PLANNED: "planned",
}


# The overall verdict of several jobs is the worst of theirs, in this order, worst first; the exit code
# follows from it. A skipped job never decides: the job that caused the skip does.
SEVERITY = (
    Verdict.ERROR,
    Verdict.FAILED,
    Verdict.TIMED_OUT,
    Verdict.CANCELLED,
    Verdict.SKIPPED,
    Verdict.ACCEPTED,
    Verdict.PLANNED,
    Verdict.SUCCEEDED,
)


class ExitCode(IntEnum):
    """The exit codes (README, "Exit codes"). CANCELLED exits 128 + the signal's number (130, 143)."""

    SUCCESS = 0
    FAILED = 1
    INVALID_INPUT = 2
    API_ERROR = 3
    TIMED_OUT = 124  # as timeout(1) says it


EXIT_CODES = {
    Verdict.SUCCEEDED: ExitCode.SUCCESS,
    Verdict.ACCEPTED: ExitCode.SUCCESS,
    Verdict.SKIPPED: ExitCode.SUCCESS,
    Verdict.PLANNED: ExitCode.SUCCESS,
    Verdict.FAILED: ExitCode.FAILED,
    Verdict.ERROR: ExitCode.API_ERROR,
    Verdict.TIMED_OUT: ExitCode.TIMED_OUT,
}


@dataclass(frozen=True)
class Known:
    """What we know about our deployment so far; enough to report at any moment, even when interrupted.

    A value: the deployment loop holds the latest, and each observation makes a new one, so that an
    `Outcome` keeps what was known when it was decided, whatever happens after."""

    service_id: str
    deployment_request_id: str | None = None
    state: str | None = None
    execution_id: str | None = None
    service_deployment_status: str | None = None
    steps: tuple[Step, ...] = ()
    identity: ServiceIdentity | None = None  # names, when known
    # Qovery took the deploy request (its answer, or a trace of it, said so), named or not.
    requested: bool = False
    # Its deploy request failed ambiguously, and no trace of it was found: a deployment may have been made.
    unconfirmed: bool = False

    def label(self) -> str:
        return self.identity.label() if self.identity else self.service_id

    def absorb(self, status: ServiceStatus) -> Known:
        """What is known once a status of *our* request is read."""
        return replace(
            self,
            state=status.state,
            execution_id=status.execution_id or self.execution_id,
            service_deployment_status=status.service_deployment_status or self.service_deployment_status,
            steps=tuple(status.steps.details) if status.steps and status.steps.details else self.steps,
        )


@dataclass(frozen=True)
class Outcome:
    known: Known
    verdict: Verdict
    message: str
    duration_seconds: float
    # Explanations read once the verdict is known (diagnosis.py); they never change it.
    console_url: str | None = None
    deployment_log: DeploymentLog | None = None
    live_lines: int = 0  # how many of its log lines were printed live (`logs: live`), not to print again
    # A dry run's read of what the service is now; never its `state`, which says what a deployment reached.
    current_state: str | None = None
    # Where the service answers (`urls.py`): only once it succeeded, and only a checked http(s) URL.
    url: str | None = None

    @property
    def identity(self) -> ServiceIdentity | None:
        return self.known.identity

    def verdict_line(self) -> str:
        """One service's ending, as the log says it when it ends."""
        return f"{self.known.label()}: {self.verdict.value}: {self.message}"


@dataclass(frozen=True)
class PreviewEnvironment:
    """The environment of a preview's run (`clone-from`, `delete-environment`): which one, where it answers,
    and whether this run cloned it (from `cloned_from`)."""

    environment_id: str | None
    name: str | None
    url: str | None = None  # its default link, when it has one
    cloned: bool = False
    cloned_from: str | None = None  # the blueprint's name, when this run cloned it
    whole: bool = False  # nothing named: the whole environment is what the run deploys


@dataclass(frozen=True)
class Deletion:
    """How a `delete-environment` run ended: a verdict of its own (succeeded: the environment is gone)."""

    verdict: Verdict
    message: str
    state: str | None = None  # the environment's last state seen (DELETE_QUEUED, DELETING, ...)
    absent: bool = False  # nothing to delete: no such environment, or gone already
    already: bool = False  # being deleted (an earlier request) when this run came: it sent no DELETE

    @property
    def gone(self) -> bool:
        """The environment no longer exists, deleted now or before: what a publisher acts on (the preview's
        GitHub deployments made `inactive`, its pull-request comment saying it was deleted)."""
        return self.verdict is Verdict.SUCCEEDED

    @property
    def by_this_run(self) -> bool:
        """This run deleted the environment (the `deleted` key): gone, and by its own DELETE."""
        return self.gone and not self.absent and not self.already


@dataclass(frozen=True)
class RunOutcome:
    """Every job's outcome, in the order given, and what they come to together."""

    services: list[Outcome]
    signum: int | None = None  # the signal that ended the run, if one did
    # What was asked for, reported with the verdict.
    request: DeployRequest = field(default_factory=DeployRequest)
    dry_run: bool = False  # nothing was posted: the verdicts say what would have been
    # From the step's start to its last verdict (each service's own duration counts from its POST).
    elapsed_seconds: float | None = None
    announced: bool = False  # each service's verdict line was printed as it ended (several services)
    environment: PreviewEnvironment | None = None  # a preview's, deployed into or deleted
    # A `delete-environment` run: its ending, and no service (`services` is empty).
    deletion: Deletion | None = None

    @property
    def verdict(self) -> Verdict:
        return self.deletion.verdict if self.deletion is not None else self.deciding().verdict

    def deciding(self) -> Outcome:
        """The first job, in the order given, whose verdict is the worst: it decides the exit code, and the
        single-value outputs describe it."""
        return min(self.services, key=lambda outcome: SEVERITY.index(outcome.verdict))

    def exit_code(self) -> int:
        if self.verdict is Verdict.CANCELLED:
            return 128 + (self.signum or 15)
        return EXIT_CODES[self.verdict]

    @property
    def requested(self) -> bool:
        """Whether Qovery took some service's deploy request, as far as the run knows. A dry run posts
        nothing; a run can end before its first request (a refused token, an API down)."""
        return any(job.known.requested or job.known.deployment_request_id for job in self.services)

    @property
    def maybe_requested(self) -> bool:
        """Whether some service's deploy request may have been taken, though nothing confirms it."""
        return any(job.known.unconfirmed for job in self.services)

    def asked_label(self) -> str:
        """What the line of the values asked is headed with: `Deployed` when every service succeeded,
        else what is true instead (requested, perhaps requested, not deployed, would be deployed)."""
        if self.dry_run:
            return "Would deploy"
        if self.requested:
            return "Deployed" if self.verdict is Verdict.SUCCEEDED else "Requested"
        return "Requested, not confirmed" if self.maybe_requested else "Not deployed"

    @property
    def url(self) -> str | None:
        """Where the first service that succeeded and has a URL answers, in the order given."""
        return next((outcome.url for outcome in self.services if outcome.url), None)

    @property
    def duration_seconds(self) -> float:
        if self.elapsed_seconds is not None:
            return self.elapsed_seconds
        return max((outcome.duration_seconds for outcome in self.services), default=0.0)
