"""The composition root: the inputs -> a Plan -> deploy(plan, ctx) -> report(outcome); errors -> messages and
exit codes. Everything is made once here, from the environment.

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
from qovery_job_deploy.context import Context, Events
from qovery_job_deploy.engine import deploy
from qovery_job_deploy.errors import InputError, Interrupted
from qovery_job_deploy.inputs.names import (
    GITHUB_TOKEN_VARIABLE,
    SECRET_INPUTS,
    flag_name,
    github_env_name,
    qovery_env_name,
    token_parts,
)
from qovery_job_deploy.inputs.plan import Plan, load_plan
from qovery_job_deploy.inputs.sources import input_values, misspelled_variables
from qovery_job_deploy.log import HumanLog, inert
from qovery_job_deploy.publishers import Target, told
from qovery_job_deploy.removal import remove
from qovery_job_deploy.report import report, report_input_error
from qovery_job_deploy.runners import runner_of
from qovery_job_deploy.streams import Tolerant, Writer
from qovery_job_deploy.text import one_line

# Values shorter than this are not masked: masking "abc" would garble the whole log.
MIN_MASKED_LENGTH = 8
_SECRET_FLAGS = tuple(flag_name(name) for name in SECRET_INPUTS)  # --api-token, --github-token


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
    # A reader that goes away (`2>&1 >result.json | head -1`) costs its stream, never the deployment.
    out, err = Tolerant(stdout), Tolerant(stderr)
    log = HumanLog(err, clock.now, started_at)
    runner = runner_of(environ)
    presenter = runner.presenter(environ, out, log)
    presenter.mask(token_candidates(argv, environ))  # before anything else is printed
    for near_miss in misspelled_variables(environ):  # ignored: said even when the inputs are refused
        log.warning(near_miss.warning())
    # From here on SIGINT/SIGTERM raise Interrupted: as PID 1 in a container, a process without a
    # handler would ignore `docker stop`.
    with interrupts_raised():
        try:
            plan = load_plan(argv, environ)
        except InputError as error:
            return report_input_error(error, presenter)
        except Interrupted as interruption:  # nothing was attempted: nothing to report
            return 128 + interruption.signum
        if plan.changed:
            log.info(f"Inputs: {plan.changed}")
        if plan.token_on_command_line:
            log.warning(
                "the API token was given as a command-line flag, which other users of this machine can see "
                "(ps); pass it as QOVERY_API_TOKEN instead"
            )
        deadline = Deadline(started_at + plan.timeout, clock)
        client = _client(plan, environ, clock, deadline, log, transport)
        reporting = plan.reporting
        target = Target(
            environ,
            out,
            log,
            reporting.dotenv_file,
            github=reporting.github,
            console_url=reporting.console_url,
            clock=clock,
            transport=transport,
            warn=presenter.warning,
        )
        publishers = runner.publishers_for(target)  # before the run: the trackers among them follow it
        events = Events(begin=presenter.begin, live=presenter.live_lines, accepted=told(publishers))
        ctx = Context(client, clock, deadline, log, started_at, events)
        run_plan = remove if plan.delete_environment else deploy  # a preview's deletion, or a deployment
        try:
            outcome = run_plan(plan, ctx, lambda error: _unexpected(error, plan.debug, err))
        except InputError as error:  # a name that matches nothing: nothing was deployed (or deleted)
            return report_input_error(error, presenter)
        finally:
            # The first signal decided; a second (GitHub's SIGTERM) must not cut the report short.
            ignore_interrupts()
            client.close()
        return report(outcome, presenter, publishers)


def _client(
    plan: Plan,
    environ: Mapping[str, str],
    clock: Clock,
    deadline: Deadline,
    log: HumanLog,
    transport: requests.adapters.BaseAdapter | None,
) -> QoveryClient:
    return QoveryClient(
        plan.connection.api_url,
        plan.connection.authorization.get_secret_value(),
        clock=clock,
        deadline=deadline,
        on_retry=lambda error, delay: log.warning(f"{error}; retrying in {delay:.1f}s"),
        read_timeout=plan.connection.request_timeout,
        environ=environ,
        transport=transport,
    )


def _unexpected(error: Exception, debug: bool, stderr: Writer) -> str:
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
    """What may be a token (Qovery's, GitHub's), read before validation so that it is masked before anything
    is printed: each secret input's value, from its variables and its flag (`--api-token X`,
    `--api-token=X`), the GitHub token variable, and any other value given to an input, on the command line
    or in an input's variable, that has a token's shape, or each item of it or each token inside it
    (`token_parts`: a token after a mistyped flag, `--token qov_...`; `--jobs migrate,qov_...`;
    `--job-id 'qov_...'`). Nothing else: a mask hides every later `production` or commit SHA in the job's
    whole log, and GitHub may drop an output that holds one.
    """
    values = [
        environ.get(variable, "")
        for name in SECRET_INPUTS
        for variable in (github_env_name(name), qovery_env_name(name))
    ]
    values.append(environ.get(GITHUB_TOKEN_VARIABLE, ""))  # the GitHub token of a `run:` step
    values += _secret_flag_values(argv)
    for given in (*argv, *input_values(environ)):
        value = given.split("=", 1)[1] if given.startswith("--") and "=" in given else given
        values += token_parts(value)
    return list(dict.fromkeys(value.strip() for value in values if len(value.strip()) >= MIN_MASKED_LENGTH))


def _secret_flag_values(argv: Sequence[str]) -> list[str]:
    """The secret flags' values as argparse takes them (`--api-token=X`, `--api-token X`): the next argument
    unless it starts with `--` and has no space, a flag argparse would not take as the value. That leaves
    more than argparse takes (`-x`), never less (`--x y`, `-1`)."""
    values = []
    for index, arg in enumerate(argv):
        flag, equals, value = arg.partition("=")
        if flag not in _SECRET_FLAGS:
            continue
        if equals:
            values.append(value)
        elif index + 1 < len(argv) and not _a_flag(argv[index + 1]):
            values.append(argv[index + 1])
    return values


def _a_flag(arg: str) -> bool:
    return arg.startswith("--") and " " not in arg


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
