"""`qovery-job-deploy demo [SCENARIO]`: a whole deployment against the built-in Qovery simulator, no account
needed. It is a user's first contact with the tool: the step's own log, then a short human summary of the
result (not the JSON line CI reads), then what to run next."""

from __future__ import annotations

import io
import json
import os
import shlex
import sys
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from qovery_job_deploy.clock import Clock
from qovery_job_deploy.invocation import PROG, Commands, commands
from qovery_job_deploy.kinds import noun_of
from qovery_job_deploy.main import run
from qovery_job_deploy.outcome import ExitCode
from qovery_job_deploy.simulator import (
    FAILURE_JOB,
    SLOW_JOB,
    SUCCESS_JOB,
    QoverySimulator,
    SimulatorServer,
    builtin_services,
    serve,
)
from qovery_job_deploy.simulator.environments import STAGING, blueprint_services
from qovery_job_deploy.simulator.transport import SimulatorAdapter
from qovery_job_deploy.text import one_line

DEMO_TOKEN = "qov_demo-token-of-the-simulator"  # noqa: S105 - accepted by the simulator only


@dataclass(frozen=True)
class Scenario:
    what: str
    plays: str  # what the simulator plays, in the intro line
    variables: dict[str, str] = field(default_factory=dict)
    # The runs after the first, a lifecycle: each its variables over the first's (empty: left out).
    then: tuple[tuple[str, dict[str, str]], ...] = ()  # (what it is, its variables)


def _job(job_id: str, what: str, **variables: str) -> Scenario:
    return Scenario(what, f"job {job_id}", {"QOVERY_JOB_ID": job_id} | variables)


# The release the `release`, `dry-run` and `live` scenarios deploy: three kinds, each taking its own value.
RELEASE = {
    "QOVERY_ENVIRONMENT": "production",
    "QOVERY_SERVICES": "migrate, api, web",
    "QOVERY_SEQUENTIAL": "true",
    "QOVERY_IMAGE_TAG": "1.5.0",
    "QOVERY_GIT_COMMIT_ID": "4f2a9c1e0b7d3a5f6c8e9d0a1b2c3d4e5f6a7b8c",
}
SCENARIOS = {
    "success": _job(SUCCESS_JOB, "a deployment that succeeds in about 2 s (exit code 0)"),
    "failure": _job(FAILURE_JOB, "a deployment that fails in Qovery (exit code 1)"),
    "timeout": _job(
        SLOW_JOB, "a deployment that outlasts a 5 s timeout (exit code 124)", QOVERY_TIMEOUT="5s"
    ),
    "release": Scenario(
        "a release: job migrate, container api, application web, in order (exit code 0)",
        "the job migrate, the container api and the application web of production (shop)",
        RELEASE,
    ),
    "dry-run": Scenario(
        "a dry run of that release: names, values and statuses checked, nothing posted (exit code 0)",
        "the job migrate, the container api and the application web of production (shop)",
        {key: value for key, value in RELEASE.items() if key != "QOVERY_SEQUENTIAL"}
        | {"QOVERY_DRY_RUN": "true"},
    ),
    "live": Scenario(
        "that release with each deployment's log shown as it runs, `logs: live` (exit code 0)",
        "the job migrate, the container api and the application web of production (shop)",
        RELEASE | {"QOVERY_LOGS": "live"},
    ),
    "preview": Scenario(
        "a preview per pull request: cloned and deployed whole, deployed into again, deleted (exit code 0)",
        "staging in acme / shop (a database, a job, a container, an application), the previews' blueprint",
        {
            "QOVERY_PROJECT": "shop",
            "QOVERY_ENVIRONMENT": "pr-42",
            "QOVERY_CLONE_FROM": "staging",
            "QOVERY_SERVICES": "api",
            "QOVERY_IMAGE_TAG": "pr-42-1",
            "QOVERY_POLL_INTERVAL": "1s",  # its services deploy in a second each
        },
        then=(
            ("the next push: the preview exists, only api deploys", {"QOVERY_IMAGE_TAG": "pr-42-2"}),
            (
                "the pull request closes: the preview is deleted (staging never is)",
                {"QOVERY_DELETE_ENVIRONMENT": "true", "QOVERY_SERVICES": "", "QOVERY_IMAGE_TAG": ""},
            ),
        ),
    ),
}
DEFAULT_SCENARIO = "success"

