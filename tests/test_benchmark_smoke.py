"""The benchmark runs end to end (a quick configuration) and reports every strategy. No timing asserts:
figures are for people to read; this only checks that the tool that produces them works.

Each runs in this process, as its `main` runs from the command line with `--quick`; those that run the step
as a process against a served simulator in real time run here on their virtual stage (the step in this
process, on a virtual clock, through the simulator's transport): the same code, in milliseconds."""

from __future__ import annotations

import importlib.util
import json
import sys
import uuid
from pathlib import Path
from types import ModuleType

import exact
import live_log
import pytest
import release
import run
import several_jobs
from common import RealStage, VirtualStage
from support.step import ROOT

from qovery_job_deploy.simulator import JobScript

STRATEGIES = [
    "this step, job history known",
    "this step, no history",
    "this step, history wrong (2x)",
    "Qovery CLI (3 s after 3 s)",
    "old Qovery action (10 s)",
]


def quick(out: Path) -> list[str]:
    """The command line of a smoke run: `--quick --out <out>`."""
    return ["--quick", "--out", str(out)]


def test_quick_benchmark_reports_all_strategies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run.main(quick(tmp_path), VirtualStage())
    stderr = capsys.readouterr().err
    report = (tmp_path / "benchmark.md").read_text()
    for strategy in STRATEGIES:
        assert f"| {strategy} |" in report
    data = json.loads((tmp_path / "benchmark.json").read_text())
    assert {row["strategy"] for row in data["rows"]} == set(STRATEGIES)
    # Detection can only follow the end (a few ms of clock granularity aside), and needs reads to see it.
    assert all(measure["latency"] >= -0.05 and measure["reads"] >= 1 for measure in data["measures"])
    assert len(data["measures"]) == len(STRATEGIES)  # one quick deployment each
    assert data["peak_rss_kb"] > 0 and data["startup"]["imports"] > 0
    if importlib.util.find_spec("matplotlib") is not None:  # the `bench` extra (.ci/run installs it)
        assert (tmp_path / "latency-vs-reads.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert not (tmp_path / "latency-vs-reads.png").exists()
        assert "no plot" in stderr


def test_quick_several_jobs_benchmark_compares_one_step_with_separate_steps(tmp_path: Path) -> None:
    several_jobs.main(quick(tmp_path), VirtualStage())
    runs = json.loads((tmp_path / "several-jobs.json").read_text())
    assert [(row["jobs"], row["way"]) for row in runs] == [
        (1, "one step"),
        (2, "one step"),
        (2, "separate steps"),
    ]
    # Qovery's queue runs one environment's jobs one after another: no run is shorter than their sum.
    assert all(row["reads"] >= 1 and row["wall_seconds"] >= row["all_jobs"] for row in runs)
    assert "| 2 | separate steps |" in (tmp_path / "several-jobs.md").read_text()


def test_quick_release_benchmark_compares_the_step_with_the_clis_environment_watch(tmp_path: Path) -> None:
    release.main(quick(tmp_path), VirtualStage())
    ways = [
        "this step, history known",
        "this step, no history",
        "Qovery CLI model (environment, 3 s after 3 s)",
    ]
    data = json.loads((tmp_path / "release.json").read_text())
    assert [row["way"] for row in data["rows"]] == ways
    assert [(one["way"], one["release"]) for one in data["releases"]] == [(way, 0) for way in ways]
    assert data["lengths"] == [{"migrate": 1.5, "api": 2.5, "worker": 3.0, "web": 3.5}]
    for one in data["releases"]:
        # The exit follows the last end (a few ms of clock granularity aside), which follows the first POST.
        assert one["latency"] >= -0.05 and one["wall_seconds"] >= one["last_end"] > one["first_deploy"] >= 0
        assert one["reads"] >= one["environment_reads"] >= 1 and one["reads_per_minute"] > 0
    cli = data["releases"][-1]
    assert cli["reads"] == cli["environment_reads"] and cli["reads_before_deploy"] == 0  # one read a round
    table = (tmp_path / "release.md").read_text().splitlines()
    rows = [line for line in table if line.startswith("| ") and not line.startswith("| way |")]
    assert [line.split(" | ")[0].removeprefix("| ") for line in rows] == ways
    assert all(line.count("|") == 12 for line in rows) and rows[-1].endswith("| 1.00x |")
    # The same release queued behind `nightly-report`: the same ways, and what they read while queued.
    queued = json.loads((tmp_path / "release-queued.json").read_text())
    assert [row["way"] for row in queued["rows"]] == ways
    assert all(one["queued"] >= 0 and one["reads_while_queued"] >= 0 for one in queued["releases"])
    assert "| reads while queued |" in (tmp_path / "release-queued.md").read_text()


def test_quick_live_log_benchmark_counts_the_extra_reads(tmp_path: Path) -> None:
    live_log.run(quick(tmp_path))
    measures = json.loads((tmp_path / "live-log.json").read_text())
    assert [(m["services"], m["mode"]) for m in measures] == [
        (1, "on-failure"),
        (1, "live"),
        (3, "on-failure"),
        (3, "live"),
    ]
    plain, live = measures[0], measures[1]
    assert plain["log_reads"] <= 1 and live["log_reads"] > plain["log_reads"]  # live reads the log
    assert live["status_reads"] == plain["status_reads"]  # and never at the cost of a status read
    assert "| 1 | 30 s |" in (tmp_path / "live-log.md").read_text()


def test_quick_exact_benchmark_sets_the_step_beside_the_cli(tmp_path: Path) -> None:
    exact.run(quick(tmp_path))
    report = (tmp_path / "exact.md").read_text()
    for name in ("this step, job history known", "this step, no history", "Qovery CLI (3 s after 3 s)"):
        assert f"| {name} |" in report
    assert "| Qovery CLI (3 s after 3 s) | 2.00 | 3.00 | 1.00x | 1.00x |" in report  # 7 s: 3 reads, 2 s late
    # The CLI as it runs: 4 lists before its POST, its 3 reads, 1 environment read after; the step by id, no
    # history: its 4 reads before the POST (the job, its environment, the projects, the status) and 2 after.
    assert (
        "| Qovery CLI as it runs (names: 4 lists, its poller, 1 environment read) | 8.00 | 1.00x |" in report
    )
    assert "| this step, by id, no history | 6.00 | 0.75x | 2.00x |" in report
    # Queued 30 s, then 7 s: reads at 3, 6, ... 39 s (13), 9 of them before it leaves the queue at 30 s.
    assert "| 30 | Qovery CLI (3 s after 3 s) | 2.00 | 13.00 | 9.00 | 3.00 | 1.00x | 1.00x |" in report


def benchmark(script: str) -> ModuleType:
    """`benchmarks/<script>`, imported in this process (its figures are exact: a virtual clock)."""
    spec = importlib.util.spec_from_file_location(
        f"benchmark_{Path(script).stem}", ROOT / "benchmarks" / script
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_rate_limit_benchmark_meets_its_goals_exactly() -> None:
    bench = benchmark("rate_limit.py")
    tight = bench.tight_budget()
    # (history, budget, requests, 429s): the steady pace would spend 14 (12 with history) in the 40 s.
    assert [(run.history, run.budget, run.requests, run.limited) for run in tight] == [
        (False, "12 requests per 40s", 9, 0),
        (False, "none said", 14, 0),
        (True, "12 requests per 40s", 9, 0),
        (True, "none said", 12, 0),
    ]
    assert all(bench.met_tight(run) and run.slowed for run in tight if run.budget != "none said")
    release, _, long = bench.release(quick=False)
    assert bench.met_release(release) and release.requests < 1000 and release.seconds == 600
    assert bench.met_release(long) and long.in_first_window < 1000 < long.requests  # an hour and more
    assert "reads slowed to every 4.2s" in long.slowed


def test_the_rate_limit_benchmark_writes_its_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bench = benchmark("rate_limit.py")
    monkeypatch.setattr(sys, "argv", ["rate_limit.py", "--quick", "--out", str(tmp_path)])
    assert bench.run() == 0
    report = (tmp_path / "rate-limit.md").read_text()
    assert report.count("| met |") == 5 and "MISSED" not in report
    assert len(json.loads((tmp_path / "rate-limit.json").read_text())) == 7


@pytest.mark.process
def test_the_real_stage_runs_the_step_as_a_process_and_its_calls_at_once() -> None:
    """What the virtual stage stands in for above: the real entrypoint as a process against a served
    simulator (its JSON result, exit code and peak RSS), and calls run together in threads, the first
    error raised once all have ended."""
    stage = RealStage()
    script = JobScript(str(uuid.uuid4()), timeline=[(0.0, "QUEUED"), (0.1, "DEPLOYED")])
    with stage.simulator([script]) as sim:
        ran = stage.step(sim, {"QOVERY_JOB_ID": script.job_id, "QOVERY_POLL_INTERVAL": "0.2s"}, timeout=60)
    assert ran.code == 0 and json.loads(ran.stdout)["verdict"] == "succeeded" and ran.rss_kb > 0
    ended: list[int] = []

    def fails() -> None:
        raise RuntimeError("one call failed")

    with pytest.raises(RuntimeError, match="one call failed"):
        stage.together([fails, lambda: ended.append(1), lambda: ended.append(2)])
    assert sorted(ended) == [1, 2]  # the others ran to their end all the same
