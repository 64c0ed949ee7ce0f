"""Benchmark: a mixed release (1 job, 2 containers, 1 application, one environment) deployed by this step
with `services`, against a fair model of Qovery's CLI, which watches the whole environment.

    .venv/bin/python benchmarks/release.py           # about 5 minutes; writes benchmarks/results/
    .venv/bin/python benchmarks/release.py --quick   # seconds: a smoke run (in-process in the tests)

Each release is a `migrate` job (20 to 40 s), the `api` and `worker` containers (40 to 90 s, BUILDING for
most of it) and the `web` application (60 to 120 s, BUILDING then DEPLOYING), each run about ±5 % off its
typical length, the status still showing the previous request for 1 s after each POST; as Qovery does, the
simulator runs them one after another (its deployment queue), so a release lasts their sum. Every way deploys
the same releases, each against a simulator of its own, all at once (their starts 2 s apart, so that no
step's start-up slows another's):
- this step, one run of the real entrypoint (a subprocess) with `services: migrate, api, worker, web` and
  the environment by UUID, once with the services' deployment history known (ten past runs around the
  typical length: a pipeline that has run before) and once with none (a first release);
- Qovery's CLI, modelled: with several services it deploys them through one request, sleeps 3 s, then
  reads only the environment's state every 3 s, with no verdict per service. The simulator serves neither
  `POST /environment/{id}/service/deploy` nor `GET /environment/{id}/status`, so the model posts one
  `POST /{kind}/{id}/deploy` per service (POSTs are not reads: the read counts are unchanged) and reads
  `GET /environment/{id}/statuses`, one read per interval as the CLI's environment read is, until every
  service shows *our* request in a terminal state. That stops no later than the environment's own state
  would (it turns DEPLOYED when its last service does), and never on a status still showing the previous
  request; the model is given the ids, so it makes none of the name lookups the real CLI makes.

For each: the wall time from start (the process start; the CLI's first POST) to exit, every GET the
simulator received (the reads before the first POST apart), reads per minute of wall time, and the latency
after the last service ended: the exit minus the moment the simulator turned the last of the release's
deployments terminal. Nothing here asserts a threshold: it prints figures and ratios.

Then the same releases queued (`release-queued.md`): as each way starts, another deployment of the
environment (`nightly-report`, AHEAD seconds long) has just been requested, so the whole release waits in
Qovery's queue behind it before its first service runs. Its table adds how long the release waited after
its first deploy request, and the reads made in that time.
"""

from __future__ import annotations

import json
import random
import statistics
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial

from common import TOKEN, RealStage, Stage, noisy, options, write

from qovery_job_deploy.simulator import JobScript, QoverySimulator

ENVIRONMENT = "e0e0e0e0-0000-4000-8000-0000000000bf"
# The release: (kind, name, typical length range in seconds).
SERVICES = (
    ("job", "migrate", (20.0, 40.0)),
    ("container", "api", (40.0, 90.0)),
    ("container", "worker", (40.0, 90.0)),
    ("application", "web", (60.0, 120.0)),
)
QUICK = {"migrate": 1.5, "api": 2.5, "worker": 3.0, "web": 3.5}  # a smoke run: no figure is read from it
RELEASES = 5  # per way, each with its own lengths
# Between the starts of two runs: the step's processes start one at a time, none slowed by another's imports.
STAGGER, QUICK_STAGGER = 2.0, 0.5
STALE_SECONDS = 1.0  # Qovery's status shows the previous request this long after the POST
TAG, COMMIT = "v2.0.0", "fedcba9876543210fedcba9876543210fedcba98"
BODIES = {
    "job": {"image_tag": TAG},
    "container": {"image_tag": TAG},
    "application": {"git_commit_id": COMMIT},
}
CLI_SLEEP = CLI_INTERVAL = 3.0
# The queued releases: `nightly-report` runs this long when each way starts (a smoke run: QUICK_AHEAD).
NIGHTLY = "0d0d0d0d-0000-4000-8000-00000000aaaa"
AHEAD, QUICK_AHEAD = 30.0, 2.0
# Where Qovery's CLI stops: DEPLOYED, DELETED, STOPPED, CANCELED, RESTARTED, or any *_ERROR.
CLI_ENDS = ("DEPLOYED", "DELETED", "STOPPED", "CANCELED", "RESTARTED")


