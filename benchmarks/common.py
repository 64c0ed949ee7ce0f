"""What the benchmarks share: where things are, the step run as `docker run` runs it, their options, history
noise, and how a report is written. Not a benchmark itself."""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from qovery_job_deploy.simulator import QoverySimulator  # noqa: E402

TOKEN = "qov_benchmark-token"  # noqa: S105 - the simulator's, not a secret
RESULTS = ROOT / "benchmarks" / "results"
HISTORY_NOISE = 0.05  # past runs vary by about 5 % (lognormal sigma), as does the run measured


def options(doc: str | None, quick: str) -> argparse.Namespace:
    """The options every benchmark takes: `--quick` (a smoke run, `quick` says what it does), `--seed`,
    `--out` (where the report goes)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args()


def step_env(sim: QoverySimulator, variables: dict[str, str]) -> dict[str, str]:
    """The environment `docker run -e QOVERY_...` would give the step: the token, the simulator's URL and
    `variables`."""
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT / "src")}
    return env | {"QOVERY_API_TOKEN": TOKEN, "QOVERY_API_URL": sim.url} | variables


def step(sim: QoverySimulator, variables: dict[str, str]) -> subprocess.Popen[bytes]:
    """The real entrypoint, started as `docker run` starts it, its JSON result on stdout."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "entrypoint.py")],
        env=step_env(sim, variables),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


def noisy(rng: random.Random, value: float) -> float:
    return value * rng.lognormvariate(0.0, HISTORY_NOISE)


def write(out: Path, stem: str, text: str, data: Any) -> None:
    """`stem.md` (the Markdown report) and `stem.json` (its figures) in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.md").write_text(text)
    (out / f"{stem}.json").write_text(json.dumps(data, indent=1))
