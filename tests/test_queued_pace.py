"""The pace while our deployment waits in Qovery's queue behind another deployment of its environment (the
simulator runs an environment's deployments one at a time): in process, on the virtual clock, through the
real client, engine and writers. What the service's history says of its length says nothing of the wait:
while it is seen queued, the status is read at the far pace (never faster than `poll-interval`), and the
dense reads around the expected end count from when it left the queue."""

from __future__ import annotations

import itertools

import pytest
from support.inputs import job_inputs
from support.sims import SimFactory, deploy_now, job
from support.step import plain_env, run_step

from qovery_job_deploy.api.models import History, ServiceStatus, Steps
from qovery_job_deploy.polling import Pacer
from qovery_job_deploy.simulator import DeploymentRequest, QoverySimulator

ENV = "e0e0e0e0-0000-4000-8000-0000000000c7"
PACE = 3.0  # the default `poll-interval`
# Ours: 2 s once it runs (its last run took 2 s, said by the status before the POST).
OURS = ((0.0, "QUEUED"), (0.5, "DEPLOYING"), (1.0, "EXECUTING"), (2.0, "DEPLOYED"))


def nightly(seconds: float) -> tuple[tuple[float, str], ...]:
    """Someone else's deployment of the environment, running when ours is requested."""
    return ((0.0, "QUEUED"), (1.0, "EXECUTING"), (seconds, "DEPLOYED"))


def reads_of(sim: QoverySimulator, path: str, request: DeploymentRequest) -> tuple[list[float], list[float]]:
    """The reads of `path` after our POST: those while our request waited in the queue, and those after."""
    moments = [e.received_at for e in sim.exchanges if e.path == path and e.received_at > request.created_at]
    return [m for m in moments if m < request.start], [m for m in moments if m >= request.start]


@pytest.mark.parametrize(
    ("history", "ahead", "late"),
    [
        # The last run's 2 s (the status before the POST says it): around its end, a read every second.
        ([2, 2, 2], 30.0, PACE / 3),
        ([2, 2, 2], 75.0, PACE / 3),
        # Nothing known: while queued, the first read's wait (two pauses), as after the POST.
        ([], 30.0, 2 * PACE),
        # A history that is wrong (40 s, where it runs 2 s): the far pace (9 s), then the steady one.
        ([40, 41, 39, 40], 30.0, 3 * PACE),
    ],
    ids=["last-run-2s-30s-wait", "last-run-2s-75s-wait", "no-history", "wrong-history-40s"],
)
def test_while_queued_the_status_is_read_at_the_far_pace(
    simulator: SimFactory, history: list[int], ahead: float, late: float
) -> None:
    other = job(*nightly(ahead), job_name="nightly-report", environment_id=ENV)
    ours = job(*OURS, past_durations=history, environment_id=ENV)
    sim = simulator(other, ours)
    deploy_now(sim, other)
    run = run_step(plain_env(job_inputs(sim, ours, **{"poll-interval": f"{PACE:g}s"})))

    assert run.code == 0, run.stderr
    (request,) = sim.deployments_of(ours.job_id)
    assert request.start == sim.deployments_of(other.job_id)[0].ends_at()  # it waited its turn
    queued, running = reads_of(sim, f"/job/{ours.job_id}/status", request)
    # The first read comes as the plan says (nothing shows the queue before it); after it, while queued,
    # never faster than `poll-interval`, and no more reads than a poller at `poll-interval` makes.
    gaps = [b - a for a, b in itertools.pairwise(queued)]
    assert gaps and min(gaps) >= PACE - 1e-6, queued
    assert len(queued) <= 1 + (request.start - request.created_at) / PACE, queued
    assert running and running[-1] - request.ends_at() <= late + 1e-6


def test_the_dense_window_starts_when_the_deployment_leaves_the_queue(simulator: SimFactory) -> None:
    """A 20 s job queued for 60 s: the reads around its end (from 20 s after it left the queue) are dense,
    and none of the queued ones are."""
    other = job(*nightly(60.0), job_name="nightly-report", environment_id=ENV)
    ours = job((0.0, "QUEUED"), (1.0, "EXECUTING"), (20.0, "DEPLOYED"), past_durations=[20, 20, 20])
    ours.environment_id = ENV
    sim = simulator(other, ours)
    deploy_now(sim, other)
    run = run_step(plain_env(job_inputs(sim, ours, **{"poll-interval": f"{PACE:g}s"})))

    assert run.code == 0, run.stderr
    (request,) = sim.deployments_of(ours.job_id)
    queued, running = reads_of(sim, f"/job/{ours.job_id}/status", request)
    assert len(queued) <= 60 / PACE
    near_the_end = [b - a for a, b in itertools.pairwise(running) if request.ends_at() - 4 <= a]
    assert near_the_end and max(near_the_end) <= PACE / 3 + 1e-6  # the dense pace
    assert running[-1] - request.ends_at() <= PACE / 3 + 1e-6


