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
from qovery_job_deploy.deploy import DeployRequest, JobDeployment, Known, Outcome, Verdict
from qovery_job_deploy.errors import ActionError, ApiError, InputError, Interrupted
from qovery_job_deploy.log import HumanLog
from qovery_job_deploy.runners import Runner, detect
from qovery_job_deploy.settings import (
    Settings,
    changed_inputs,
    github_env_name,
    load_settings,
    qovery_env_name,
)
from qovery_job_deploy.text import one_line

# The exit codes (README, "Exit codes"); 130 and 143 are 128 + the signal's number.
EXIT_SUCCESS = 0
EXIT_FAILED = 1
EXIT_INVALID_INPUT = InputError.exit_code  # 2
EXIT_API_ERROR = ApiError.exit_code  # 3
EXIT_TIMED_OUT = 124  # as timeout(1) says it
# Values shorter than this are not masked: masking "true" or "3s" would garble the whole log.
MIN_MASKED_LENGTH = 8
# GitHub sends SIGTERM 7.5 s after SIGINT and GitLab kills 10 s after SIGTERM: stay well inside both.
CANCEL_BUDGET_SECONDS = 1.5
EXIT_CODES = {
    Verdict.SUCCEEDED: EXIT_SUCCESS,
    Verdict.ACCEPTED: EXIT_SUCCESS,
    Verdict.FAILED: EXIT_FAILED,
    Verdict.ERROR: EXIT_API_ERROR,
    Verdict.TIMED_OUT: EXIT_TIMED_OUT,
}


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
            for problem in str(error).splitlines():  # one line, and one annotation, per problem
                log.info(f"error: {problem}")
                runner.input_error(problem)
            return EXIT_INVALID_INPUT
        except Interrupted as interruption:  # nothing was attempted: nothing to report
            return 128 + interruption.signum
        if changed := changed_inputs(settings, argv, environ):
            log.info(f"Inputs: {changed}")
        debug = settings.debug or environ.get("RUNNER_DEBUG") == "1"
        context = Context(clock, log, started_at, debug, stderr)
        outcome, code = _deploy(settings, environ, runner, context)
        runner.end(log)
        log.info(f"{outcome.verdict.value}: {outcome.message}")
        for problem in runner.publish(outcome):
            log.info(f"error: could not write {problem}")
            code = code or EXIT_API_ERROR
    return code


def _deploy(
    settings: Settings, environ: Mapping[str, str], runner: Runner, context: Context
) -> tuple[Outcome, int]:
    log = context.log
    runner.dotenv_file = settings.dotenv_file
    known = Known(str(settings.job_id))
    client = QoveryClient(
        settings.api_url,
        settings.authorization(),
        clock=context.clock,
        deadline=context.started_at + settings.timeout,
        on_retry=lambda error, delay: log.warning(f"{error}; retrying in {delay:.1f}s"),
        read_timeout=settings.request_timeout,
        ca_bundle=environ.get("SSL_CERT_FILE"),
    )
    try:
        runner.begin(log, f"Deploying Qovery job {settings.job_id}")
        return _follow(settings, client, known, context)
    except Interrupted as interruption:  # it landed while another ending was being handled
        return _interrupted(interruption, known, context, cancelled=False)
    finally:
        ignore_interrupts()  # the first signal decided; a second (GitHub's SIGTERM) must not cut the report
        client.close()


@dataclass(frozen=True)
class Context:
    clock: SystemClock
    log: HumanLog
    started_at: float
    debug: bool
    stderr: TextIO

    def outcome(self, known: Known, verdict: Verdict, message: str) -> Outcome:
        return Outcome(known, verdict, message, self.clock.now() - self.started_at)


def _follow(settings: Settings, client: QoveryClient, known: Known, context: Context) -> tuple[Outcome, int]:
    """Deploy and wait; every way this can end becomes an Outcome and an exit code."""
    log = context.log
    try:
        deployment = JobDeployment(
            client,
            known,
            DeployRequest(settings.image_tag, settings.git_commit_id, settings.force_event),
            clock=context.clock,
            log=log,
            started_at=context.started_at,
            poll_interval=settings.poll_interval,
        )
        outcome = deployment.run(wait=settings.wait)
        if outcome.verdict is Verdict.TIMED_OUT and settings.cancel_on_timeout:
            _cancel(client, known, log)
        return outcome, EXIT_CODES[outcome.verdict]
    except Interrupted as interruption:
        log.warning(f"Received {signal.Signals(interruption.signum).name}: stopping")
        cancelled = settings.cancel_on_abort and _cancel(client, known, log)
        return _interrupted(interruption, known, context, cancelled=cancelled)
    except ActionError as error:
        return context.outcome(known, Verdict.ERROR, str(error)), error.exit_code
    except Exception as error:  # the boundary: anything unexpected is one line, not a bare traceback
        message = _unexpected(error, context.debug, context.stderr)
        return context.outcome(known, Verdict.ERROR, message), EXIT_API_ERROR


def _interrupted(
    interruption: Interrupted, known: Known, context: Context, *, cancelled: bool
) -> tuple[Outcome, int]:
    name = signal.Signals(interruption.signum).name
    what = "our deployment request was cancelled" if cancelled else "the deployment may still run"
    return context.outcome(
        known, Verdict.CANCELLED, f"Interrupted by {name}; {what}."
    ), 128 + interruption.signum


def _unexpected(error: Exception, debug: bool, stderr: TextIO) -> str:
    if debug:
        traceback.print_exc(file=stderr)
        return f"Unexpected error: {type(error).__name__}: {one_line(error)}"
    return (
        f"Unexpected error: {type(error).__name__}: {one_line(error)} "
        "(set QOVERY_DEBUG=true or RUNNER_DEBUG=1 for the traceback)"
    )


def _cancel(client: QoveryClient, known: Known, log: HumanLog) -> bool:
    """Cancel our deployment request (only ours, never the environment's) within a short budget."""
    if known.deployment_request_id is None:
        log.warning("No deployment request to cancel")
        return False
    try:
        client.cancel_request(known.deployment_request_id, budget=CANCEL_BUDGET_SECONDS)
    except Exception as error:  # best effort, on the way out: never let it cost the report
        log.warning(f"Could not cancel deployment request {known.deployment_request_id}: {error}")
        return False
    log.info(f"Cancelled deployment request {known.deployment_request_id}")
    return True


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
