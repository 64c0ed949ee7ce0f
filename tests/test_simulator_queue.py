"""The simulator plays what Qovery does with a forced event (STOP, DELETE and CRON lead to their own states)
and with several requests of one environment (they queue, and run one at a time, in order). Driven here
through `requests` and the in-process transport, every exchange checked against Qovery's OpenAPI spec."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from support.client import Client
from support.sims import SimFactory, job

OK = ((0.0, "QUEUED"), (0.3, "DEPLOYING"), (0.6, "EXECUTING"), (1.0, "DEPLOYED"))
BAD = ((0.0, "QUEUED"), (0.3, "DEPLOYING"), (0.6, "EXECUTING"), (1.0, "DEPLOYMENT_ERROR"))


@dataclass(frozen=True)
class Forced:
    """A job deployed with a forceEvent: what its status shows, and how its action ends."""

    event: str | None
    timeline: tuple[tuple[float, str], ...]
    seen: tuple[str, ...]  # every state of our request, in order
    action: str  # status_details.action
    ends: str  # status_details.status once over
    event_timelines: dict[str, list[tuple[float, str]]] = field(default_factory=dict)


FORCED = [
    Forced(None, OK, ("QUEUED", "DEPLOYING", "EXECUTING", "DEPLOYED"), "DEPLOY", "SUCCESS"),
    Forced("START", BAD, ("QUEUED", "DEPLOYING", "EXECUTING", "DEPLOYMENT_ERROR"), "DEPLOY", "ERROR"),
    Forced("CRON", OK, ("QUEUED", "DEPLOYING", "EXECUTING", "DEPLOYED"), "DEPLOY", "SUCCESS"),
    Forced("STOP", OK, ("STOP_QUEUED", "STOPPING", "STOPPED"), "STOP", "SUCCESS"),
    Forced("STOP", BAD, ("STOP_QUEUED", "STOPPING", "STOP_ERROR"), "STOP", "ERROR"),
    Forced("DELETE", OK, ("DELETE_QUEUED", "DELETING", "DELETED"), "DELETE", "SUCCESS"),
    Forced("DELETE", BAD, ("DELETE_QUEUED", "DELETING", "DELETE_ERROR"), "DELETE", "ERROR"),
    # A script may give an event a path of its own: here a STOP that Qovery settles as DEPLOYED.
    Forced(
        "STOP",
        OK,
        ("STOP_QUEUED", "DEPLOYED"),
        "STOP",
        "SUCCESS",
        {"STOP": [(0.0, "STOP_QUEUED"), (0.4, "DEPLOYED")]},
    ),
]


@pytest.mark.parametrize("case", FORCED, ids=[f"{c.event}-{c.seen[-1]}" for c in FORCED])
def test_a_forced_event_leads_the_job_through_its_own_states(simulator: SimFactory, case: Forced) -> None:
    script = job(*case.timeline, event_timelines=case.event_timelines)
    client = Client(simulator(script))
    query = {"forceEvent": case.event} if case.event else {}

    answer = client.deploy("job", script.job_id, None, query)

    assert answer.status_code == 202
    accepted = answer.json()
    assert (accepted["state"], accepted["status_details"]["action"]) == (case.seen[0], case.action)
    ours = accepted["deployment_request_id"]
    (queued,) = client.ok(f"/service/{script.job_id}/deploymentQueue")["results"]
    assert (queued["identifier"]["deployment_request_id"], queued["status_details"]["action"]) == (
        ours,
        case.action,
    )
    seen, status = client.follow("job", script.job_id, ours)
    assert tuple(seen) == case.seen
    assert status["status_details"] == {"action": case.action, "status": case.ends, "sub_action": "NONE"}
    assert client.ok("/environment/deploymentStatus", deploymentRequestId=ours)["status"] == case.seen[-1]
    (request,) = client.sim.deployments_of(script.job_id)
    log = client.ok(f"/environment/{script.environment_id}/logs", version=request.execution_id)
    mine = [e["message"]["safe_message"] for e in log if e["details"]["transmitter"]["id"] == script.job_id]
    assert mine[-1] == f"migrate: {case.seen[-1]}"
    assert client.sim.contract_errors == []


ENV, ELSEWHERE = "e0e0e0e0-0000-4000-8000-0000000000e1", "e0e0e0e0-0000-4000-8000-0000000000e2"
# The services of the table below: two of one environment (2 s and 1 s long), one of another (1 s).
SERVICES = {
    "long": ((0.0, "QUEUED"), (0.5, "EXECUTING"), (2.0, "DEPLOYED")),
    "short": ((0.0, "QUEUED"), (0.5, "EXECUTING"), (1.0, "DEPLOYED")),
    "elsewhere": ((0.0, "QUEUED"), (0.5, "EXECUTING"), (1.0, "DEPLOYED")),
}


@dataclass(frozen=True)
class Play:
    """At `at` seconds, deploy `service` (with `event`), or cancel the `cancel`-th request made so far."""

    at: float
    service: str = ""
    event: str | None = None
    cancel: int | None = None


@dataclass(frozen=True)
class Queueing:
    what: str
    plays: tuple[Play, ...]
    # Each request, in the order made: when it left the queue (None: it never ran), when it ended, how.
    runs: tuple[tuple[float | None, float, str], ...]


QUEUEING = [
    Queueing(
        "one environment runs one request at a time, in the order they came",
        (Play(0.0, "long"), Play(0.1, "short"), Play(0.2, "long")),
        ((0.0, 2.0, "DEPLOYED"), (2.0, 3.0, "DEPLOYED"), (3.0, 5.0, "DEPLOYED")),
    ),
    Queueing(
        "another environment's request does not wait",
        (Play(0.0, "long"), Play(0.1, "elsewhere")),
        ((0.0, 2.0, "DEPLOYED"), (0.1, 1.1, "DEPLOYED")),
    ),
    Queueing(
        "a request cancelled while it runs lets the next one start",
        (Play(0.0, "long"), Play(0.1, "short"), Play(1.0, cancel=0)),
        ((0.0, 1.0, "CANCELED"), (1.0, 2.0, "DEPLOYED")),
    ),
    Queueing(
        "a request cancelled while it waits never runs, and the one behind it moves up",
        (Play(0.0, "long"), Play(0.1, "short"), Play(0.2, "long"), Play(0.5, cancel=1)),
        ((0.0, 2.0, "DEPLOYED"), (None, 0.5, "CANCELED"), (2.0, 4.0, "DEPLOYED")),
    ),
    Queueing(
        "a STOP waits behind a deploy as a deploy does",
        (Play(0.0, "long"), Play(0.1, "short", "STOP")),
        ((0.0, 2.0, "DEPLOYED"), (2.0, 3.0, "STOPPED")),
    ),
]


@pytest.mark.parametrize("case", QUEUEING, ids=[case.what for case in QUEUEING])
def test_an_environment_deploys_one_request_at_a_time(simulator: SimFactory, case: Queueing) -> None:
    scripts = {
        name: job(*timeline, job_name=name, environment_id=ELSEWHERE if name == "elsewhere" else ENV)
        for name, timeline in SERVICES.items()
    }
    client = Client(simulator(*scripts.values()))
    sim, started = client.sim, client.now()
    made: list[str] = []
    for play in case.plays:
        client.sleep(started + play.at - client.now())
        if play.cancel is not None:
            canceled = client.session.post(f"{sim.url}/deploymentQueue/{made[play.cancel]}/cancelDeployment")
            assert canceled.status_code == 202
        else:
            query = {"forceEvent": play.event} if play.event else {}
            made.append(
                client.deploy("job", scripts[play.service].job_id, None, query).json()[
                    "deployment_request_id"
                ]
            )
    client.sleep(started + 10.0 - client.now())

    runs = []
    for request_id in made:
        request = sim.requests[request_id]
        ran = request.canceled_at is None or request.canceled_at > request.start
        end = request.ends_at() - started
        runs.append(
            (
                round(request.start - started, 6) if ran else None,
                round(end, 6),
                request.state_at(client.now()),
            )
        )
        assert sim.terminal_at[request_id] - started == pytest.approx(end)  # what the benchmarks read
        status = client.ok("/environment/deploymentStatus", deploymentRequestId=request_id)
        assert status["status"] == runs[-1][2]
    assert tuple(runs) == case.runs
    assert sim.contract_errors == []


def test_a_request_waiting_its_turn_shows_as_queued_everywhere(simulator: SimFactory) -> None:
    ahead, ours = (job(*SERVICES["long"], job_name=name, environment_id=ENV) for name in ("ahead", "ours"))
    client = Client(simulator(ahead, ours))
    client.deploy("job", ahead.job_id, None, {})
    waiting = client.deploy("job", ours.job_id, None, {"forceEvent": "STOP"}).json()["deployment_request_id"]
    client.sleep(1.5)  # the one ahead executes; ours waits

    status = client.ok(f"/job/{ours.job_id}/status")
    assert (status["deployment_request_id"], status["state"]) == (waiting, "STOP_QUEUED")
    assert status["status_details"] == {"action": "STOP", "status": "QUEUED", "sub_action": "NONE"}
    (queued,) = client.ok(f"/service/{ours.job_id}/deploymentQueue")["results"]
    assert queued["identifier"]["deployment_request_id"] == waiting
    statuses = client.ok(f"/environment/{ENV}/statuses")
    assert {s["id"]: s["state"] for s in statuses["jobs"]} == {
        ahead.job_id: "EXECUTING",
        ours.job_id: "STOP_QUEUED",
    }
    assert statuses["environment"]["state"] == "DEPLOYING"
    version = client.sim.requests[waiting].execution_id
    log = client.ok(f"/environment/{ENV}/logs", version=version)
    assert not [e for e in log if e["details"]["transmitter"]["id"] == ours.job_id]  # nothing ran yet

    seen, ended = client.follow("job", ours.job_id, waiting)
    assert seen == ["STOP_QUEUED", "STOPPING", "STOPPED"]
    queueing = ended["steps"]["details"][0]
    assert (queueing["step_name"], queueing["duration_sec"]) == ("DEPLOYMENT_QUEUEING", 2)
    assert client.ok(f"/service/{ours.job_id}/deploymentQueue")["results"] == []
    assert client.sim.contract_errors == []
