"""Benchmark: the real entrypoint against the simulator, side by side with two reference pollers.

    .venv/bin/python benchmarks/run.py            # about three minutes; writes benchmarks/results/
    .venv/bin/python benchmarks/run.py --quick    # seconds: a smoke run (in-process in the tests)

Every strategy deploys the same set of jobs, whose durations are spread from a few seconds to two
minutes, all at once. For each deployment it measures the detection latency (the moment the step's process
exits, or the reference poller returns, minus the moment the simulator turned the deployment terminal) and
the reads of the Qovery API made while waiting (every GET: status, history, per-request status). Separately
and one at a time, so that the parallel runs do not disturb them: the time from process start to its first
request next to the bare import time of its libraries, and peak RSS. Nothing here asserts a threshold: it
prints figures and ratios, writes them as Markdown, and plots latency against reads per minute.
"""

from __future__ import annotations

import importlib.util
import json
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from common import ROOT, TOKEN, RealStage, Stage, noisy, options, step_env, write

from qovery_job_deploy.simulator import JobScript, QoverySimulator, serve

IMAGE_METRICS = ROOT / ".cache" / "e2e" / "image-metrics.json"
SHORTEST, LONGEST = 4.0, 120.0
DEPLOYMENTS = 16  # per strategy; every strategy deploys the same jobs, 80 deployments at once
QUICK_DURATIONS = (1.5,)  # a smoke run: the machinery works; no figure is read from it
STALE_SECONDS = 1.0  # Qovery's status shows the previous request this long after the POST


@dataclass
class Measure:
    strategy: str
    duration: float
    latency: float
    reads: int
    seconds: float  # from the deploy request to detection
    rss_kb: int = 0

    @property
    def reads_per_minute(self) -> float:
        return 60.0 * self.reads / max(self.seconds, 1e-9)


def job_for(duration: float, history: list[float]) -> JobScript:
    timeline = [(0.0, "QUEUED"), (min(1.0, duration / 3), "DEPLOYING"), (min(2.0, duration / 2), "EXECUTING")]
    return JobScript(
        str(uuid.uuid4()),
        timeline=[*timeline, (duration, "DEPLOYED")],
        stale_seconds=STALE_SECONDS,
        past_durations=[round(d) for d in history],
    )


def gets_for(sim: QoverySimulator, job_id: str, request_id: str | None) -> int:
    with sim.lock:
        return sum(
            1
            for e in sim.exchanges
            if e.method == "GET" and (job_id in e.path or (request_id and request_id in str(e.query)))
        )


def measured(
    sim: QoverySimulator,
    script: JobScript,
    strategy: str,
    duration: float,
    request_id: str,
    detected_at: float,
    rss_kb: int = 0,
) -> Measure:
    """The figures of one deployment, from the simulator's records and the moment its end was noticed."""
    return Measure(
        strategy,
        duration,
        detected_at - sim.terminal_at[request_id],
        gets_for(sim, script.job_id, request_id),
        detected_at - deploy_time(sim, script.job_id),
        rss_kb,
    )


def deploy_time(sim: QoverySimulator, job_id: str) -> float:
    with sim.lock:
        return next(e.received_at for e in sim.exchanges if e.method == "POST" and job_id in e.path)


Strategy = Callable[[Stage, QoverySimulator, JobScript, str, float], Measure]


# -- the strategies -------------------------------------------------------------------------------------


def run_step(
    stage: Stage, sim: QoverySimulator, script: JobScript, strategy: str, duration: float
) -> Measure:
    """The real entrypoint, as `docker run` runs it (on the real stage); its exit time and peak RSS."""
    ran = stage.step(sim, {"QOVERY_JOB_ID": script.job_id})
    exited_at = stage.now()
    result = json.loads(ran.stdout)
    if result["verdict"] != "succeeded":
        raise RuntimeError(f"{strategy}: the step ended {result['verdict']}: {result['message']}")
    return measured(sim, script, strategy, duration, result["deployment_request_id"], exited_at, ran.rss_kb)


