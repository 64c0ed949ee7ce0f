"""The step's verdict for each force-event, and for deployments that Qovery queues behind another one of
their environment: in-process, on a virtual clock, through the real client, engine and writers, every
exchange checked against the OpenAPI spec."""

from __future__ import annotations

import itertools
import json
import re
from collections import deque
from dataclasses import dataclass, field

import pytest
from support.inputs import job_inputs, release_inputs, service
from support.sims import SimFactory, deploy_now, job
from support.step import StepRun, plain_env, run_step

from qovery_job_deploy.simulator import DEFAULT_ERROR, Fault, QoverySimulator

OK = ((0.0, "QUEUED"), (0.5, "DEPLOYING"), (1.0, "EXECUTING"), (2.0, "DEPLOYED"))
BAD = ((0.0, "QUEUED"), (0.5, "DEPLOYING"), (1.0, "EXECUTING"), (2.0, "DEPLOYMENT_ERROR"))
ENV = "e0e0e0e0-0000-4000-8000-0000000000c1"


def logged_states(run: StepRun) -> list[str]:
    """The states the step logged, in order (`[  2s] STOPPING`)."""
    return re.findall(r"^\[ *\d+s\] ([A-Z_]+)$", run.stderr, flags=re.MULTILINE)


def seconds_at(run: StepRun, state: str) -> int:
    """When the step logged `state`, in seconds since it started."""
    found = re.search(rf"^\[ *(\d+)s\] {state}$", run.stderr, flags=re.MULTILINE)
    assert found, run.stderr
    return int(found.group(1))


@dataclass(frozen=True)
class Forced:
    event: str
    timeline: tuple[tuple[float, str], ...]
    code: int
    verdict: str
    states: tuple[str, ...]  # what the step logs, the last one its result's state
    message: str
    event_timelines: dict[str, list[tuple[float, str]]] = field(default_factory=dict)


FORCED = [
    Forced("START", OK, 0, "succeeded", ("QUEUED", "DEPLOYING", "EXECUTING", "DEPLOYED"), "The job reached DEPLOYED."),
    Forced("CRON", OK, 0, "succeeded", ("QUEUED", "DEPLOYING", "EXECUTING", "DEPLOYED"), "The job reached DEPLOYED."),
    Forced("CRON", BAD, 1, "failed", ("QUEUED", "DEPLOYING", "EXECUTING", "DEPLOYMENT_ERROR"),
           "The deployment ended in DEPLOYMENT_ERROR; DEPLOYED was expected."),
    Forced("STOP", OK, 0, "succeeded", ("STOP_QUEUED", "STOPPING", "STOPPED"), "The job reached STOPPED."),
    Forced("STOP", BAD, 1, "failed", ("STOP_QUEUED", "STOPPING", "STOP_ERROR"),
           "The deployment ended in STOP_ERROR; STOPPED was expected."),
    Forced("DELETE", OK, 0, "succeeded", ("DELETE_QUEUED", "DELETING", "DELETED"), "The job reached DELETED."),
    Forced("DELETE", BAD, 1, "failed", ("DELETE_QUEUED", "DELETING", "DELETE_ERROR"),
           "The deployment ended in DELETE_ERROR; DELETED was expected."),
    # Qovery settled a STOP as DEPLOYED: the state asked for was not reached.
    Forced("STOP", OK, 1, "failed", ("STOP_QUEUED", "DEPLOYED"), "The deployment ended in DEPLOYED, expected STOPPED.",
           {"STOP": [(0.0, "STOP_QUEUED"), (1.0, "DEPLOYED")]}),
]  # fmt: skip


