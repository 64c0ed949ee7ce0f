"""The command: `qovery-job-deploy [OPTION ...]`, `--help`, `--version`, and `qovery-job-deploy demo`.

The one dispatcher above `main` (a deployment) and `demo` (a deployment against the built-in simulator),
so that neither imports the other's caller. The container's entrypoint.py and `python -m` come here too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

import requests

from qovery_job_deploy import __version__
from qovery_job_deploy.clock import Clock
from qovery_job_deploy.inputs.cli import cli_parser
from qovery_job_deploy.invocation import PROG
from qovery_job_deploy.main import run
from qovery_job_deploy.outcome import ExitCode

DESCRIPTION = """\
Deploy a Qovery job and wait for the true verdict of that deployment.

Every option is also read from the environment: QOVERY_<NAME> (in brackets
below), or in a GitHub action from the input of the same name (job-id: ...).
A flag beats the GitHub input, which beats the QOVERY_ variable. A true|false
flag alone means true (--wait); --no-wait, --no-debug, ... mean false.

Pass the token through the environment (QOVERY_API_TOKEN, from a CI secret),
not as --api-token: a command line shows in `ps` and in the shell's history.

Example:
  export QOVERY_API_TOKEN=qov_...
  qovery-job-deploy --job-id <job id> --image-tag v1.2.3 --timeout 15m
"""

EPILOG = f"""\
commands:
  demo [SCENARIO]  deploy a job of the built-in Qovery simulator, no account
                   needed (`{PROG} demo --help` lists the scenarios)

The human log goes to stderr, and the JSON result is the only thing on stdout;
except in GitHub Actions (which reads the outputs from files) and GitLab CI
(which keeps qovery-result.json, written beside the dotenv report).

exit codes:
  {ExitCode.SUCCESS:<4} the deployment reached its success state
       (with --no-wait: Qovery accepted the request)
  {ExitCode.FAILED:<4} the deployment ended in failure (*_ERROR, CANCELED, RECAP, ...)
  {ExitCode.INVALID_INPUT:<4} invalid input, or a name that matches nothing:
       nothing was deployed
  {ExitCode.API_ERROR:<4} Qovery refused a request (401, 403, 404, 400) or was unreachable
  {ExitCode.TIMED_OUT:<4} the wait timed out before the deployment ended
  130  interrupted by SIGINT; 143: by SIGTERM (`docker stop`, a cancelled run)
"""


def help_text() -> str:
    return cli_parser(DESCRIPTION, EPILOG).format_help()


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    *,
    clock: Clock | None = None,
    transport: requests.adapters.BaseAdapter | None = None,
) -> int:
    """The process's arguments, environment and streams by default; the tests pass their own, with a
    virtual clock and an in-process transport."""
    args = list(sys.argv[1:] if argv is None else argv)
    environ = os.environ if environ is None else environ
    out, err = stdout or sys.stdout, stderr or sys.stderr
    if args[:1] == ["demo"]:
        from qovery_job_deploy.demo import run_demo  # noqa: PLC0415 - the simulator loads only for demos

        return run_demo(args[1:], out, err, clock=clock, environ=environ)
    if {"-h", "--help"} & set(args):
        out.write(help_text())
        return ExitCode.SUCCESS
    if {"-V", "--version"} & set(args):
        out.write(f"{PROG} {__version__}\n")
        return ExitCode.SUCCESS
    return run(args, environ, out, err, clock=clock, transport=transport)