def reference_poller(first_sleep: float, interval: float) -> Strategy:
    """A fixed poller (Qovery's CLI: 3 s then every 3 s; its old action: every 10 s), made fair: it
    correlates on its own deployment request instead of trusting a stale status."""

    def run(stage: Stage, sim: QoverySimulator, script: JobScript, strategy: str, duration: float) -> Measure:
        session = stage.session(sim)
        session.headers["Authorization"] = f"Token {TOKEN}"
        posted = session.post(f"{sim.url}/job/{script.job_id}/deploy", json={}, timeout=10).json()
        ours = posted["deployment_request_id"]
        stage.sleep(first_sleep)
        while True:
            status = session.get(f"{sim.url}/job/{script.job_id}/status", timeout=10).json()
            if status["deployment_request_id"] == ours and status["state"] == "DEPLOYED":
                break
            stage.sleep(interval)
        return measured(sim, script, strategy, duration, ours, stage.now())

    return run


def strategies(scale: float = 1.0) -> dict[str, tuple[Strategy, str]]:
    """name: (runner, which history the simulator serves for the job). `scale` shortens the reference
    pollers' pauses for the smoke run (`--quick`), whose figures nobody reads."""
    return {
        "this step, job history known": (run_step, "accurate"),
        "this step, no history": (run_step, "none"),
        "this step, history wrong (2x)": (run_step, "double"),
        "Qovery CLI (3 s after 3 s)": (reference_poller(3.0 * scale, 3.0 * scale), "none"),
        "old Qovery action (10 s)": (reference_poller(10.0 * scale, 10.0 * scale), "none"),
    }


STRATEGIES = strategies()
QUICK_SCALE = 0.2


def history_of(kind: str, rng: random.Random, duration: float) -> list[float]:
    if kind == "none":
        return []
    scale = 2.0 if kind == "double" else 1.0
    return [noisy(rng, duration * scale) for _ in range(10)]


def typical_durations(rng: random.Random, count: int) -> list[float]:
    """Log-spaced between the bounds, each moved by up to ±10 %: every length equally represented, and
    no alignment with any poller's period (multiples of 3 s would flatter a 3 s poller)."""
    ratio = LONGEST / SHORTEST
    return [SHORTEST * ratio ** (i / (count - 1)) * rng.uniform(0.9, 1.1) for i in range(count)]


def run_all(
    durations: list[float],
    seed: int,
    chosen: dict[str, tuple[Strategy, str]] = STRATEGIES,
    stage: Stage | None = None,
) -> list[Measure]:
    """Each strategy deploys the same jobs: a typical duration, the run's actual one (the typical one
    with noise) and, when the strategy is given history, ten past runs around the typical one."""
    rng = random.Random(seed)
    actuals = [noisy(rng, duration) for duration in durations]
    plan = []
    for name, (_, history_kind) in chosen.items():
        for duration, actual in zip(durations, actuals, strict=True):
            plan.append((name, duration, job_for(actual, history_of(history_kind, rng, duration))))
    stage = stage or RealStage()
    measures: list[Measure] = []
    with stage.simulator([script for _, _, script in plan]) as sim:

        def one(name: str, duration: float, script: JobScript) -> None:
            measures.append(chosen[name][0](stage, sim, script, name, duration))

        stage.together([partial(one, *item) for item in plan])
    return measures


# -- start-up and memory, one process at a time -----------------------------------------------------------


def startup_times(rounds: int) -> dict[str, float]:
    """Medians over `rounds`, the two measures interleaved so that machine load weighs on both alike:
    - imports: wall time of a bare `python -c "import requests, pydantic_settings"`;
    - first_request: from the step's process start to the simulator receiving its first request."""
    imports, first_requests = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import requests, pydantic_settings"], check=True)
        imports.append(time.perf_counter() - started)
        script = job_for(1.0, [])
        sim = QoverySimulator([script])
        with serve(sim):
            env = step_env(sim, {"QOVERY_JOB_ID": script.job_id, "QOVERY_WAIT": "false"})
            started_at = time.time()
            subprocess.run(
                [sys.executable, str(ROOT / "entrypoint.py")], env=env, check=True, capture_output=True
            )
            with sim.lock:
                first_requests.append(sim.exchanges[0].received_at - started_at)
    return {"imports": statistics.median(imports), "first_request": statistics.median(first_requests)}


# -- report ---------------------------------------------------------------------------------------------


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def summarize(measures: list[Measure]) -> list[dict[str, float | str]]:
    rows: list[dict[str, float | str]] = []
    for name in STRATEGIES:
        mine = [m for m in measures if m.strategy == name]
        total_reads = sum(m.reads for m in mine)
        total_minutes = sum(m.seconds for m in mine) / 60
        rows.append(
            {
                "strategy": name,
                "latency_mean": statistics.mean(m.latency for m in mine),
                "latency_p95": p95([m.latency for m in mine]),
                "reads_per_deployment": total_reads / len(mine),
                "reads_per_minute": total_reads / total_minutes,
            }
        )
    return rows


