"""The simulator as a tool: `python -m qovery_job_deploy.simulator [--port 8080] [--url-file FILE] [--quiet]
[--rate-limit 1000/1h]`.

It prints its services (jobs, applications, containers, helm charts, databases, terraform services, each
with its kind), the QOVERY_API_URL to set and the commands to try (named as this shell runs them:
`.venv/bin/qovery-job-deploy` after the README's quick start), then logs one line per request (method, path,
status) on stderr, unless `--quiet`. Any token starting with `qov_` (or a three-part JWT) is accepted.
With `--rate-limit`, it imposes a budget per token as Qovery does (`ratelimit.py`): every answer carries the
`X-RateLimit-*` headers, and a request beyond the budget is answered 429 with `Retry-After`.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TextIO

from qovery_job_deploy.invocation import Commands, commands
from qovery_job_deploy.simulator.catalogue import builtin_services
from qovery_job_deploy.simulator.environments import STAGING, blueprint_services
from qovery_job_deploy.simulator.model import QoverySimulator
from qovery_job_deploy.simulator.ratelimit import RateLimit
from qovery_job_deploy.simulator.server import serve


def introduction(sim: QoverySimulator, run_as: Commands, *, logged: bool) -> str:
    """What a user needs to point the step at the simulator, the step named as this shell would run it."""
    services = "".join(
        f"  {script.job_id}  {script.kind:<12} {script.job_name:<17} {script.about}\n"
        for script in sim.services.values()
        if script.environment_id != STAGING.environment_id  # the blueprint's: one line below
    )
    if STAGING.environment_id in sim.places:
        services += "and the environment staging: the blueprint of previews (`--clone-from staging`)\n"
    first = next(script.job_id for script in sim.services.values() if script.kind == "job")
    return (
        f"Qovery simulator listening on {sim.url}\n\n"
        f"Its services:\n{services}\n"
        "In another terminal, in this directory, point the step at it (any qov_ token is accepted):\n"
        f"  export QOVERY_API_URL={sim.url} QOVERY_API_TOKEN=qov_anything\n"
        "then deploy one of them:\n"
        f"  {run_as.step} --job-id {first}\n"
        "or one that fails, with its deployment log and Qovery's diagnosis (exit code 1):\n"
        f"  {run_as.step} --environment production --jobs add-orders-index\n"
        "or a release, by name, one after another:\n"
        f"  {run_as.step} --environment production --services migrate,api,web --sequential\n"
        "or a timeout, cancelling what it leaves running:\n"
        f"  {run_as.step} --environment production --jobs nightly-report --timeout 20s --cancel-on-timeout\n"
        "Its services share one environment, whose deployments queue as Qovery's do: one left running (a\n"
        "timeout without --cancel-on-timeout) keeps it busy, and what you deploy next waits in QUEUED.\n"
        "Restart the simulator (Ctrl-C) to clear a busy queue.\n\n"
        + (
            f"Rate limit: {sim.budgets.rate_limit.said()} per token; each answer says what is left\n"
            "(X-RateLimit-Remaining) and when it resets (X-RateLimit-Reset, in seconds), beyond it 429.\n\n"
            if sim.budgets is not None
            else ""
        )
        + (
            "Each request is logged below (method, path, status); Ctrl-C stops the simulator.\n"
            if logged
            else "Requests are not logged (--quiet); Ctrl-C stops the simulator.\n"
        )
    )


class CannotListen(Exception):
    """The port is in use, or not ours to take."""


def serve_forever(
    port: int, url_file: Path | None, log: TextIO | None, rate_limit: RateLimit | None = None
) -> None:
    """The CLI: serve the built-in services until SIGTERM or SIGINT."""
    # The built-in services, and staging, the previews' blueprint (as the demo has them).
    sim = QoverySimulator(
        builtin_services() + blueprint_services(), places=[STAGING], log=log, rate_limit=rate_limit
    )
    try:
        server = serve(sim, port=port)
    except OSError as error:
        raise CannotListen(error.strerror or str(error)) from error
    if url_file is not None:
        url_file.write_text(sim.url + "\n")
    print(introduction(sim, commands(), logged=log is not None), flush=True)
    done = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    done.wait()
    server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m qovery_job_deploy.simulator",
        description="Serve a simulated Qovery API on 127.0.0.1: services that succeed, fail or run long.",
    )
    parser.add_argument(
        "--port", type=int, default=0, help="the port to listen on; 0 (default) picks a free one"
    )
    parser.add_argument("--url-file", type=Path, help="write the base URL here once listening")
    parser.add_argument("--quiet", action="store_true", help="do not log each request on stderr")
    parser.add_argument(
        "--rate-limit",
        type=_rate_limit,
        metavar="N/WINDOW",
        help="impose Qovery's rate limit per token, e.g. 1000/1h (Qovery's documented one) or 12/40s",
    )
    options = parser.parse_args()
    if not 0 <= options.port <= 65535:
        parser.error(
            f"--port {options.port} is no port: give one from 1 to 65535, or --port 0 for a free one"
        )
    try:
        log = None if options.quiet else sys.stderr
        serve_forever(options.port, options.url_file, log, options.rate_limit)
    except CannotListen as error:  # one line, not a traceback
        parser.exit(
            1,
            f"cannot listen on 127.0.0.1:{options.port} ({error}): give another --port, or --port 0 for a "
            "free one\n",
        )
    except OSError as error:  # the --url-file could not be written
        parser.exit(1, f"cannot write --url-file {options.url_file} ({error.strerror or error})\n")


def _rate_limit(text: str) -> RateLimit:
    try:
        return RateLimit.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


if __name__ == "__main__":
    main()
