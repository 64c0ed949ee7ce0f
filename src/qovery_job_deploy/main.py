"""I/O and the one exception boundary: settings -> engine -> report; errors -> messages, exit codes.

The clock and the network are injected (`run(..., clock=, transport=)`), so the tests drive the whole step
in-process on a virtual clock."""

from __future__ import annotations

import signal
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import TextIO

import requests

from qovery_job_deploy.api.client import QoveryClient
from qovery_job_deploy.clock import Clock, Deadline, SystemClock
from qovery_job_deploy.engine import Engine
from qovery_job_deploy.errors import InputError, Interrupted
from qovery_job_deploy.inputs.model import Settings
from qovery_job_deploy.inputs.names import github_env_name, platform_of, qovery_env_name
from qovery_job_deploy.inputs.sources import changed_inputs, gather, load_settings
from qovery_job_deploy.log import HumanLog, inert
from qovery_job_deploy.outcome import ExitCode, Outcome
from qovery_job_deploy.report import diagnosis_of, diagnosis_text
from qovery_job_deploy.runners import Runner, detect
from qovery_job_deploy.text import one_line

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
        runner = detect(environ, stdout, settings.dotenv_file)  # configured from the settings
        deadline = Deadline(started_at + settings.timeout, clock)
        client = _client(settings, environ, clock, deadline, log, transport)
        engine = Engine(
            settings,
            client,
            clock=clock,
            log=log,
            started_at=started_at,
            deadline=deadline,
            given={name: item.describe(secret=name == "api_token") for name, item in inputs.items()},
            begin=lambda title: runner.begin(log, title),
            show_live=lambda whose, lines: runner.live_lines(log, whose, lines),
            platform=platform_of(environ),
        )
        try:
            outcome = engine.run()
        except InputError as error:  # a name that matches nothing: nothing was deployed
            return _input_error(error, log, runner)
        except Exception as error:  # the boundary: anything unexpected is one line, not a bare traceback
            outcome = engine.abandoned(_unexpected(error, debug, stderr))
        finally:
            # The first signal decided; a second (GitHub's SIGTERM) must not cut the report short.
            ignore_interrupts()
            client.close()
        runner.end(log)
        code = outcome.exit_code()
        for job in outcome.services:
            diagnosed = not runner.closing_diagnoses(job, outcome)  # else the closing says it
            _show_explanations(job, runner, log, several=len(outcome.services) > 1, diagnosis=diagnosed)
        problems = runner.publish(log, outcome)
        for problem in problems:
            log.info(f"error: could not write {problem}")
        runner.closing(log, outcome)  # the last word, after what explains it and where it was written
        if problems:
            code = code or ExitCode.API_ERROR
    return code


def _input_error(error: InputError, log: HumanLog, runner: Runner) -> int:
    for problem in str(error).splitlines():  # one line (on GitHub, one annotation) per problem
        runner.input_error(log, problem)
    return ExitCode.INVALID_INPUT


def _client(
    settings: Settings,
    environ: Mapping[str, str],
    clock: Clock,
    deadline: Deadline,
    log: HumanLog,
    transport: requests.adapters.BaseAdapter | None,
) -> QoveryClient:
    return QoveryClient(
        settings.api_url,
        settings.authorization(),
        clock=clock,
        deadline=deadline,
        on_retry=lambda error, delay: log.warning(f"{error}; retrying in {delay:.1f}s"),
        read_timeout=settings.request_timeout,
        environ=environ,
        transport=transport,
    )


def _show_explanations(
    outcome: Outcome, runner: Runner, log: HumanLog, *, several: bool, diagnosis: bool = True
) -> None:
    """Our job's deployment log, folded, then Qovery's diagnosis and the console link: the last lines.
    With several jobs, each line says which job it is about."""
    whose = f"{outcome.known.label()}: " if several else ""
    deployment_log = outcome.deployment_log
    # With `logs: live`, the lines printed while it ran are not printed again: only the tail after them.
    unseen = deployment_log.total - outcome.live_lines if deployment_log is not None else 0
    if deployment_log is not None and deployment_log.lines and unseen > 0:
        kept = deployment_log.lines[-unseen:] if unseen < len(deployment_log.lines) else deployment_log.lines
        shown, total = len(kept), deployment_log.total
        if outcome.live_lines:
            extent = f"the last {shown} of {total} lines, after those shown live"
        else:
            extent = f"last {shown} of {total} lines" if total > shown else f"{shown} lines"
        lines = [line.text() for line in kept]
        runner.show_log(log, f"Qovery deployment log of {outcome.known.label()} ({extent})", lines)
    if (qovery_says := diagnosis_of(outcome)) and diagnosis:
        for line in diagnosis_text(qovery_says).splitlines():
            log.info(whose + line)
    if outcome.console_url:
        log.info(f"{whose}Qovery console: {outcome.console_url}")


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