def markdown(
    rows: list[dict[str, float | str]], startup: dict[str, float], rss: list[int], durations: list[float]
) -> str:
    cli = next(r for r in rows if str(r["strategy"]).startswith("Qovery CLI"))
    lines = [
        f"{len(durations)} deployments of {', '.join(f'{d:.0f}' for d in durations)} s (each run about ±5 % "
        "off), every strategy deploying each of them, all at once.",
        "",
        "| strategy | latency mean (s) | latency p95 (s) | reads / deployment | reads / minute "
        "| latency vs CLI | reads vs CLI |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['strategy']} | {row['latency_mean']:.2f} | {row['latency_p95']:.2f} | "
            f"{row['reads_per_deployment']:.1f} | {row['reads_per_minute']:.1f} | "
            f"{float(row['latency_mean']) / float(cli['latency_mean']):.2f}x | "
            f"{float(row['reads_per_deployment']) / float(cli['reads_per_deployment']):.2f}x |"
        )
    lines += [
        "",
        "| start-up and memory | value |",
        "|---|---:|",
        f"| bare `import requests, pydantic_settings` (process, median) | {startup['imports']:.3f} s |",
        f"| process start to first request (median) | {startup['first_request']:.3f} s |",
        f"| ratio | {startup['first_request'] / startup['imports']:.2f}x |",
        f"| peak RSS of the step (max of {len(rss)} runs) | {max(rss) / 1024:.1f} MB |",
    ]
    if IMAGE_METRICS.exists():
        image = json.loads(IMAGE_METRICS.read_text())
        lines += [f"| image: {key.replace('_', ' ')} | {value} |" for key, value in image.items()]
    else:
        lines.append("| image size and build time | run `bash tests/e2e/run.sh` first |")
    return "\n".join(lines) + "\n"


def plot(rows: list[dict[str, float | str]], path: Path) -> None:
    import matplotlib  # noqa: PLC0415 - only the benchmark needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for row, marker in zip(rows, "osD^v", strict=False):
        x, y = float(row["reads_per_minute"]), float(row["latency_mean"])
        axes.scatter([x], [y], s=70, marker=marker, label=str(row["strategy"]), zorder=3)
    xs = [x / 10 for x in range(30, 400)]
    axes.plot(
        xs,
        [30 / x for x in xs],
        linestyle=":",
        color="grey",
        label="any fixed poller (30 / reads per minute)",
    )
    axes.set_xlabel("status reads per minute of waiting")
    axes.set_ylabel("mean detection latency (s)")
    axes.set_ylim(bottom=0)
    axes.set_xlim(left=0)
    axes.legend(fontsize=8, loc="upper right")
    axes.set_title("Detection latency against API reads")
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main(argv: Sequence[str] | None = None, stage: Stage | None = None) -> None:
    """The benchmark on `stage` (real processes in real time unless given), with `argv`'s options."""
    stage = stage or RealStage()
    chosen = options(__doc__, "two short deployments: a smoke run", argv)
    durations = (
        list(QUICK_DURATIONS) if chosen.quick else typical_durations(random.Random(chosen.seed), DEPLOYMENTS)
    )
    rounds = 1 if chosen.quick else 15

    startup = startup_times(rounds)
    started = stage.now()
    measures = run_all(durations, chosen.seed, strategies(QUICK_SCALE if chosen.quick else 1.0), stage)
    rows = summarize(measures)
    rss = [m.rss_kb for m in measures if m.rss_kb]
    report = markdown(rows, startup, rss, durations)
    write(
        chosen.out,
        "benchmark",
        report,
        {
            "rows": rows,
            "startup": startup,
            "peak_rss_kb": max(rss),
            "measures": [m.__dict__ for m in measures],
        },
    )
    if importlib.util.find_spec("matplotlib") is None:  # the plot is optional: pip install -e '.[bench]'
        print("matplotlib is not installed (pip install -e '.[bench]'): no plot", file=sys.stderr)
    else:
        plot(rows, chosen.out / "latency-vs-reads.png")
    print(report)
    print(f"({stage.now() - started:.0f} s of deployments; written to {chosen.out})")


if __name__ == "__main__":
    main()
