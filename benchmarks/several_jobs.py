"""Benchmark: N jobs of one environment in one step, against N separate single-job steps.

    .venv/bin/python benchmarks/several_jobs.py           # about 8 minutes; writes benchmarks/results/
    .venv/bin/python benchmarks/several_jobs.py --quick   # seconds: a smoke run (in-process in the tests)

For 1, 3 and 6 jobs whose deployments last from about 8 to 40 s (the job history known, as in a pipeline
that has run before), it runs the real entrypoint against the simulator in two ways: one step with
`jobs` (the environment given by UUID, so that one `GET /environment/{id}/statuses` reads every job),
and N steps with one `job-id` each, all at once. As Qovery does, the simulator queues the deployments of
one environment and runs them one after another. It counts every request the API receives and the wall
time from the first start to the last exit. Nothing here asserts a threshold: it prints figures and ratios.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import partial

from common import Ran, RealStage, Stage, options, write

from qovery_job_deploy.simulator import JobScript

ENVIRONMENT = "e0e0e0e0-0000-4000-8000-0000000000be"
COUNTS = (1, 3, 6)
SHORTEST, LONGEST = 8.0, 40.0
QUICK = (1.0, 1.5)  # a smoke run: the machinery works; no figure is read from it


@dataclass
class Run:
    jobs: int
    way: str
    wall_seconds: float
    longest_job: float
    all_jobs: float  # the jobs' lengths added up: one after another in Qovery's queue, the least wall time
    requests: int
    reads: int

    @property
    def reads_per_minute(self) -> float:
        return 60.0 * self.reads / self.wall_seconds


def job(duration: float) -> JobScript:
    return JobScript(
        str(uuid.uuid4()),
        timeline=[(0.0, "QUEUED"), (1.0, "EXECUTING"), (duration, "DEPLOYED")],
        stale_seconds=0.5,
        past_durations=[round(duration)] * 5,
        environment_id=ENVIRONMENT,
    )


def measure(durations: list[float], way: str, stage: Stage) -> Run:
    scripts = [job(duration) for duration in durations]
    with stage.simulator(scripts) as sim:
        started = stage.now()
        if way == "one step":
            ids = ",".join(script.job_id for script in scripts)
            steps = [{"QOVERY_JOBS": ids, "QOVERY_ENVIRONMENT": ENVIRONMENT}]
        else:
            steps = [{"QOVERY_JOB_ID": script.job_id} for script in scripts]
        ran: list[Ran] = []

        def one_step(variables: dict[str, str]) -> None:
            # Qovery's queue runs the jobs of one environment one after another: the wait is their sum.
            ran.append(stage.step(sim, variables, timeout=sum(durations) * 2 + 60))

        stage.together([partial(one_step, variables) for variables in steps])  # all at once
        for one in ran:
            if json.loads(one.stdout)["verdict"] != "succeeded":
                raise RuntimeError(f"{way}: {one.stdout[:300]!r}")
        wall = stage.now() - started
        with sim.lock:
            requests = len(sim.exchanges)
            reads = sum(1 for exchange in sim.exchanges if exchange.method == "GET")
    return Run(len(durations), way, wall, max(durations), sum(durations), requests, reads)


def report(runs: list[Run]) -> str:
    single = next(run for run in runs if run.jobs == 1 and run.way == "one step")
    lines = [
        "| jobs | way | wall time (s) | longest job (s) | jobs in a row (s) | requests | reads "
        "| reads / minute | reads / minute vs 1 job |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        lines.append(
            f"| {run.jobs} | {run.way} | {run.wall_seconds:.1f} | {run.longest_job:.0f} | {run.all_jobs:.0f} "
            f"| {run.requests} "
            f"| {run.reads} | {run.reads_per_minute:.1f} "
            f"| {run.reads_per_minute / single.reads_per_minute:.2f}x |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None, stage: Stage | None = None) -> None:
    """The benchmark on `stage` (real processes in real time unless given), with `argv`'s options."""
    stage = stage or RealStage()
    chosen = options(__doc__, "1 and 2 short jobs: a smoke run", argv)
    rng = random.Random(chosen.seed)
    runs: list[Run] = []
    for count in (1, 2) if chosen.quick else COUNTS:
        if chosen.quick:
            durations = list(QUICK[:count])
        else:
            durations = [SHORTEST + (LONGEST - SHORTEST) * rng.random() for _ in range(count)]
            durations[-1] = LONGEST if count > 1 else durations[-1]  # one job of each size reaches 40 s
        ways = ("one step",) if count == 1 else ("one step", "separate steps")
        runs += [measure(durations, way, stage) for way in ways]
    text = report(runs)
    write(chosen.out, "several-jobs", text, [asdict(run) for run in runs])
    print(text)


if __name__ == "__main__":
    main()
