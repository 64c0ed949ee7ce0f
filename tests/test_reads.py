"""The read budget of the common cases, pinned: exactly which requests, how many of each, at the default
poll interval, on the virtual clock. The benchmark (`benchmarks/run.py`) measures the same reads against
Qovery's CLI; these tests keep its figure from regressing silently. The CLI's 3 s poller reads
ceil(length / 3) times (at 3 s, 6 s, ...): the comments compare."""

from __future__ import annotations

from collections import deque

import pytest
from support.inputs import inputs
from support.sims import SimFactory, requests_by_operation
from support.step import plain_env, run_step

from qovery_job_deploy.simulator import Fault, JobScript

JOB_ID = "6c1b4f9e-0000-4000-8000-000000000000"
ENV = "e0e0e0e0-0000-4000-8000-0000000000bb"


def deployment(length: float, end: str = "DEPLOYED", **options: object) -> JobScript:
    """A job deployment shaped like the benchmark's: queued, then running, then its end at `length` s."""
    timeline = [(0.0, "QUEUED"), (1.0, "DEPLOYING"), (2.0, "EXECUTING"), (length, end)]
    return JobScript(JOB_ID, timeline=timeline, stale_seconds=1.0, environment_id=ENV, **options)  # type: ignore[arg-type]


# Before the POST, for a job given by id: its name and environment (`service`), the environment's name
# and console ids (`environment`), its project's name (`projects`, the organization's list), and its
# status (the baseline every check compares with).
BEFORE = {"service": 1, "environment": 1, "projects": 1, "status": 1, "deploy": 1}


@pytest.mark.parametrize(
    ("case", "script", "reads"),
    [
        # Nothing known: the first read at 6 s, then every 3 s until 21 s: 6 status reads (the CLI 7).
        ("20 s, no history", deployment(20), BEFORE | {"status": 1 + 6}),
        # Reads at 6, 9, ..., 42 s: 13 (the CLI 14); no history read within the first 90 s.
        ("40 s, no history", deployment(40), BEFORE | {"status": 1 + 13}),
        ("70 s, no history", deployment(70), BEFORE | {"status": 1 + 23}),
        # Past 90 s, the history is asked once (here there is none); reads at 6, 9, ..., 102 s: 33 (the CLI
        # 34).
        ("100 s, no history", deployment(100), BEFORE | {"status": 1 + 33, "history": 1}),
        # The last run's 20 s, in the status before the POST: the far pace (every 4.7 s) until 14 s, then
        # every second until the end; no history read.
        ("20 s, last run 20 s", deployment(20, past_durations=[20, 20, 20]), BEFORE | {"status": 1 + 3 + 7}),
        # A failure: the same reads, and its deployment log once, after the verdict.
        ("8 s, fails", deployment(8, "DEPLOYMENT_ERROR"), BEFORE | {"status": 1 + 2, "logs": 1}),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_job_given_by_id_makes_exactly_these_requests(
    simulator: SimFactory, case: str, script: JobScript, reads: dict[str, int]
) -> None:
    sim = simulator(script)
    run = run_step(plain_env(inputs(job_id=JOB_ID, api_url=sim.url)))

    assert run.code in (0, 1), run.stderr
    assert requests_by_operation(sim) == reads
    # The names and the console link that those reads pay for: in the log, the result and its link.
    assert "Deploying Qovery job migrate (shop / production)" in run.stderr
    assert run.json()["job_name"] == "migrate"
    assert f"/environment/{ENV}/service/{JOB_ID}/deployments/logs/" in run.json()["console_url"]


def test_no_two_status_reads_come_at_the_same_moment_when_the_far_pace_meets_the_window(
    simulator: SimFactory,
) -> None:
    """Sums of float pauses land a hair before the expected window: that must not be a second read."""
    script = deployment(60, past_durations=[60, 61, 59, 60])
    sim = simulator(script)
    run = run_step(plain_env(inputs(job_id=JOB_ID, api_url=sim.url)))

    assert run.code == 0, run.stderr
    moments = [e.received_at for e in sim.exchanges if e.path.endswith("/status")]
    assert len(moments) == len(set(moments)), moments


def test_a_release_reads_each_service_once_before_deploying_it(simulator: SimFactory) -> None:
    """A job whose source decides between `image-tag` and `git-commit-id`: the read that names and places
    it also tells its source (`plan.py`); no second `GET /job/{id}`."""
    script = deployment(5)
    sim = simulator(script)
    given = inputs(
        api_url=sim.url,
        services=JOB_ID,
        environment=ENV,
        image_tag="v2",
        git_commit_id="fedcba9876543210fedcba9876543210fedcba98",
    )
    run = run_step(plain_env(given))

    assert run.code == 0, run.stderr
    assert requests_by_operation(sim)["service"] == 1
    ((deploy, _),) = [(e, e) for e in sim.exchanges if e.method == "POST"]
    assert b'"image_tag": "v2"' in deploy.body  # the job's source (an image) chose the value


@pytest.mark.parametrize(
    ("timeout", "first_read"),
    [("5s", 3.0), ("8s", 3.0), ("9s", 6.0), ("30m", 6.0)],  # one pause when the second would pass it
)
def test_the_first_read_waits_two_pauses_unless_the_timeout_comes_first(
    simulator: SimFactory, timeout: str, first_read: float
) -> None:
    sim = simulator(deployment(20))
    run = run_step(plain_env(inputs(job_id=JOB_ID, api_url=sim.url, timeout=timeout)))

    assert run.code in (0, 124), run.stderr
    posted = next(e.received_at for e in sim.exchanges if e.method == "POST")
    reads = [
        e.received_at - posted for e in sim.exchanges if e.path.endswith("/status") and e.received_at > posted
    ]
    assert round(reads[0], 2) == first_read
    assert run.json()["state"] in ("EXECUTING", "DEPLOYED")  # a state that was read, not the POST's QUEUED


@pytest.mark.parametrize("status", [403, 500])
def test_without_the_project_read_the_label_names_the_environment_and_says_why(
    simulator: SimFactory, status: int
) -> None:
    sim = simulator(deployment(5))
    sim.faults["projects"] = deque([Fault(status=status)] * 10)
    run = run_step(plain_env(inputs(job_id=JOB_ID, api_url=sim.url)))

    assert run.code == 0, run.stderr  # only a label: never a verdict
    assert sim.calls("projects") == 1  # one try: a name is not worth the step's patience
    (said,) = [line for line in run.stderr.splitlines() if "The project's name is unavailable (" in line]
    assert f"HTTP {status}" in said and said.endswith("; labels name the environment")
    assert "Deploying Qovery job migrate (production)" in run.stderr
    assert "migrate (shop / production)" not in run.stderr
