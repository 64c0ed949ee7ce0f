"""The one exception boundary: settings -> client -> deployment -> report; errors -> messages, exit codes."""

from __future__ import annotations

import signal
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import TextIO

from qovery_job_deploy.client import QoveryClient
from qovery_job_deploy.deploy import Deployments, JobRun, Options
from qovery_job_deploy.errors import ActionError, InputError, Interrupted
from qovery_job_deploy.identity import JobIdentity
from qovery_job_deploy.log import HumanLog
from qovery_job_deploy.outcome import EXIT_API_ERROR, EXIT_INVALID_INPUT, Known, Outcome, RunOutcome, Verdict
from qovery_job_deploy.resolve import Resolver, Scope
from qovery_job_deploy.runners import Runner, detect
from qovery_job_deploy.settings import (
    Settings,
    changed_inputs,
    github_env_name,
    load_settings,
    qovery_env_name,
)
from qovery_job_deploy.text import one_line
from qovery_job_deploy.trigger import DeployRequest

# Values shorter than this are not masked: masking "true" or "3s" would garble the whole log.
MIN_MASKED_LENGTH = 8


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


def run(argv: Sequence[str], environ: Mapping[str, str], stdout: TextIO, stderr: TextIO) -> int:
    clock = SystemClock()
    started_at = clock.now()
    runner = detect(environ, stdout)
    runner.mask(token_candidates(argv, environ))  # before anything else is printed
    log = HumanLog(stderr, clock.now, started_at)
    # From here on SIGINT/SIGTERM raise Interrupted: as PID 1 in a container, a process without a
    # handler would ignore `docker stop`.
    with interrupts_raised():
        try:
            settings = load_settings(argv, environ)
        except InputError as error:
            return _input_error(error, log, runner)
        except Interrupted as interruption:  # nothing was attempted: nothing to report
            return 128 + interruption.signum
        if changed := changed_inputs(settings, argv, environ):
            log.info(f"Inputs: {changed}")
        debug = settings.debug or environ.get("RUNNER_DEBUG") == "1"
        context = Context(clock, log, started_at, debug, stderr)
        runner.dotenv_file = settings.dotenv_file
        client = _client(settings, environ, context)
        try:
            runner.begin(
                log, "Deploying Qovery jobs" if settings.jobs else f"Deploying Qovery job {settings.job_id}"
            )
            outcome = _deploy(settings, client, context)
        except InputError as error:  # a name that matches nothing: nothing was deployed
            runner.end(log)
            return _input_error(error, log, runner)
        finally:
            # The first signal decided; a second (GitHub's SIGTERM) must not cut the report short.
            ignore_interrupts()
            client.close()
        runner.end(log)
        code = outcome.exit_code()
        for job in outcome.jobs if len(outcome.jobs) > 1 else ():
            log.info(f"{job.known.label()}: {job.verdict.value}: {job.message}")
        deciding = outcome.deciding()
        log.info(f"{outcome.verdict.value}: {deciding.message}")
        for problem in runner.publish(outcome):
            log.info(f"error: could not write {problem}")
            code = code or EXIT_API_ERROR
    return code


def _input_error(error: InputError, log: HumanLog, runner: Runner) -> int:
    for problem in str(error).splitlines():  # one line, and one GitHub annotation, per problem
        log.info(f"error: {problem}")
        runner.input_error(problem)
    return EXIT_INVALID_INPUT


def _client(settings: Settings, environ: Mapping[str, str], context: Context) -> QoveryClient:
    log = context.log
    return QoveryClient(
        settings.api_url,
        settings.authorization(),
        clock=context.clock,
        deadline=context.started_at + settings.timeout,
        on_retry=lambda error, delay: log.warning(f"{error}; retrying in {delay:.1f}s"),
        read_timeout=settings.request_timeout,
        ca_bundle=environ.get("SSL_CERT_FILE"),
    )


@dataclass(frozen=True)
class Context:
    clock: SystemClock
    log: HumanLog
    started_at: float
    debug: bool
    stderr: TextIO