@dataclass
class Release:
    """One release deployed one way: seconds from its start."""

    way: str
    release: int
    wall_seconds: float
    first_deploy: float  # the first deploy request reached Qovery
    last_end: float  # the last service's deployment turned terminal
    latency: float  # the exit after that
    reads: int
    reads_before_deploy: int
    environment_reads: int  # GET /environment/{id}/statuses
    queued: float = 0.0  # from the first deploy request to the first service's start (`nightly-report` ahead)
    reads_while_queued: int = 0

    @property
    def reads_per_minute(self) -> float:
        return 60.0 * self.reads / self.wall_seconds


def timeline(kind: str, length: float) -> list[tuple[float, str]]:
    """Out of the queue after up to 2 s; a job then executes, a container or application builds for most
    of its length, then deploys."""
    started = min(2.0, length / 4)
    if kind == "job":
        middle = [(started, "DEPLOYING"), (min(2 * started, length / 2), "EXECUTING")]
    else:
        middle = [(started, "BUILDING"), (0.6 * length, "DEPLOYING")]
    return [(0.0, "QUEUED"), *middle, (length, "DEPLOYED")]


def scripts_for(lengths: dict[str, float], history: dict[str, list[int]], ahead: float) -> list[JobScript]:
    """The release's services; with `ahead`, `nightly-report` too, the deployment ahead of them."""
    nightly = [(0.0, "QUEUED"), (0.5, "EXECUTING"), (ahead, "DEPLOYED")]
    first = [JobScript(NIGHTLY, nightly, job_name="nightly-report", environment_id=ENVIRONMENT)]
    return (first if ahead else []) + [
        JobScript(
            str(uuid.uuid4()),
            kind=kind,
            job_name=name,
            environment_id=ENVIRONMENT,
            timeline=timeline(kind, lengths[name]),
            stale_seconds=STALE_SECONDS,
            past_durations=history.get(name, []),
        )
        for kind, name, _ in SERVICES
    ]


def measured(sim: QoverySimulator, way: str, release: int, started: float, ended: float) -> Release:
    with sim.lock:
        reads = [e for e in sim.exchanges if e.method == "GET"]
        posts = [e.received_at for e in sim.exchanges if e.method == "POST" and NIGHTLY not in e.path]
        first_post = min(posts)
        last_end = max(sim.terminal_at.values())  # the simulator serves this release (and what is ahead)
        ahead = [sim.terminal_at[r.id] for r in sim.requests.values() if r.job_id == NIGHTLY]
    queued_until = max([first_post, *ahead])
    return Release(
        way,
        release,
        ended - started,
        first_post - started,
        last_end - started,
        ended - last_end,
        len(reads),
        sum(1 for e in reads if e.received_at < first_post),
        sim.calls("environment_statuses"),
        queued_until - first_post,
        sum(1 for e in reads if first_post < e.received_at < queued_until),
    )


# -- the ways ---------------------------------------------------------------------------------------------


def this_step(stage: Stage, sim: QoverySimulator, way: str, release: int) -> Release:
    """One run of the real entrypoint, every service by name, the environment by UUID."""
    started = stage.now()
    ran = stage.step(
        sim,
        {
            "QOVERY_SERVICES": ", ".join(name for _, name, _ in SERVICES),
            "QOVERY_ENVIRONMENT": ENVIRONMENT,
            "QOVERY_IMAGE_TAG": TAG,
            "QOVERY_GIT_COMMIT_ID": COMMIT,
        },
        timeout=600,
    )
    ended = stage.now()
    services = json.loads(ran.stdout)["services"]
    if [s["verdict"] for s in services] != ["succeeded"] * len(SERVICES):
        raise RuntimeError(f"{way}: {ran.stdout[:300]!r}")
    return measured(sim, way, release, started, ended)


