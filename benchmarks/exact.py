"""Benchmark: the step's reads and latency against the CLI's 3 s poller, exact, without the machine's noise.

    .venv/bin/python benchmarks/exact.py           # a few seconds: writes benchmarks/results/exact.md
    .venv/bin/python benchmarks/exact.py --quick   # the smoke run of the test suite

`benchmarks/run.py` measures real processes against the simulator in real time, so its latencies carry the
machine's load (the step is a process, the reference pollers are threads of the benchmark) and every run is
a little off its nominal lengths. This one runs the step in this process on a virtual clock, through the
simulator's in-process transport (as most tests do), over the same 16 lengths exactly, and sets it beside
the CLI's poller as Qovery's CLI behaves (sleep 3 s, then read every 3 s: it reads at 3, 6, ... s and
notices the end at the first multiple of 3 s at or after it). Reads are counted as `run.py` counts them:
every GET about the job or its deployment request.

Then every request of the process, the same 16 deployments: the step by id and by names, beside Qovery's CLI
as its source runs it in a pipeline (Qovery/qovery-cli at 210d6c6, `cmd/lifecycle_deploy.go` and
`cmd/cronjob_deploy.go`): given names, as Qovery's CI examples give them, it finds the job by listing the
organizations, the organization's projects, the project's environments and the environment's jobs (four reads
before its POST), then polls as above (`utils.WatchJob`), and once the job ends reads the environment's
statuses at least once (`WatchEnvironmentWithOptions`) before it exits.

Then the same lengths queued: when ours is requested, another deployment of its environment
(`nightly-report`) has run for a moment and goes on for QUEUED seconds more; Qovery runs an environment's
deployments one at a time, so ours waits that long in its queue before its own length begins. The CLI's
poller reads through the wait as it reads through the run.
"""

from __future__ import annotations

import argparse
import io
import itertools
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from run import gets_for, job_for  # noqa: E402

from qovery_job_deploy.cli import main  # noqa: E402
from qovery_job_deploy.clock import VirtualClock  # noqa: E402
from qovery_job_deploy.simulator import JobScript, QoverySimulator  # noqa: E402
from qovery_job_deploy.simulator.transport import SimulatorAdapter  # noqa: E402

TOKEN = "qov_benchmark-token"  # noqa: S105 - the simulator's, not a secret
# run.py's 16 lengths (its default seed), exactly.
LENGTHS = (4, 5, 6, 7, 10, 12, 14, 20, 22, 30, 35, 44, 60, 81, 88, 113)
QUICK = (7,)
CLI_PAUSE = 3.0
ENVIRONMENT = "e0e0e0e0-0000-4000-8000-0000000000b7"
NIGHTLY = "0d0d0d0d-0000-4000-8000-00000000aaaa"  # the deployment ahead of ours
QUEUED = (10, 30, 90)  # seconds ours waits in the queue, behind `nightly-report`
QUICK_QUEUED = (30,)


@dataclass(frozen=True)
class Measure:
    reads: float  # per deployment
    latency: float  # mean seconds from the end to its notice
    queued_reads: float = 0.0  # per deployment, of the job's status while it waited in the queue
    queued_pause: float | None = CLI_PAUSE  # the shortest pause between two of those reads (None: none)


# Given by names, as a pipeline running the CLI must give them (`--organization --project --environment`).
BY_NAMES = {"QOVERY_ORGANIZATION": "acme", "QOVERY_PROJECT": "shop", "QOVERY_ENVIRONMENT": "production"}
# The CLI's reads that are not its poller's, from its source (the module's docstring).
CLI_LISTS_BEFORE = 4  # ListOrganization, ListProject, ListEnvironment, ListJobs
CLI_ENVIRONMENT_AFTER = 1  # GetEnvironmentStatuses, at least once, after WatchJob


def step(lengths: tuple[int, ...], history: bool, queued: float = 0.0) -> Measure:
    reads, late, waiting, pause = 0, 0.0, 0, math.inf
    for length in lengths:
        script = job_for(float(length), [float(length)] * 10 if history else [])
        clock = VirtualClock()
        scripts = [script]
        if queued:
            script.environment_id = ENVIRONMENT
            # One second into its run, with `queued` seconds to go when ours is requested.
            ahead = [(0.0, "QUEUED"), (0.5, "EXECUTING"), (queued + 1.0, "DEPLOYED")]
            scripts.append(JobScript(NIGHTLY, ahead, job_name="nightly-report", environment_id=ENVIRONMENT))
        sim = QoverySimulator(scripts, clock=clock.now, wall=clock.now)
        if queued:
            deploy_other(sim, scripts[1])
            clock.sleep(1.0)
        environ = {"QOVERY_API_TOKEN": TOKEN, "QOVERY_API_URL": sim.url, "QOVERY_JOB_ID": script.job_id}
        transport = SimulatorAdapter(sim, clock.sleep)
        if main([], environ, io.StringIO(), io.StringIO(), clock=clock, transport=transport) != 0:
            raise RuntimeError(f"a {length} s deployment did not succeed")
        (ours,) = sim.deployments_of(script.job_id)
        if round(ours.start - ours.created_at, 6) != queued:
            raise RuntimeError(f"ours waited {ours.start - ours.created_at} s in the queue, not {queued} s")
        reads += gets_for(sim, script.job_id, ours.id)
        status = f"/job/{script.job_id}/status"
        seen = [e.received_at for e in sim.exchanges if e.path == status]
        queued_at = [at for at in seen if ours.created_at < at < ours.start]
        waiting += len(queued_at)
        pause = min([pause, *(b - a for a, b in itertools.pairwise(queued_at))])
        late += max(seen) - ours.ends_at()
    count = len(lengths)
    return Measure(reads / count, late / count, waiting / count, pause if math.isfinite(pause) else None)