def _deploy(settings: Settings, client: QoveryClient, context: Context) -> RunOutcome:
    """Resolve the names, deploy and wait; every way this can end becomes a RunOutcome."""
    log = context.log
    refs = settings.job_refs()
    runs = [JobRun(JobIdentity(ref), log, Known(ref)) for ref in refs]  # until the names are resolved
    deployments: Deployments | None = None
    try:
        identities = Resolver(client, log).jobs(
            refs, Scope(settings.organization, settings.project, settings.environment)
        )
        runs = [_job_run(identity, log, several=len(identities) > 1) for identity in identities]
        deployments = Deployments(
            client, runs, _options(settings), clock=context.clock, log=log, started_at=context.started_at
        )
        outcomes = deployments.run()
        return RunOutcome(outcomes, deployments.signum)
    except InputError:
        raise
    except Interrupted as interruption:  # before anything was deployed (while resolving names)
        return _everyone(
            runs, context, Verdict.CANCELLED, "Interrupted; nothing was deployed.", interruption.signum
        )
    except ActionError as error:  # while resolving names: nothing was deployed
        return _everyone(runs, context, Verdict.ERROR, f"Nothing was deployed: {error}")
    except Exception as error:  # the boundary: anything unexpected is one line, not a bare traceback
        message = _unexpected(error, context.debug, context.stderr)
        if deployments is None:
            return _everyone(runs, context, Verdict.ERROR, message)
        deployments.end_pending(Verdict.ERROR, message)
        return RunOutcome([run.outcome for run in deployments.runs if run.outcome is not None])


def _job_run(identity: JobIdentity, log: HumanLog, *, several: bool) -> JobRun:
    job_log = log.prefixed(identity.short_name()) if several else log
    return JobRun(identity, job_log, Known(identity.job_id, identity=identity))


def _options(settings: Settings) -> Options:
    return Options(
        DeployRequest(settings.image_tag, settings.git_commit_id, settings.force_event),
        settings.poll_interval,
        wait=settings.wait,
        sequential=settings.sequential,
        cancel_on_abort=settings.cancel_on_abort,
        cancel_on_timeout=settings.cancel_on_timeout,
        timeout=settings.timeout,
    )


def _everyone(
    runs: list[JobRun], context: Context, verdict: Verdict, message: str, signum: int | None = None
) -> RunOutcome:
    duration = context.clock.now() - context.started_at
    return RunOutcome([Outcome(run.known, verdict, message, duration) for run in runs], signum)


def _unexpected(error: Exception, debug: bool, stderr: TextIO) -> str:
    if debug:
        traceback.print_exc(file=stderr)
        return f"Unexpected error: {type(error).__name__}: {one_line(error)}"
    return (
        f"Unexpected error: {type(error).__name__}: {one_line(error)} "
        "(set QOVERY_DEBUG=true or RUNNER_DEBUG=1 for the traceback)"
    )


def token_candidates(argv: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """Every value that may be the token, read before validation so it can be masked first.

    All command-line values of some length are masked, since a mistyped flag (`--token qov_...`) hides
    which one is the token; masking a job id too is harmless.
    """
    values = [environ.get(github_env_name("api_token"), ""), environ.get(qovery_env_name("api_token"), "")]
    for arg in argv:
        value = arg.split("=", 1)[1] if arg.startswith("--") and "=" in arg else arg
        if not value.startswith("-"):
            values.append(value)  # any value on the command line: a token may follow a mistyped flag
    return [value.strip() for value in values if len(value.strip()) >= MIN_MASKED_LENGTH]


def ignore_interrupts() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)


@contextmanager
def interrupts_raised() -> Iterator[None]:
    """SIGINT/SIGTERM raise Interrupted in the main thread, which stops any sleep or socket read at once.

    As PID 1 in a container, a process without a SIGTERM handler would ignore `docker stop`.
    """

    def handler(signum: int, frame: FrameType | None) -> None:
        ignore_interrupts()  # the first signal decides; later ones must not cut the clean-up short
        raise Interrupted(signum)

    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    for signum in previous:
        signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