def cli_watch(stage: Stage, sim: QoverySimulator, way: str, release: int) -> Release:
    """Qovery's CLI with several services, made fair (see the module's description)."""
    session = stage.session(sim)
    session.headers["Authorization"] = f"Token {TOKEN}"
    started = stage.now()
    ours: dict[str, str] = {}
    for script in (s for s in sim.services.values() if s.job_id != NIGHTLY):
        url = f"{sim.url}/{script.kind}/{script.job_id}/deploy"
        posted = session.post(url, json=BODIES[script.kind], timeout=10)
        posted.raise_for_status()
        ours[script.job_id] = posted.json()["deployment_request_id"]
    stage.sleep(CLI_SLEEP)
    while True:
        body = session.get(f"{sim.url}/environment/{ENVIRONMENT}/statuses", timeout=10).json()
        statuses = {s["id"]: s for key, value in body.items() if key != "environment" for s in value}
        if all(
            statuses[service]["deployment_request_id"] == request
            and (statuses[service]["state"] in CLI_ENDS or statuses[service]["state"].endswith("_ERROR"))
            for service, request in ours.items()
        ):
            break
        stage.sleep(CLI_INTERVAL)
    return measured(sim, way, release, started, stage.now())


Way = Callable[[Stage, QoverySimulator, str, int], Release]
WAYS: dict[str, tuple[Way, bool]] = {
    # name: (runner, whether the simulator serves the services' deployment history)
    "this step, history known": (this_step, True),
    "this step, no history": (this_step, False),
    "Qovery CLI model (environment, 3 s after 3 s)": (cli_watch, False),
}


def plan(rng: random.Random, quick: bool) -> list[tuple[dict[str, float], dict[str, list[int]]]]:
    """Per release: each service's actual length, and its history (ten past runs around its typical
    length, the actual one being the typical one with noise)."""
    if quick:
        return [(dict(QUICK), {name: [round(length)] * 5 for name, length in QUICK.items()})]
    releases = []
    for _ in range(RELEASES):
        typical = {name: rng.uniform(*bounds) for _, name, bounds in SERVICES}
        history = {name: [round(noisy(rng, value)) for _ in range(10)] for name, value in typical.items()}
        releases.append(({name: noisy(rng, value) for name, value in typical.items()}, history))
    return releases


def run_all(
    releases: list[tuple[dict[str, float], dict[str, list[int]]]],
    stagger: float,
    aheads: tuple[float, ...],
    stage: Stage,
) -> dict[float, list[Release]]:
    """Every way deploys every release, all at once, once per `aheads`: 0, as it is; else queued behind a
    `nightly-report` deployment that long. The results by `ahead`."""
    results: dict[float, list[Release]] = {ahead: [] for ahead in aheads}

    def one(ahead: float, way: str, index: int) -> None:
        runner, with_history = WAYS[way]
        lengths, history = releases[index]
        with stage.simulator(scripts_for(lengths, history if with_history else {}, ahead)) as sim:
            if ahead:
                deploy_nightly(stage, sim)
            results[ahead].append(runner(stage, sim, way, index))

    calls = [partial(one, ahead, way, i) for ahead in aheads for i in range(len(releases)) for way in WAYS]
    stage.together(calls, stagger)
    order = list(WAYS)
    return {
        ahead: sorted(done, key=lambda r: (order.index(r.way), r.release)) for ahead, done in results.items()
    }


def deploy_nightly(stage: Stage, sim: QoverySimulator) -> None:
    """Someone else's deploy request of `nightly-report`, now: the release queues behind it."""
    headers = {"Authorization": f"Token {TOKEN}"}
    answer = stage.session(sim).post(f"{sim.url}/job/{NIGHTLY}/deploy", json={}, headers=headers, timeout=10)
    answer.raise_for_status()


# -- report -----------------------------------------------------------------------------------------------