@pytest.mark.parametrize("case", FORCED, ids=[f"{c.event}-{c.states[-1]}" for c in FORCED])
def test_each_force_event_passes_on_its_own_end_state_only(simulator: SimFactory, case: Forced) -> None:
    script = job(*case.timeline, event_timelines=case.event_timelines)
    sim = simulator(script)
    run = run_step(plain_env(job_inputs(sim, script, **{"force-event": case.event.lower()})))

    assert run.code == case.code, run.stderr
    (deploy,) = [e for e in sim.exchanges if e.method == "POST"]
    assert deploy.query == {"forceEvent": [case.event]}
    assert tuple(logged_states(run)) == case.states
    result = run.json()
    assert (result["verdict"], result["state"]) == (case.verdict, case.states[-1])
    assert result["message"].startswith(case.message)
    assert f"{case.verdict}: {case.message}" in run.stderr
    (ours,) = sim.deployments_of(script.job_id)
    assert result["deployment_request_id"] == ours.id and ours.state_at(float("inf")) == case.states[-1]
    # An error state comes with Qovery's own diagnosis, read from the deployment log.
    diagnosed = f"Qovery: {DEFAULT_ERROR['user_log_message']}" in run.stderr
    assert diagnosed == case.states[-1].endswith("_ERROR")


# -- queued behind another deployment of the environment ------------------------------------------------


def queued_behind(
    simulator: SimFactory, ours_timeline: tuple[tuple[float, str], ...] = OK
) -> tuple[QoverySimulator, str, str]:
    """A simulator where someone else's 60 s deployment of the environment runs; then ours is requested."""
    ahead = job(
        (0.0, "QUEUED"), (1.0, "EXECUTING"), (60.0, "DEPLOYED"), job_name="nightly", environment_id=ENV
    )
    ours = job(*ours_timeline, environment_id=ENV)
    sim = simulator(ahead, ours)
    deploy_now(sim, ahead)
    return sim, ahead.job_id, ours.job_id


@pytest.mark.parametrize(("timeline", "code", "state"), [(OK, 0, "DEPLOYED"), (BAD, 1, "DEPLOYMENT_ERROR")])
def test_a_queued_deployment_waits_its_turn_then_gets_its_own_verdict(
    simulator: SimFactory, timeline: tuple[tuple[float, str], ...], code: int, state: str
) -> None:
    sim, ahead, ours = queued_behind(simulator, timeline)
    run = run_step(plain_env(job_inputs(sim, sim.services[ours])))

    assert run.code == code, run.stderr
    assert logged_states(run) == ["QUEUED", "DEPLOYING", "EXECUTING", state]
    assert seconds_at(run, "DEPLOYING") >= 60  # it left the queue only when the one ahead of it ended
    result = run.json()
    assert result["state"] == state and result["steps"][0]["step_name"] == "DEPLOYMENT_QUEUEING"
    assert result["steps"][0]["duration_sec"] == 60
    (request,) = sim.deployments_of(ours)
    (before,) = sim.deployments_of(ahead)
    assert request.start == before.ends_at() and result["deployment_request_id"] == request.id


@pytest.mark.parametrize(
    ("cancel", "ending", "ours_ends"),
    [
        (
            "false",
            ". The deployment stays queued in Qovery, and runs in its turn: raise `timeout`, or set "
            "`cancel-on-timeout` to cancel it when the wait runs out.",
            "DEPLOYED",
        ),
        ("true", "; our deployment request was cancelled.", "CANCELED"),
    ],
)
def test_a_timeout_while_queued_says_it_never_left_the_queue(
    simulator: SimFactory, cancel: str, ending: str, ours_ends: str
) -> None:
    sim, ahead, ours = queued_behind(simulator)
    run = run_step(
        plain_env(job_inputs(sim, sim.services[ours], timeout="20s", **{"cancel-on-timeout": cancel}))
    )

    assert run.code == 124, run.stderr
    result = run.json()
    assert (result["verdict"], result["state"]) == ("timed_out", "QUEUED")
    assert result["message"] == (
        "Timed out with the deployment still queued (QUEUED): it never left Qovery's queue, where an "
        f"environment's deployments wait for the one before them to end{ending}"
    )
    assert logged_states(run) == ["QUEUED"]
    (request,) = sim.deployments_of(ours)
    assert request.state_at(float("inf")) == ours_ends
    assert sim.deployments_of(ahead)[0].state_at(float("inf")) == "DEPLOYED"  # only ours was cancelled
    assert sim.calls("cancel") == (cancel == "true")