def test_three_services_queued_one_behind_the_other_read_their_environment_sparsely(
    simulator: SimFactory,
) -> None:
    """Three 2 s services of one environment, deployed at once: Qovery runs them one after another, each
    of the later ones queued. Their joint read comes no faster than `poll-interval` while all of them wait
    or run far from their ends."""
    other = job(*nightly(20.0), job_name="nightly-report", environment_id=ENV)
    scripts = [job(*OURS, job_name=name, environment_id=ENV, past_durations=[2, 2, 2]) for name in "abc"]
    sim = simulator(other, *scripts)
    deploy_now(sim, other)
    inputs = job_inputs(sim, scripts[0], **{"poll-interval": f"{PACE:g}s"}) | {"services": "a, b, c"}
    inputs["environment"] = ENV
    del inputs["job-id"]
    run = run_step(plain_env(inputs))

    assert run.code == 0, run.stderr
    first = sim.deployments_of(scripts[0].job_id)[0]
    joint = [
        e.received_at
        for e in sim.exchanges
        if e.path == f"/environment/{ENV}/statuses" and first.created_at < e.received_at < first.start
    ]
    assert joint and len(joint) <= 1 + (first.start - first.created_at) / PACE, joint
    assert min(b - a for a, b in itertools.pairwise(joint)) >= PACE - 1e-6, joint


# -- the pacer alone: told each read's moment and whether it saw the request queued, no clock -------------


class Said:
    """A log that keeps what it is told."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str) -> None:
        self.lines.append(message)

    def warning(self, message: str) -> None:
        self.lines.append(message)

    def state(self, state: str) -> None:
        self.lines.append(state)


def pacer(last: float | None, log: Said, posted_at: float = 0.0) -> Pacer:
    """A pacer at the default pace for a job whose last run took `last` seconds (None: nothing known)."""
    steps = Steps(total_duration_sec=last) if last is not None else None
    before = ServiceStatus(state="DEPLOYED", steps=steps)
    return Pacer(PACE, "DEPLOYED", before, History, log, posted_at=posted_at)


def follow(pace: Pacer, queued_until: float, until: float) -> list[tuple[float, bool]]:
    """The reads the pacer asks for, each with whether it saw the request queued (until `queued_until`)."""
    reads, at = [], pace.next_read(0.0)
    while at <= until:
        queued = at < queued_until
        reads.append((at, queued))
        at = pace.next_read(at, "QUEUED" if queued else None)
    return reads


def test_the_pacer_reads_the_queue_at_the_far_pace_then_densely_around_the_end_after_it() -> None:
    """The last run took 20 s: the window is 14-28 s after the start (0.75 x 20 - 1, 1.35 x 20 + 1), the far
    pace 14 / 3 s. Queued for 60 s, the reads come at the far pace while it waits; the window counts from
    the last read that saw it queued, and reaches as much further as when it left the queue is uncertain:
    the pause between that read and the first that did not see it queued."""
    log = Said()
    reads = follow(pacer(20.0, log), queued_until=60.0, until=120.0)

    queued = [at for at, seen in reads if seen]
    assert {round(b - a, 6) for a, b in itertools.pairwise(queued)} == {round(14 / 3, 6)}
    left, after = queued[-1], [at for at, seen in reads if not seen]
    uncertain = after[0] - left
    window = [at for at in after if left + 14.0 <= at <= left + 28.0 + uncertain]
    assert window and {round(b - a, 6) for a, b in itertools.pairwise(window)} == {PACE / 3}
    assert after[-1] - after[-2] == PACE  # past the window: the steady pace
    assert log.lines == ["The last deployment took 20s: reading densely around then"]


def test_the_pacer_says_now_and_then_that_the_request_is_still_queued() -> None:
    log = Said()
    follow(pacer(None, log), queued_until=200.0, until=200.0)

    reminders = [line for line in log.lines if line.startswith("Still QUEUED after ")]
    assert [line.split(":")[0] for line in reminders] == [
        "Still QUEUED after 60s",
        "Still QUEUED after 120s",
        "Still QUEUED after 180s",
    ]


@pytest.mark.parametrize("last", [2.0, 20.0, 40.0, None])
def test_while_queued_the_pacer_never_reads_faster_than_poll_interval(last: float | None) -> None:
    reads = follow(pacer(last, Said()), queued_until=120.0, until=120.0)

    queued = [at for at, seen in reads if seen]
    assert min(b - a for a, b in itertools.pairwise(queued)) >= PACE
