"""Benchmark: the step within Qovery's rate limit (about 1000 requests an hour per API token), exact.

    .venv/bin/python benchmarks/rate_limit.py          # a second: writes benchmarks/results/rate-limit.*
    .venv/bin/python benchmarks/rate_limit.py --quick  # shorter deployments: the smoke run

The step runs in this process on a virtual clock, against the simulator through its in-process transport,
the simulator imposing a budget per token (`QoverySimulator(rate_limit=...)`): its `X-RateLimit-*` headers
on every answer and a 429 beyond it. Every request counts, whatever it is (names, statuses, the POST, the
history, the deployment log): the limit counts them all. Two goals, each said met or missed:

1. A tight budget, 12 requests per 40 s, and a 30 s job deployment followed to its verdict, with and without
   history: no 429. At the steady pace it would take 14 (12 with history) within the window: beside each,
   the same deployment with no budget said.
2. A 10-minute release, five services of one environment (Qovery's queue runs them one after another), at
   the defaults (`logs: on-failure`), with and without history, against Qovery's documented 1000 an hour:
   under 1000 requests, no 429. Its rate (requests per hour of the release) is shown too: at 3 s a read,
   1200 an hour, a deployment followed for a whole hour would run into the limit; so the last row is a job
   deploying for 70 minutes with nothing known, which must get no 429 either.

The third goal, reads with no history against the CLI's 3 s poller at the same latency, is
`benchmarks/exact.py`'s (`docs/performance.md`).
"""

from __future__ import annotations

import io
import json
import sys
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import TOKEN, options, write  # noqa: E402
from release import timeline  # noqa: E402

from qovery_job_deploy.cli import main  # noqa: E402
from qovery_job_deploy.clock import VirtualClock  # noqa: E402
from qovery_job_deploy.simulator import JobScript, QoverySimulator, RateLimit  # noqa: E402
from qovery_job_deploy.simulator.transport import SimulatorAdapter  # noqa: E402

ENVIRONMENT = "e0e0e0e0-0000-4000-8000-0000000000c1"
TIGHT = RateLimit(12, 40.0)
DOCUMENTED = RateLimit(1000, 3600.0)
JOB_SECONDS = 30.0
# The release: (kind, name, seconds), one after another in Qovery's queue: 10 minutes in all.
RELEASE = (
    ("job", "migrate", 60.0),
    ("container", "api", 120.0),
    ("container", "worker", 120.0),
    ("application", "web", 180.0),
    ("job", "seed", 120.0),
)
QUICK_RELEASE = tuple((kind, name, seconds / 10) for kind, name, seconds in RELEASE)
LONG_JOB, LONG_QUICK = 70.0, 7.0  # minutes
TAG, COMMIT = "v2.0.0", "fedcba9876543210fedcba9876543210fedcba98"


@dataclass(frozen=True)
class Run:
    """One run of the step: what it spent, and how it ended."""

    case: str
    budget: str  # the rate limit imposed, or "none said"
    history: bool
    verdicts: list[str]
    requests: int  # every request, 429s included
    limited: int  # answered 429
    in_first_window: int  # requests within the budget's window from the first one
    seconds: float  # from the step's start to its exit
    latency: float  # the exit after the last deployment ended
    slowed: str  # what the log said of the rate limit ("": nothing)

    @property
    def per_hour(self) -> float:
        return 3600.0 * self.requests / self.seconds


def step(
    case: str,
    services: tuple[tuple[str, str, float], ...],
    rate_limit: RateLimit | None,
    history: bool,
    window: float,
    timeout: str = "30m",
) -> Run:
    """The step deploying `services` against a simulator with `rate_limit`: one by its id (`job-id`, as
    `exact.py`), several by name in their environment (`services`, as `release.py`)."""
    scripts = [
        JobScript(
            str(uuid.uuid4()),
            kind=kind,
            job_name=name,
            environment_id=ENVIRONMENT,
            timeline=timeline(kind, seconds),
            stale_seconds=1.0,
            past_durations=[round(seconds)] * 10 if history else [],
        )
        for kind, name, seconds in services
    ]
    clock = VirtualClock()
    sim = QoverySimulator(scripts, clock=clock.now, wall=clock.now, rate_limit=rate_limit)
    environ = {"QOVERY_API_TOKEN": TOKEN, "QOVERY_API_URL": sim.url, "QOVERY_TIMEOUT": timeout}
    if len(scripts) == 1:
        environ["QOVERY_JOB_ID"] = scripts[0].job_id
    else:
        environ |= {
            "QOVERY_ENVIRONMENT": ENVIRONMENT,
            "QOVERY_SERVICES": ", ".join(name for _, name, _ in services),
            "QOVERY_IMAGE_TAG": TAG,
            "QOVERY_GIT_COMMIT_ID": COMMIT,
        }
    out, err = io.StringIO(), io.StringIO()
    started = clock.now()
    main([], environ, out, err, clock=clock, transport=SimulatorAdapter(sim, clock.sleep))
    ended = clock.now()
    result = json.loads(out.getvalue())
    verdicts = [one["verdict"] for one in result["services"]] if "services" in result else [result["verdict"]]
    first = sim.exchanges[0].received_at
    said = [line.split("] ", 1)[1] for line in err.getvalue().splitlines() if "Qovery's rate limit: " in line]
    return Run(
        case,
        rate_limit.said() if rate_limit else "none said",
        history,
        verdicts,
        len(sim.exchanges),
        sum(1 for e in sim.exchanges if e.status == 429),
        sum(1 for e in sim.exchanges if e.received_at < first + window),
        ended - started,
        ended - max(sim.terminal_at.values()),
        said[0] if said else "",
    )