MAX_LINE = 120  # the demo's lines fit a terminal this wide (links excepted: they are kept whole)
EXIT_WORDS = {0: "the deployment succeeded", 1: "the deployment failed", 124: "the wait timed out"}
DRY_RUN_WORDS = "the dry run found everything deployable"
DELETED_WORDS = "the environment was deleted"


def table(rows: Sequence[tuple[str, str]]) -> str:
    """Commands and what each does, side by side when that fits a terminal; else (commands named by a
    long path) each description under its command."""
    width = max(len(command) for command, _ in rows)
    if all(width + len(what) + 4 <= MAX_LINE for _, what in rows):
        return "".join(f"  {command:<{width}}  {what}\n" for command, what in rows)
    return "".join(f"  {command}\n      {what}\n" for command, what in rows)


def scenario_rows(run_as: Commands, skip: str = "") -> list[tuple[str, str]]:
    return [
        (f"{run_as.step} demo {name}", scenario.what) for name, scenario in SCENARIOS.items() if name != skip
    ]


def scenario_list(run_as: Commands) -> str:
    return table(scenario_rows(run_as))


def demo_help(run_as: Commands) -> str:
    return (
        f"usage: {PROG} demo [SCENARIO]\n\n"
        "Deploy a job of the built-in Qovery simulator (a local fake of Qovery's API), exactly as the step\n"
        f"deploys yours: no account, no token, no network. Without SCENARIO: {DEFAULT_SCENARIO}.\n\n"
        f"scenarios:\n{scenario_list(run_as)}"
    )


