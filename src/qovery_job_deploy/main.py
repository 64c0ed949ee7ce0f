"""The one exception boundary: settings -> client -> deployment -> report; errors -> messages, exit codes."""

from __future__ import annotations

import signal
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from types import FrameType
from typing import TextIO

import requests

from qovery_job_deploy.api.client import QoveryClient
from qovery_job_deploy.clock import Clock, SystemClock
from qovery_job_deploy.console import console_url
from qovery_job_deploy.deploy import Deployments, JobRun, Options
from qovery_job_deploy.diagnosis import (
    LOG_FLOOR_SECONDS,
    complete_identities,
    read_deployment_log,
    wants_log,
)
from qovery_job_deploy.errors import ActionError, InputError, Interrupted
from qovery_job_deploy.identity import JobIdentity
from qovery_job_deploy.log import HumanLog, inert
from qovery_job_deploy.outcome import (
    EXIT_API_ERROR,
    EXIT_INVALID_INPUT,
    DeployRequest,
    Known,
    Outcome,
    RunOutcome,
    Verdict,
)
from qovery_job_deploy.report import diagnosis_of, diagnosis_text
from qovery_job_deploy.resolve import Resolver, Scope
from qovery_job_deploy.runners import Runner, detect
from qovery_job_deploy.settings import (
    Settings,
    changed_inputs,
    gather,
    github_env_name,
    load_settings,
    qovery_env_name,
)
from qovery_job_deploy.text import one_line

# After the verdicts, the reads that explain them (deployment logs) share at least this much time, even
# past `timeout`: a timed-out deployment is when its log is most wanted.
EXPLAIN_SECONDS = 10.0
# The inputs that name things: their value and origin appear in the errors of name resolution.
NAME_INPUTS = ("jobs", "organization", "project", "environment")
# Values shorter than this are not masked: masking "true" or "3s" would garble the whole log.
MIN_MASKED_LENGTH = 8


def run(
    argv: Sequence[str],
    environ: Mapping[str, str],
    stdout: TextIO,
    stderr: TextIO,
    *,
    clock: Clock | None = None,
    transport: requests.adapters.BaseAdapter | None = None,
) -> int:
    """The whole step. Time and the network come from the caller: the system's by default, a virtual clock
    and an in-process simulator in the tests."""
    clock = clock or SystemClock()
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
        inputs = gather(argv, environ)  # each input's raw value and where it came from
        if changed := changed_inputs(settings, inputs):
            log.info(f"Inputs: {changed}")
        if inputs["api_token"].origin.startswith("-"):
            log.warning(
                "the API token was given as a command-line flag, which other users of this machine can see "
                "(ps); pass it as QOVERY_API_TOKEN instead"
            )
        debug = settings.debug or environ.get("RUNNER_DEBUG") == "1"
        context = Context(clock, log, started_at, debug, stderr)
        runner = detect(environ, stdout, settings.dotenv_file)  # configured from the settings
        client = _client(settings, environ, context, transport)
        try:
            given = {name: item.describe(secret=False) for name, item in inputs.items()}
            outcome = _deploy(settings, client, context, lambda title: runner.begin(log, title), given)
            outcome = replace(outcome, request=_request(settings))
        except InputError as error:  # a name that matches nothing: nothing was deployed
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
        for job in outcome.jobs:
            _show_explanations(job, runner, log, several=len(outcome.jobs) > 1)
        for problem in runner.publish(outcome):
            log.info(f"error: could not write {problem}")
            code = code or EXIT_API_ERROR
    return code


def _input_error(error: InputError, log: HumanLog, runner: Runner) -> int:
    for problem in str(error).splitlines():  # one line, and one GitHub annotation, per problem
        log.info(f"error: {problem}")
        runner.input_error(problem)
    return EXIT_INVALID_INPUT


def _client(
    settings: Settings,
    environ: Mapping[str, str],
    context: Context,
    transport: requests.adapters.BaseAdapter | None,
) -> QoveryClient:
    log = context.log
    return QoveryClient(
        settings.api_url,
        settings.authorization(),
        clock=context.clock,
        deadline=context.started_at + settings.timeout,
        on_retry=lambda error, delay: log.warning(f"{error}; retrying in {delay:.1f}s"),
        read_timeout=settings.request_timeout,
        environ=environ,
        transport=transport,
    )


@dataclass(frozen=True)
class Context:
    clock: Clock
    log: HumanLog
    started_at: float
    debug: bool
    stderr: TextIO