def tight_budget() -> list[Run]:
    """Goal 1: a 30 s deployment under 12 requests per 40 s; beside it, no budget said."""
    job = (("job", "migrate", JOB_SECONDS),)
    return [
        step("30 s job", job, budget, history, TIGHT.window)
        for history in (False, True)
        for budget in (TIGHT, None)
    ]


def release(quick: bool) -> list[Run]:
    """Goal 2: the 10-minute release of five services against Qovery's documented budget; then one job
    deploying for longer than the budget's hour, with nothing known (read every 3 s: 1200 an hour)."""
    services = QUICK_RELEASE if quick else RELEASE
    minutes = sum(seconds for _, _, seconds in services) / 60
    window = DOCUMENTED.window
    runs = [
        step(f"{minutes:g}-minute release", services, DOCUMENTED, history, window)
        for history in (False, True)
    ]
    long = (("job", "backfill", (LONG_QUICK if quick else LONG_JOB) * 60.0),)
    minutes = long[0][2] / 60
    return [*runs, step(f"{minutes:g}-minute job", long, DOCUMENTED, False, window, timeout="2h")]


def met_tight(run: Run) -> bool:
    return run.limited == 0 and set(run.verdicts) == {"succeeded"}


def met_release(run: Run) -> bool:
    """No 429, and fewer requests within the hour than the limit."""
    return run.limited == 0 and run.in_first_window < DOCUMENTED.limit and set(run.verdicts) == {"succeeded"}


def report(tight: list[Run], released: list[Run]) -> str:
    lines = [
        "Goal 1: a 30 s job deployment followed to its verdict under 12 requests per 40 s: no 429.",
        "",
        "| history | budget | requests | in the first 40 s | 429s | latency (s) | verdict | goal "
        "| the log said |",
        "|---|---|---:|---:|---:|---:|---|---|---|",
    ]
    lines += [
        f"| {'known' if run.history else 'none'} | {run.budget} | {run.requests} | {run.in_first_window} "
        f"| {run.limited} | {run.latency:.2f} | {', '.join(run.verdicts)} "
        f"| {('met' if met_tight(run) else 'MISSED') if run.budget != 'none said' else '-'} "
        f"| {run.slowed or '-'} |"
        for run in tight
    ]
    lines += [
        "",
        "Goal 2: a release of five services of one environment, one after another (Qovery's queue), at the "
        f"defaults, against {DOCUMENTED.said()}: under {DOCUMENTED.limit} requests, no 429; then a job "
        "deploying for longer than the hour, nothing known: no 429.",
        "",
        "| deployment | history | requests | in the first hour | 429s | seconds | requests per hour of it "
        "| latency (s) | goal | the log said |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    lines += [
        f"| {run.case} | {'known' if run.history else 'none'} | {run.requests} | {run.in_first_window} "
        f"| {run.limited} | {run.seconds:.0f} | {run.per_hour:.0f} | {run.latency:.2f} "
        f"| {'met' if met_release(run) else 'MISSED'} | {run.slowed or '-'} |"
        for run in released
    ]
    return "\n".join(lines) + "\n"


def run() -> int:
    """The report, written and printed; 1 when a goal is missed."""
    given = options(__doc__, "shorter deployments: a smoke run")
    tight, released = tight_budget(), release(given.quick)
    text = report(tight, released)
    write(
        given.out,
        "rate-limit",
        text,
        [asdict(one) | {"per_hour": one.per_hour} for one in [*tight, *released]],
    )
    print(text, end="")
    budgeted = [one for one in tight if one.budget != "none said"]
    return 0 if all(map(met_tight, budgeted)) and all(map(met_release, released)) else 1


if __name__ == "__main__":
    sys.exit(run())
