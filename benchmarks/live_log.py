"""Benchmark: what `logs: live` costs in reads, against the default `logs: on-failure`.

    .venv/bin/python benchmarks/live_log.py           # a second or two: writes benchmarks/results/
    .venv/bin/python benchmarks/live_log.py --quick   # the smoke run of the test suite

Read counts do not depend on the machine: the step runs in this process on a virtual clock, against the
simulator through its in-process transport (as most tests do), so each figure is exact and repeatable.
For deployments of 30 s to 10 minutes (one job; then three services of one environment, which Qovery's
queue runs one after another: the run lasts three times as long), it counts the status reads and the log
reads of each mode, and reports the extra reads per minute that `live` costs.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from qovery_job_deploy.cli import main  # noqa: E402
from qovery_job_deploy.clock import VirtualClock  # noqa: E402
from qovery_job_deploy.simulator import JobScript, QoverySimulator  # noqa: E402
from qovery_job_deploy.simulator.transport import SimulatorAdapter  # noqa: E402

TOKEN = "qov_benchmark-token"  # noqa: S105 - the simulator's, not a secret
RESULTS = ROOT / "benchmarks" / "results"
ENVIRONMENT = "e0e0e0e0-0000-4000-8000-0000000000bf"
DURATIONS = (30.0, 120.0, 600.0)
QUICK = (30.0,)


@dataclass
class Measure:
    services: int
    seconds: float
    mode: str
    status_reads: int
    log_reads: int

    @property
    def per_minute(self) -> float:
        return (self.status_reads + self.log_reads) / (self.seconds / 60.0)


def measure(services: int, seconds: float, mode: str) -> Measure:
    timeline = [
        (0.0, "QUEUED"),
        (seconds * 0.1, "DEPLOYING"),
        (seconds * 0.2, "EXECUTING"),
        (seconds, "DEPLOYED"),
    ]
    scripts = [
        JobScript(str(uuid.uuid4()), timeline=list(timeline), job_name=f"svc-{n}", environment_id=ENVIRONMENT)
        for n in range(services)
    ]
    clock = VirtualClock()
    sim = QoverySimulator(scripts, clock=clock.now, wall=clock.now)
    environ = {
        "QOVERY_API_TOKEN": TOKEN,
        "QOVERY_API_URL": sim.url,
        "QOVERY_SERVICES": ", ".join(script.job_name for script in scripts),
        "QOVERY_ENVIRONMENT": ENVIRONMENT,
        "QOVERY_LOGS": mode,
        "QOVERY_TIMEOUT": "1h",
    }
    started = clock.now()
    code = main(
        [], environ, io.StringIO(), io.StringIO(), clock=clock, transport=SimulatorAdapter(sim, clock.sleep)
    )
    if code != 0:
        raise RuntimeError(f"{mode}, {services} services of {seconds:g} s: exit code {code}")
    reads = sim.calls("status") + sim.calls("environment_statuses") + sim.calls("environment_kind_statuses")
    return Measure(services, clock.now() - started, mode, reads, sim.calls("logs"))


def report(measures: list[Measure]) -> str:
    lines = [
        "| services | deployment | reads/min, on-failure | reads/min, live | log reads (live) | extra |",
        "|---|---|---|---|---|---|",
    ]
    for plain, live in zip(measures[::2], measures[1::2], strict=True):
        lines.append(
            f"| {plain.services} | {plain.seconds:.0f} s | {plain.per_minute:.1f} | {live.per_minute:.1f} "
            f"| {live.log_reads} | +{live.per_minute - plain.per_minute:.1f}/min "
            f"({live.per_minute / plain.per_minute:.2f}x) |"
        )
    return "\n".join(lines) + "\n"


def run(argv: Sequence[str] | None = None) -> None:
    """The benchmark with `argv`'s options, else the command line's."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one 30 s deployment: a smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    options = parser.parse_args(argv)
    measures = [
        measure(services, seconds, mode)
        for services in (1, 3)
        for seconds in (QUICK if options.quick else DURATIONS)
        for mode in ("on-failure", "live")
    ]
    text = report(measures)
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "live-log.md").write_text(text)
    (options.out / "live-log.json").write_text(json.dumps([asdict(m) for m in measures], indent=1))
    print(text)


if __name__ == "__main__":
    run()
