"""The benchmark runs end to end (a quick configuration) and reports every strategy. No timing asserts:
figures are for people to read; this only checks that the tool that produces them works."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.step import ROOT

STRATEGIES = [
    "this step, job history known",
    "this step, no history",
    "this step, history wrong (2x)",
    "Qovery CLI (3 s after 3 s)",
    "old Qovery action (10 s)",
]


@pytest.mark.process
def test_quick_benchmark_reports_all_strategies(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    report = (tmp_path / "benchmark.md").read_text()
    for strategy in STRATEGIES:
        assert f"| {strategy} |" in report
    data = json.loads((tmp_path / "benchmark.json").read_text())
    assert {row["strategy"] for row in data["rows"]} == set(STRATEGIES)
    # Detection can only follow the end (a few ms of clock granularity aside), and needs reads to see it.
    assert all(measure["latency"] >= -0.05 and measure["reads"] >= 1 for measure in data["measures"])
    assert len(data["measures"]) == 2 * len(STRATEGIES)
    assert data["peak_rss_kb"] > 0 and data["startup"]["imports"] > 0
    if importlib.util.find_spec("matplotlib") is not None:  # the `bench` extra (.ci/run installs it)
        assert (tmp_path / "latency-vs-reads.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert not (tmp_path / "latency-vs-reads.png").exists()
        assert "no plot" in run.stderr


@pytest.mark.process
def test_quick_several_jobs_benchmark_compares_one_step_with_separate_steps(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "several_jobs.py"), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    runs = json.loads((tmp_path / "several-jobs.json").read_text())
    assert [(row["jobs"], row["way"]) for row in runs] == [
        (1, "one step"),
        (2, "one step"),
        (2, "separate steps"),
    ]
    assert all(row["reads"] >= 1 and row["wall_seconds"] >= row["longest_job"] for row in runs)
    assert "| 2 | separate steps |" in (tmp_path / "several-jobs.md").read_text()


def test_quick_live_log_benchmark_counts_the_extra_reads(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "live_log.py"), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
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