def _deploy(
    settings: Settings,
    client: QoveryClient,
    context: Context,
    begin: Callable[[str], None],
    given: Mapping[str, str],
) -> RunOutcome:
    """Resolve the names, deploy and wait; every way this can end becomes a RunOutcome. `begin` opens the
    runner's log group once the jobs' names are known (or, failing that, with their refs)."""
    log = context.log
    refs = settings.job_refs()
    runs = [JobRun(JobIdentity(ref), log, Known(ref)) for ref in refs]  # until the names are resolved
    deployments: Deployments | None = None
    try:
        try:
            identities = Resolver(
                client, log, {name: given[name] for name in NAME_INPUTS if name in given}
            ).jobs(refs, Scope(settings.organization, settings.project, settings.environment))
            identities = complete_identities(client, identities, log)
        except InputError:
            raise  # nothing to open: the caller reports an input error
        except BaseException:
            begin(_title([run.identity for run in runs]))  # the report that follows needs its group
            raise
        begin(_title(identities))
        runs = [_job_run(identity, log, several=len(identities) > 1) for identity in identities]
        deployments = Deployments(
            client, runs, _options(settings), clock=context.clock, log=log, started_at=context.started_at
        )
        outcomes = deployments.run()
        if deployments.signum is None:  # after a signal, stop promptly: no more reads
            outcomes = _explain_all(outcomes, settings, client, context)
        return RunOutcome(outcomes, deployments.signum)
    except InputError:
        raise
    except Interrupted as interruption:  # while resolving names: before anything was deployed
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


def _explain_all(
    outcomes: list[Outcome], settings: Settings, client: QoveryClient, context: Context
) -> list[Outcome]:
    """Each outcome with what explains it, read after every verdict is known. The reads share one budget
    (what is left of `timeout`, or EXPLAIN_SECONDS when that is less), and a signal now cuts the
    explanations short, never the verdicts already reached."""
    until = max(client.deadline, context.clock.now() + EXPLAIN_SECONDS)
    explained: list[Outcome] = []
    try:
        for outcome in outcomes:
            explained.append(_explained(outcome, settings, client, context, until))
    except Interrupted:  # said where it landed (diagnosis.py); the verdicts stand
        pass
    return explained + outcomes[len(explained) :]


def _explained(
    outcome: Outcome, settings: Settings, client: QoveryClient, context: Context, until: float
) -> Outcome:
    """The outcome with a console link and, when wanted, its deployment log. Never a new verdict."""
    identity = outcome.known.identity or JobIdentity(outcome.known.job_id)
    deployment_log = None
    deployed = outcome.known.deployment_request_id is not None  # else there is no log to read
    left = until - context.clock.now()
    if deployed and wants_log(settings.logs, outcome.verdict):
        if left < LOG_FLOOR_SECONDS:
            context.log.info(f"No time left to read the deployment log of {outcome.known.label()}")
        else:
            deployment_log = read_deployment_log(
                client,
                identity,
                outcome.known.execution_id,
                time_left=left,
                cap=settings.request_timeout,
                secrets=[settings.api_token.get_secret_value()],
                log=context.log,
            )
    link = console_url(settings.console_url, identity, outcome.known.execution_id)
    return replace(outcome, console_url=link, deployment_log=deployment_log)


def _show_explanations(outcome: Outcome, runner: Runner, log: HumanLog, *, several: bool) -> None:
    """Our job's deployment log, folded, then Qovery's diagnosis and the console link: the last lines.
    With several jobs, each line says which job it is about."""
    whose = f"{outcome.known.label()}: " if several else ""
    deployment_log = outcome.deployment_log
    if deployment_log is not None and deployment_log.lines:
        shown, total = len(deployment_log.lines), deployment_log.total
        extent = f"last {shown} of {total} lines" if total > shown else f"{shown} lines"
        lines = [line.text() for line in deployment_log.lines]
        runner.show_log(log, f"Qovery deployment log of {outcome.known.label()} ({extent})", lines)
    if diagnosis := diagnosis_of(outcome):
        for line in diagnosis_text(diagnosis).splitlines():
            log.info(whose + line)
    if outcome.console_url:
        log.info(f"{whose}Qovery console: {outcome.console_url}")


def _title(identities: Sequence[JobIdentity]) -> str:
    if len(identities) == 1:
        return f"Deploying Qovery job {identities[0].label()}"
    return f"Deploying {len(identities)} Qovery jobs: {', '.join(i.short_name() for i in identities)}"


def _job_run(identity: JobIdentity, log: HumanLog, *, several: bool) -> JobRun:
    job_log = log.prefixed(identity.short_name()) if several else log
    return JobRun(identity, job_log, Known(identity.job_id, identity=identity))


def _request(settings: Settings) -> DeployRequest:
    return DeployRequest(settings.image_tag, settings.git_commit_id, settings.force_event)


def _options(settings: Settings) -> Options:
    return Options(
        _request(settings),
        settings.poll_interval,
        wait=settings.wait,
        sequential=settings.sequential,
        cancel_on_abort=settings.cancel_on_abort,
        cancel_on_timeout=settings.cancel_on_timeout,
    )


def _everyone(
    runs: list[JobRun], context: Context, verdict: Verdict, message: str, signum: int | None = None
) -> RunOutcome:
    duration = context.clock.now() - context.started_at
    return RunOutcome([Outcome(run.known, verdict, message, duration) for run in runs], signum)


def _unexpected(error: Exception, debug: bool, stderr: TextIO) -> str:
    if debug:
        # Each line behind a bar: an exception's text may hold API text, which must not start a line with
        # `::` (a GitHub command); `inert` breaks the legacy `##[` form.
        stderr.write("".join(f"| {inert(line)}\n" for line in traceback.format_exc().splitlines()))
        stderr.flush()
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
