"""Benchmark: the requests of a preview's lifecycle (`clone-from`, `delete-environment`), exact.

    .venv/bin/python benchmarks/preview.py           # a second: writes benchmarks/results/preview.md, .json
    .venv/bin/python benchmarks/preview.py --quick   # the smoke run of the test suite

The step runs in this process on a virtual clock, through the simulator's in-process transport (as most
tests do), with its default settings (`poll-interval` 3s): the counts are exact and the same on every
machine. The blueprint is staging in acme / shop: a database (30 s to deploy), a job (15 s), a container
(45 s) and an application (60 s), one default stage each; Qovery lists a clone's services 2 s after the
clone, and a deletion takes a minute (DELETE_QUEUED for 5 s, then DELETING). The pipeline names
`services: api, web` with `image-tag` and `git-commit-id`, and `project: shop` (the organization is the
token's only one: one read finds it). The runs, in order:

- the first run of a pull request: pr-42 does not exist, so staging is cloned and everything deployed;
- a later run (the next push): pr-42 exists, `api` and `web` deploy into it; then the same with their types
  given (`container:api, application:web`), which reads two service lists instead of six; then one with
  nothing named (no `services`, no value), which deploys the whole of pr-42 again, stage after stage;
- the deletion when the pull request closes, then that deletion run again (nothing to delete).

Each request is counted by the simulator's name for its operation.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from qovery_job_deploy.cli import main as step_main  # noqa: E402
from qovery_job_deploy.clock import VirtualClock  # noqa: E402
from qovery_job_deploy.simulator import JobScript, QoverySimulator  # noqa: E402
from qovery_job_deploy.simulator.environments import STAGING, STAGING_ENVIRONMENT  # noqa: E402
from qovery_job_deploy.simulator.routes import route  # noqa: E402
from qovery_job_deploy.simulator.transport import SimulatorAdapter  # noqa: E402

TOKEN = "qov_benchmark-token"  # noqa: S105 - the simulator's, not a secret
LENGTHS = {"postgres": 30.0, "migrate": 15.0, "api": 45.0, "web": 60.0}
QUICK_LENGTHS = {name: 2.0 for name in LENGTHS}
KINDS = {"postgres": "database", "migrate": "job", "api": "container", "web": "application"}
CLONE_SECONDS = 2.0
DELETING_AFTER, GONE_AFTER = 5.0, 60.0  # a deletion: DELETE_QUEUED for 5 s, DELETING, gone after a minute


@dataclass
class Run:
    run: str
    code: int
    requests: int
    seconds: float  # virtual: from the step's start to its exit
    operations: dict[str, int]


def blueprint(lengths: dict[str, float]) -> list[JobScript]:
    return [
        JobScript(
            f"c1c1c1c1-0000-4000-8000-{index:012d}",
            [(0.0, "QUEUED"), (length / 3, "DEPLOYING"), (length, "DEPLOYED")],
            kind=KINDS[name],
            job_name=name,
            environment_id=STAGING_ENVIRONMENT,
            environment_name="staging",
        )
        for index, (name, length) in enumerate(lengths.items())
    ]


def measure(quick: bool) -> list[Run]:
    clock = VirtualClock()
    sim = QoverySimulator(
        blueprint(QUICK_LENGTHS if quick else LENGTHS), places=[STAGING], clock=clock.now, wall=clock.now
    )
    sim.environments.clone_seconds = CLONE_SECONDS
    if not quick:
        sim.environments.deleting_after, sim.environments.gone_after = DELETING_AFTER, GONE_AFTER
    base = {"QOVERY_API_TOKEN": TOKEN, "QOVERY_API_URL": sim.url, "QOVERY_PROJECT": "shop"}
    base |= {"QOVERY_ENVIRONMENT": "pr-42"}
    deploy = {
        "QOVERY_CLONE_FROM": "staging",
        "QOVERY_SERVICES": "api, web",
        "QOVERY_IMAGE_TAG": "pr-42-1",
        "QOVERY_GIT_COMMIT_ID": "4f2a9c1e0b7d3a5f6c8e9d0a1b2c3d4e5f6a7b8c",
    }
    runs = [
        ("first run: clone, then deploy everything", deploy),
        ("later run: deploy what is named", deploy),
        ("later run, types given", deploy | {"QOVERY_SERVICES": "container:api, application:web"}),
        ("later run, nothing named: all of it again", {"QOVERY_CLONE_FROM": "staging"}),
        ("delete", {"QOVERY_DELETE_ENVIRONMENT": "true"}),
        ("delete again: nothing to delete", {"QOVERY_DELETE_ENVIRONMENT": "true"}),
    ]
    measured = []
    for name, variables in runs:
        seen, started = len(sim.exchanges), clock.now()
        transport = SimulatorAdapter(sim, clock.sleep)
        code = step_main([], base | variables, io.StringIO(), io.StringIO(), clock=clock, transport=transport)
        operations = Counter(route(e.method, e.path).operation for e in sim.exchanges[seen:])
        measured.append(Run(name, code, sum(operations.values()), clock.now() - started, dict(operations)))
        clock.sleep(60.0)  # a minute between two pushes
    if [run.code for run in measured] != [0] * len(measured):
        raise RuntimeError(f"a run did not succeed: {[(run.run, run.code) for run in measured]}")
    return measured


# The columns of the report: what each request is for, by the simulator's name for its operation.
GROUPS = {
    "names and lists": ("organizations", "projects", "environments", "environment_services", "service"),
    "clone": ("clone",),
    "stages": ("stages",),
    "deploy / delete": ("deploy", "delete_environment"),
    "status reads": (
        *("status", "environment_statuses", "environment_kind_statuses", "environment_status"),
        *("request_status", "queue", "history"),
    ),
    "link": ("environment_links",),
}


def report(runs: list[Run]) -> str:
    grouped = [
        {group: sum(run.operations.get(op, 0) for op in ops) for group, ops in GROUPS.items()} for run in runs
    ]
    if any(sum(counts.values()) != run.requests for counts, run in zip(grouped, runs, strict=True)):
        raise RuntimeError("a request of an operation no column counts")
    lines = [
        "| run | requests | " + " | ".join(GROUPS) + " | virtual seconds |",
        "|---|---:|" + "---:|" * len(GROUPS) + "---:|",
    ]
    lines += [
        f"| {run.run} | {run.requests} | "
        + " | ".join(str(counts[group]) for group in GROUPS)
        + f" | {run.seconds:.0f} |"
        for run, counts in zip(runs, grouped, strict=True)
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="2 s deployments: a smoke run")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    options = parser.parse_args(argv)
    runs = measure(options.quick)
    text = report(runs)
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "preview.md").write_text(text, encoding="utf-8")
    (options.out / "preview.json").write_text(json.dumps([asdict(run) for run in runs], indent=1))
    print(text, end="")


if __name__ == "__main__":
    main()