def run_demo(
    args: Sequence[str],
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    *,
    clock: Clock | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Play one scenario and return the step's exit code (2, with the list, for an unknown scenario).

    In real time over loopback by default, as a user watches it; with a `clock` (the tests' virtual one),
    in-process on that clock. The commands it suggests are named as `environ`'s PATH finds them."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    run_as = commands(path=(os.environ if environ is None else environ).get("PATH", os.defpath))
    if any(arg in ("-h", "--help") for arg in args):
        out.write(demo_help(run_as))
        return ExitCode.SUCCESS
    name = args[0] if args else DEFAULT_SCENARIO
    if name not in SCENARIOS or len(args) > 1:
        err.write(
            f"Unknown demo scenario `{one_line(' '.join(args), 40)}`. The scenarios:\n{scenario_list(run_as)}"
        )
        return ExitCode.INVALID_INPUT
    return play(name, SCENARIOS[name], out, err, run_as, clock)


def play(
    name: str, scenario: Scenario, out: TextIO, err: TextIO, run_as: Commands, clock: Clock | None = None
) -> int:
    # The built-in services, and staging, the previews' blueprint.
    services, places = builtin_services() + blueprint_services(), [STAGING]
    if clock is None:
        sim = QoverySimulator(services, places=places)
        server: SimulatorServer | None = serve(sim)
        transport = None
    else:
        sim = QoverySimulator(services, places=places, clock=clock.now, wall=clock.now)
        server = None
        transport = SimulatorAdapter(sim, clock.sleep)
    codes = []
    try:
        environ = {
            "QOVERY_API_TOKEN": DEMO_TOKEN,
            "QOVERY_API_URL": sim.url,
            "QOVERY_TIMEOUT": "60s",
        } | scenario.variables
        command = "".join(f"  {variable}={shlex.quote(value)} \\\n" for variable, value in environ.items())
        err.write(
            f"Demo `{name}`: {scenario.what}.\n"
            f"A simulated Qovery API on {sim.url} plays {scenario.plays}.\n"
            f"The step runs as you would run it:\n{command}  {run_as.step}\n"
            "Its log (the status shows the previous deployment for a moment, as Qovery's does):\n\n"
        )
        err.flush()
        for index, (what, variables) in enumerate((("", {}), *scenario.then)):
            environ = {key: value for key, value in (environ | variables).items() if value}
            if index:
                changed = " ".join(f"{key}={shlex.quote(value)}" for key, value in variables.items())
                err.write(f"\nThen {what}, the same step with {changed}:\n\n")
                err.flush()
            result = io.StringIO()  # the JSON CI reads: summarised for people below, not on the terminal
            codes.append(run([], environ, result, err, clock=clock, transport=transport))
            out.write("\n" + summary(result.getvalue(), codes[-1], run_as))
            out.flush()
    finally:
        if server is not None:
            server.stop()
    out.write(next_steps(name, run_as))
    out.flush()
    return next((code for code in codes if code), 0)


def summary(printed: str, code: int, run_as: Commands) -> str:
    """The result as a short table; in CI it is the JSON on stdout or in a file, the outputs, the dotenv."""
    try:
        data = json.loads(printed)
    except ValueError:
        return f"The step printed no readable result; exit code {code}.\n"
    # With one service, `jobs` and `services` repeat the top-level fields, which describe it: not worth a
    # second look. With several, one short line each, in `services` (`jobs` is a part of it).
    shown = {key: value for key, value in data.items() if value not in (None, "", [], False)}
    shown.pop("jobs", None)
    services = shown.pop("services", [])
    if len(services) > 1:
        shown["services"] = [  # a dry run reached no state: what each runs now
            " ".join(str(s[key]) for key in ("type", "name", "verdict"))
            + (f" {s['state']}" if s["state"] else f" (now {s['current_state']})")
            for s in services
        ]
    # `job_id` and `job_name` (the JSON's keys, kept for compatibility) name the deciding service, of any
    # type: said as its type (`database name`).
    noun = _deciding_noun(data, services)
    said = {"job_id": f"{noun} id", "job_name": f"{noun} name"}
    rows = [(said.get(key, key.replace("_", " ")), render(value)) for key, value in shown.items()]
    width = max((len(key) for key, _ in rows), default=0)
    lines = ["Result (in CI: the JSON on stdout, GitHub's outputs, GitLab's qovery-result.json and dotenv):"]
    for key, value in rows:
        # Whole words and whole URLs: a link cut at a hyphen could not be opened.
        wrapped = textwrap.wrap(value, 100 - width, break_long_words=False, break_on_hyphens=False) or [""]
        lines.append(f"  {key:<{width}}  {wrapped[0]}")
        lines += [f"  {'':<{width}}  {more}" for more in wrapped[1:]]
    words = EXIT_WORDS.get(code, f"see `{run_as.step} --help`, exit codes")
    if code == 0 and data.get("dry_run"):
        words = DRY_RUN_WORDS
    if code == 0 and data.get("deleted"):
        words = DELETED_WORDS
    lines.append(f"Exit code {code}: {words}.")
    return "\n".join(lines) + "\n"


def _deciding_noun(data: Mapping[str, Any], services: Sequence[Mapping[str, Any]]) -> str:
    """The type of the service the top-level fields describe (`job_id`), as people say it; `service` when
    it is not known."""
    for service in services:
        if isinstance(service, Mapping) and service.get("id") == data.get("job_id"):
            return noun_of(str(service.get("type") or ""))
    return "service"


def render(value: Any) -> str:
    """One line for a value of the result: a list of steps reads `EXECUTING SUCCESS 2; ...`."""
    if isinstance(value, dict):
        return "; ".join(f"{key}: {render(item)}" for key, item in value.items() if item not in (None, ""))
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):  # steps: values only
        return "; ".join(
            " ".join(
                f"{cell:g} s" if key == "duration_sec" and isinstance(cell, (int, float)) else render(cell)
                for key, cell in item.items()
                if cell is not None
            )
            for item in value
        )
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(render(item) for item in value)
    return one_line(value, 300)


def next_steps(played: str, run_as: Commands) -> str:
    return (
        "\nNext:\n"
        + table(
            [
                *scenario_rows(run_as, skip=played),
                (f"{run_as.step} --help", "every input, its QOVERY_* variable, the exit codes"),
                (run_as.simulator, "the simulator alone, logging each request it gets"),
            ]
        )
        + "Your own job (the README has CI examples):\n"
        + f"  QOVERY_API_TOKEN=qov_... {run_as.step} --job-id <job id>\n"
    )
