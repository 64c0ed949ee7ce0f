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
"""

from __future__ import annotations

import argparse
import io
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from run import gets_for, job_for  # noqa: E402

from qovery_job_deploy.cli import main  # noqa: E402
from qovery_job_deploy.clock import VirtualClock  # noqa: E402
from qovery_job_deploy.simulator import QoverySimulator  # noqa: E402
from qovery_job_deploy.simulator.transport import SimulatorAdapter  # noqa: E402

TOKEN = "qov_benchmark-token"  # noqa: S105 - the simulator's, not a secret
# run.py's 16 lengths (its default seed), exactly.
LENGTHS = (4, 5, 6, 7, 10, 12, 14, 20, 22, 30, 35, 44, 60, 81, 88, 113)
QUICK = (7,)
CLI_PAUSE = 3.0


@dataclass(frozen=True)
class Measure:
    reads: float  # per deployment
    latency: float  # mean seconds from the end to its notice


def step(lengths: tuple[int, ...], history: bool) -> Measure:
    reads, late = 0, 0.0
    for length in lengths:
        script = job_for(float(length), [float(length)] * 10 if history else [])
        clock = VirtualClock()
        sim = QoverySimulator([script], clock=clock.now, wall=clock.now)
        environ = {"QOVERY_API_TOKEN": TOKEN, "QOVERY_API_URL": sim.url, "QOVERY_JOB_ID": script.job_id}
        transport = SimulatorAdapter(sim, clock.sleep)
        if main([], environ, io.StringIO(), io.StringIO(), clock=clock, transport=transport) != 0:
            raise RuntimeError(f"a {length} s deployment did not succeed")
        (ours,) = sim.deployments_of(script.job_id)
        reads += gets_for(sim, script.job_id, ours.id)
        noticed = max(e.received_at for e in sim.exchanges if e.path.endswith("/status"))
        late += noticed - ours.ends_at()
    return Measure(reads / len(lengths), late / len(lengths))


def cli(lengths: tuple[int, ...]) -> Measure:
    notices = [math.ceil(length / CLI_PAUSE) for length in lengths]
    late = sum(n * CLI_PAUSE - length for n, length in zip(notices, lengths, strict=True))
    return Measure(sum(notices) / len(lengths), late / len(lengths))


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
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "exact.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    run()