def test_a_release_at_once_is_queued_by_qovery_and_each_service_keeps_its_verdict(
    simulator: SimFactory,
) -> None:
    scripts = [
        job(*timeline, job_name=name, environment_id=ENV)
        for name, timeline in (("one", OK), ("two", BAD), ("three", OK))
    ]
    sim = simulator(*scripts)
    inputs = job_inputs(sim, scripts[0]) | {"services": "one, two, three", "environment": ENV}
    del inputs["job-id"]
    run = run_step(plain_env(inputs))

    assert run.code == 1, run.stderr
    services = run.json()["services"]
    assert [(s["name"], s["verdict"], s["state"]) for s in services] == [
        ("one", "succeeded", "DEPLOYED"),
        ("two", "failed", "DEPLOYMENT_ERROR"),
        ("three", "succeeded", "DEPLOYED"),
    ]
    requests = [sim.deployments_of(script.job_id)[0] for script in scripts]
    assert len({request.created_at for request in requests}) == 1  # requested at once
    assert [later.start for later in requests[1:]] == [earlier.ends_at() for earlier in requests[:-1]]
    assert json.loads(run.stdout)["duration_seconds"] >= 6  # three 2 s deployments, one after another


def test_the_pace_and_the_log_wait_with_a_queued_deployment(simulator: SimFactory) -> None:
    """Its history says how long it runs, not how long it waits: the dense reads come around its end
    counted from when it left the queue, and a long wait in the queue is said again now and then."""
    ahead = job(
        (0.0, "QUEUED"), (1.0, "EXECUTING"), (150.0, "DEPLOYED"), job_name="nightly", environment_id=ENV
    )
    ours = job((0.0, "QUEUED"), (1.0, "EXECUTING"), (20.0, "DEPLOYED"), past_durations=[20, 20, 20])
    ours.environment_id = ENV
    sim = simulator(ahead, ours)
    deploy_now(sim, ahead)
    run = run_step(plain_env(job_inputs(sim, ours, **{"poll-interval": "3s"})))

    assert run.code == 0, run.stderr
    (request,) = sim.deployments_of(ours.job_id)
    assert request.start == sim.deployments_of(ahead.job_id)[0].ends_at()  # it waited 150 s
    reads = [e.received_at for e in sim.exchanges if e.path == f"/job/{ours.job_id}/status"]
    near_the_end = [
        b - a for a, b in itertools.pairwise(reads) if request.ends_at() - 5 <= a <= request.ends_at()
    ]
    assert near_the_end and max(near_the_end) <= 1.0 + 1e-6  # the dense pace, a third of `poll-interval`
    assert seconds_at(run, "DEPLOYED") <= request.ends_at() + 1
    reminders = re.findall(r"Still QUEUED after (\d+)s: Qovery has not started it yet", run.stderr)
    assert len(reminders) == 2 and all(60 <= int(after) < 150 for after in reminders)


@pytest.mark.parametrize(
    ("kind", "noun", "deploys"),
    [
        ("container", "container", {"image_tag": "v0"}),
        ("helm", "helm chart", {"chart_version": "0.1.0"}),
        ("job", "job", {"image_tag": "v0"}),
    ],
)
def test_a_busy_service_s_queue_that_cannot_be_read_is_said_of_its_type(
    simulator: SimFactory, kind: str, noun: str, deploys: dict[str, str]
) -> None:
    """Before the POST, a busy service's queue is read (best effort): its failure is one line, which
    calls the service by its type, and the deployment goes on."""
    script = service(kind, "svc", length=2.0)
    script.faults["queue"] = deque([Fault(status=403)])
    sim = simulator(script)
    sim.allowed_deviations = ("Unknown response http status: 403",)  # the spec lists only its 200
    deploy_now(sim, script, **deploys)  # someone else's deployment: it is busy
    run = run_step(plain_env(release_inputs(sim, f"{kind}:svc")))

    assert run.code == 0, run.stderr
    assert sim.calls("queue") == 1
    assert f"The {noun}'s deployment queue could not be read (" in run.stderr