def summarize(results: list[Release]) -> list[dict[str, float | str]]:
    rows: list[dict[str, float | str]] = []
    for way in WAYS:
        mine = [r for r in results if r.way == way]
        rows.append(
            {
                "queued": statistics.mean(r.queued for r in mine),
                "reads_while_queued": statistics.mean(r.reads_while_queued for r in mine),
                "way": way,
                "wall_seconds": statistics.mean(r.wall_seconds for r in mine),
                "first_deploy": statistics.mean(r.first_deploy for r in mine),
                "last_end": statistics.mean(r.last_end for r in mine),
                "latency_mean": statistics.mean(r.latency for r in mine),
                "latency_max": max(r.latency for r in mine),
                "reads": statistics.mean(r.reads for r in mine),
                "reads_before_deploy": statistics.mean(r.reads_before_deploy for r in mine),
                "environment_reads": statistics.mean(r.environment_reads for r in mine),
                "reads_per_minute": 60.0 * sum(r.reads for r in mine) / sum(r.wall_seconds for r in mine),
            }
        )
    return rows


# The table's figures: (header, key in a row, format).
COLUMNS = (
    ("wall time (s)", "wall_seconds", ".1f"),
    ("first deploy (s)", "first_deploy", ".1f"),
    ("last service ends (s)", "last_end", ".1f"),
    ("latency after the last end (s)", "latency_mean", ".2f"),
    ("latency max (s)", "latency_max", ".2f"),
    ("reads", "reads", ".1f"),
    ("of which before the first deploy", "reads_before_deploy", ".1f"),
    ("`/statuses` reads", "environment_reads", ".1f"),
    ("reads / minute", "reads_per_minute", ".1f"),
)


# The queued releases' table adds these.
QUEUED_COLUMNS = (
    ("queued after the first deploy (s)", "queued", ".1f"),
    ("reads while queued", "reads_while_queued", ".1f"),
)


def markdown(rows: list[dict[str, float | str]], releases: int, ahead: float = 0.0) -> str:
    cli = rows[-1]
    columns = COLUMNS + QUEUED_COLUMNS if ahead else COLUMNS
    behind = f", queued behind `nightly-report` ({ahead:g} s when each way starts)" if ahead else ""
    lines = [
        f"{releases} release{'s' if releases > 1 else ''} of 1 job, 2 containers and 1 application in one "
        f"environment{behind}, every way deploying the same ones, all at once (the starts a little apart); "
        "means per release, seconds from the start (the step's process start, the CLI's first POST).",
        "",
        "| way | " + " | ".join(header for header, _, _ in columns) + " | reads vs CLI |",
        "|---|" + "---:|" * (len(columns) + 1),
    ]
    for row in rows:
        figures = [format(float(row[key]), spec) for _, key, spec in columns]
        ratio = float(row["reads"]) / float(cli["reads"])
        lines.append(f"| {row['way']} | " + " | ".join(figures) + f" | {ratio:.2f}x |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None, stage: Stage | None = None) -> None:
    """The benchmark on `stage` (real processes in real time unless given), with `argv`'s options."""
    stage = stage or RealStage()
    chosen = options(__doc__, "one release of a few seconds: a smoke run", argv)
    releases = plan(random.Random(chosen.seed), chosen.quick)
    started = stage.now()
    stems = {0.0: "release", QUICK_AHEAD if chosen.quick else AHEAD: "release-queued"}
    done = run_all(releases, QUICK_STAGGER if chosen.quick else STAGGER, tuple(stems), stage)
    for ahead, results in done.items():
        stem = stems[ahead]
        rows = summarize(results)
        text = markdown(rows, len(releases), ahead)
        write(
            chosen.out,
            stem,
            text,
            {
                "rows": rows,
                "lengths": [lengths for lengths, _ in releases],
                "releases": [asdict(r) | {"reads_per_minute": r.reads_per_minute} for r in results],
            },
        )
        print(text)
    print(f"({stage.now() - started:.0f} s of deployments; written to {chosen.out})")


if __name__ == "__main__":
    main()