def every_get(lengths: tuple[int, ...], history: bool, names: bool) -> float:
    """Every GET of the step's run, per deployment: by id (`QOVERY_JOB_ID`) or by names (`jobs` in an
    environment named with its project and organization)."""
    gets = 0
    for length in lengths:
        script = job_for(float(length), [float(length)] * 10 if history else [])
        clock = VirtualClock()
        sim = QoverySimulator([script], clock=clock.now, wall=clock.now)
        given = BY_NAMES | {"QOVERY_JOBS": script.job_name} if names else {"QOVERY_JOB_ID": script.job_id}
        environ = {"QOVERY_API_TOKEN": TOKEN, "QOVERY_API_URL": sim.url, **given}
        transport = SimulatorAdapter(sim, clock.sleep)
        if main([], environ, io.StringIO(), io.StringIO(), clock=clock, transport=transport) != 0:
            raise RuntimeError(f"a {length} s deployment did not succeed")
        with sim.lock:
            gets += sum(1 for exchange in sim.exchanges if exchange.method == "GET")
    return gets / len(lengths)


def whole_table(lengths: tuple[int, ...]) -> list[str]:
    poller = cli(lengths).reads
    reference = CLI_LISTS_BEFORE + poller + CLI_ENVIRONMENT_AFTER
    rows = [
        ("this step, by id, job history known", every_get(lengths, history=True, names=False)),
        ("this step, by id, no history", every_get(lengths, history=False, names=False)),
        ("this step, by names, no history", every_get(lengths, history=False, names=True)),
        ("Qovery CLI as it runs (names: 4 lists, its poller, 1 environment read)", reference),
        ("Qovery CLI's poller alone (the table above)", poller),
    ]
    return [
        "Every request of the process (GETs per deployment; the POST aside), beside the CLI as its source "
        "runs:",
        "",
        "| run | GETs / deployment | vs the CLI as it runs | vs its poller alone |",
        "|---|---:|---:|---:|",
        *(f"| {name} | {gets:.2f} | {gets / reference:.2f}x | {gets / poller:.2f}x |" for name, gets in rows),
    ]


def deploy_other(sim: QoverySimulator, script: JobScript) -> None:
    """Someone else's deploy request, sent to the simulator now."""
    answer = sim.handle(
        "POST", f"/job/{quote(script.job_id)}/deploy", {}, {"Authorization": f"Token {TOKEN}"}, b""
    )
    if answer.status != 202:
        raise RuntimeError(f"the deploy request of {script.name} was refused: {answer.body!r}")


def cli(lengths: tuple[int, ...], queued: float = 0.0) -> Measure:
    """Reads at 3, 6, ... s after the POST, through the wait in the queue and the run, until the end."""
    notices = [math.ceil((queued + length) / CLI_PAUSE) for length in lengths]
    late = sum(n * CLI_PAUSE - queued - length for n, length in zip(notices, lengths, strict=True))
    waiting = math.floor(queued / CLI_PAUSE) - (queued % CLI_PAUSE == 0)  # reads strictly before its start
    return Measure(sum(notices) / len(lengths), late / len(lengths), max(0, waiting))


def run(argv: Sequence[str] | None = None) -> None:
    """The benchmark with `argv`'s options, else the command line's."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one deployment: a smoke run")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    options = parser.parse_args(argv)
    lengths = QUICK if options.quick else LENGTHS
    reference = cli(lengths)
    rows = [
        ("this step, job history known", step(lengths, history=True)),
        ("this step, no history", step(lengths, history=False)),
        ("Qovery CLI (3 s after 3 s)", reference),
    ]
    lines = [
        f"{len(lengths)} deployments of {', '.join(map(str, lengths))} s, exactly, on a virtual clock.",
        "",
        "| strategy | latency mean (s) | reads / deployment | latency vs CLI | reads vs CLI |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {name} | {measure.latency:.2f} | {measure.reads:.2f} "
        f"| {measure.latency / reference.latency:.2f}x | {measure.reads / reference.reads:.2f}x |"
        for name, measure in rows
    ]
    lines += ["", *whole_table(lengths)]
    lines += ["", *queued_table(lengths, QUICK_QUEUED if options.quick else QUEUED)]
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "exact.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def queued_table(lengths: tuple[int, ...], waits: tuple[int, ...]) -> list[str]:
    lines = [
        "The same lengths queued behind another deployment of the environment (`nightly-report`) for the "
        "seconds shown, before their run:",
        "",
        "| queued (s) | strategy | latency mean (s) | reads / deployment | status reads while queued "
        "| shortest pause while queued (s) | latency vs CLI | reads vs CLI |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for wait in waits:
        reference = cli(lengths, float(wait))
        rows = [
            ("this step, job history known", step(lengths, history=True, queued=float(wait))),
            ("this step, no history", step(lengths, history=False, queued=float(wait))),
            ("Qovery CLI (3 s after 3 s)", reference),
        ]
        lines += [
            f"| {wait} | {name} | {measure.latency:.2f} | {measure.reads:.2f} | {measure.queued_reads:.2f} "
            f"| {'-' if measure.queued_pause is None else f'{measure.queued_pause:.2f}'} "
            f"| {measure.latency / reference.latency:.2f}x "
            f"| {measure.reads / reference.reads:.2f}x |"
            for name, measure in rows
        ]
    return lines


if __name__ == "__main__":
    run()
